package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// statusPayload is the payload of a KindStatus job: one status report for
// Turn.
type statusPayload struct {
	TurnID      string `json:"id"`
	Status      string `json:"status"`
	Timestamp   int64  `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
}

// readReceipts asks the store to mark a chat's sent messages read when the
// person is seen, and to queue "delivered" then "read" for each, oldest
// first, in the chat's status lane.
func readReceipts(channel string, chat int64, at time.Time) store.Receipts {
	return store.Receipts{
		Channel: channel, ChatID: chat, At: at, Lane: statusLane(chat),
		Jobs: func(read []store.ReadMessage) []store.NewJob {
			jobs := make([]store.NewJob, 0, 2*len(read))
			for _, m := range read {
				jobs = append(jobs,
					statusJob(channel, chat, m.TurnID, turn.StatusDelivered, at),
					statusJob(channel, chat, m.TurnID, turn.StatusRead, at))
			}
			return jobs
		},
	}
}

// statusLane is the lane of a chat's status reports, so that they reach
// Turn in the order they happened.
func statusLane(chat int64) string { return "status:" + strconv.FormatInt(chat, 10) }

// deliverStatus reports one status to Turn. Turn's documented statuses are
// sent, delivered and read; "failed" is not documented and may be refused,
// which is logged and accepted as the end of that report.
func (s *Service) deliverStatus(ctx context.Context, ch *Channel, t *delivery.Task) error {
	var p statusPayload
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return delivery.Permanent(fmt.Errorf("stored status undecodable: %w", err))
	}
	err := ch.Turn.SendStatus(ctx, &turn.Status{Status: turn.StatusObject{
		ID: p.TurnID, Status: p.Status, Timestamp: strconv.FormatInt(p.Timestamp, 10), RecipientID: p.RecipientID,
	}})
	var api *turn.APIError
	if err != nil && p.Status == turn.StatusFailed && errors.As(err, &api) && api.StatusCode == 400 {
		ch.log.Info("turn refused the failed status", "turn_id", p.TurnID, "err", err)
		return nil
	}
	if err != nil {
		return classifyTurn(err)
	}
	statusesSent.WithLabelValues(ch.Config.Key, p.Status).Inc()
	return nil
}
