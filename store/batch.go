package store

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Status values the store itself queues for read receipts.
const (
	statusDelivered = "delivered"
	statusRead      = "read"
)

// checkJobs rejects jobs that could not be ordered or claimed.
func checkJobs(jobs []NewJob) error {
	for i, j := range jobs {
		switch {
		case j.Channel == "":
			return fmt.Errorf("job %d: empty Channel", i)
		case j.Kind == "":
			return fmt.Errorf("job %d: empty Kind", i)
		case j.Lane == "":
			return fmt.Errorf("job %d: empty Lane", i)
		}
	}
	return nil
}

// payloadOf never returns nil: the payload columns are NOT NULL.
func payloadOf(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}

// sentRow is an unread sent message found for a Receipts.
type sentRow struct {
	id     int64
	turnID string
	sentAt time.Time
}

// receiptJobs builds, for the unread messages rows of r's chat, a delivered
// then a read status job each, oldest message first.
func receiptJobs(r Receipts, rows []sentRow, now time.Time) ([]NewJob, error) {
	slices.SortFunc(rows, func(a, b sentRow) int {
		if c := a.sentAt.Compare(b.sentAt); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	at := orNow(r.At, now)
	recipient := strconv.FormatInt(r.ChatID, 10)
	jobs := make([]NewJob, 0, 2*len(rows))
	for _, row := range rows {
		for _, status := range []string{statusDelivered, statusRead} {
			payload, err := json.Marshal(StatusPayload{
				TurnID:      row.turnID,
				Status:      status,
				Timestamp:   at.Unix(),
				RecipientID: recipient,
			})
			if err != nil {
				return nil, fmt.Errorf("status payload: %w", err)
			}
			jobs = append(jobs, NewJob{
				Channel: r.Channel,
				Kind:    KindStatus,
				Lane:    StatusLane(r.ChatID),
				Payload: payload,
			})
		}
	}
	return jobs, nil
}
