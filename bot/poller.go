package bot

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// Poll long-polls getUpdates for a channel until ctx ends. The offset given
// to Telegram (which makes it forget earlier updates) only ever moves past
// updates stored in the same transaction as the new offset, so a crash at
// any moment loses nothing: unstored updates are fetched again.
func (s *Service) Poll(ctx context.Context, ch *Channel) error {
	log := ch.log.With("source", "polling")
	backoff := time.Duration(0)
	pause := func() {
		backoff = min(max(2*backoff, 500*time.Millisecond), 30*time.Second)
		t := time.NewTimer(backoff)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	for ctx.Err() == nil {
		offset, err := s.st.Offset(ctx, ch.Config.Key)
		if err != nil {
			log.Warn("read offset failed", "err", err)
			pause()
			continue
		}
		raws, err := ch.TG.getUpdates(ctx, offset, 25*time.Second, AllowedUpdates)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var api *APIError
			if errors.As(err, &api) && api.Code == 409 {
				log.Error("getUpdates conflict: another poller or a webhook is active for this bot", "err", err)
			} else {
				log.Warn("getUpdates failed", "err", err)
			}
			pause()
			continue
		}
		if len(raws) == 0 {
			backoff = 0
			continue
		}
		b, err := s.pollBatch(ch, raws)
		if err != nil {
			log.Error("undecodable getUpdates answer", "err", err)
			pause()
			continue
		}
		if _, err := s.st.Enqueue(ctx, b); err != nil {
			log.Error("store updates failed; will fetch them again", "err", err)
			pause()
			continue
		}
		backoff = 0
		s.notify(store.KindUpdate)
	}
	return nil
}

func (s *Service) pollBatch(ch *Channel, raws []json.RawMessage) (store.Batch, error) {
	b := store.Batch{}
	var next int64
	for _, raw := range raws {
		var probe struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return b, err
		}
		next = max(next, probe.UpdateID+1)
		job, skip, err := updateJob(ch.Config.Key, raw)
		switch {
		case err != nil:
			ch.skipped("malformed", raw)
		default:
			if skip != "" {
				ch.skipped(skip, raw)
			}
			if job.Kind != "" {
				b.Jobs = append(b.Jobs, job)
				updatesAccepted.WithLabelValues("stored").Inc()
			}
		}
	}
	b.Offset = &store.Offset{Channel: ch.Config.Key, Next: next}
	return b, nil
}
