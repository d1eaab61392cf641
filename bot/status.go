package bot

import (
	"strconv"
	"time"

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
