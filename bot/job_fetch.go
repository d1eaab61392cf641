package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/turn-telegram/turn-telegram/bot/render"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
)

// fetchJob is the payload of a KindFetch job: a link to download, or one of
// two notes about a file, queued in the file's fetch lane (so they run after
// any fetch of it still pending) in the same transaction as a job's death.
type fetchJob struct {
	render.MediaRef
	// Failed: the fetch job died; record why, so the message waiting for
	// the file fails with that reason instead of waiting.
	Failed string `json:"failed,omitempty"`
	// Discard: the message died; forget the file.
	Discard bool `json:"discard,omitempty"`
}

// fetchLane is the lane of a file's fetch job and of the notes about it.
func fetchLane(key string) string { return "fetch:" + key }

// mediaNote is a fetch-lane job carrying a note about the file under key.
func mediaNote(channel string, j fetchJob) store.NewJob {
	p, _ := json.Marshal(j)
	return store.NewJob{Channel: channel, Kind: store.KindFetch, Lane: fetchLane(j.Key), Payload: p}
}

// deliverFetch downloads a Turn media link into the store while it is
// valid, or applies a note about a file.
func (s *Service) deliverFetch(ctx context.Context, ch *Channel, t *delivery.Task) error {
	var j fetchJob
	if err := json.Unmarshal(t.Payload, &j); err != nil || j.Key == "" {
		return delivery.Permanent(fmt.Errorf("stored fetch undecodable: %v", err))
	}
	switch {
	case j.Discard:
		if err := s.st.DeleteMedia(ctx, ch.Config.Key, j.Key); err != nil {
			return delivery.Retry(fmt.Errorf("discard media: %w", err))
		}
		return nil
	case j.Failed != "":
		if err := s.st.FailMedia(ctx, ch.Config.Key, j.Key, j.Failed); err != nil {
			return delivery.Retry(fmt.Errorf("record media failure: %w", err))
		}
		return nil
	}
	if _, r, err := s.st.OpenMedia(ctx, ch.Config.Key, j.Key); err == nil {
		r.Close()
		return nil // fetched by an earlier attempt whose end was not recorded
	}
	err := s.fetchMedia(ctx, ch, &j.MediaRef)
	if err != nil {
		// Whatever ends this job, this error or the engine giving up after
		// it, the message waiting for the file must hear of it.
		t.OnDead(store.Batch{Jobs: []store.NewJob{
			mediaNote(ch.Config.Key, fetchJob{MediaRef: render.MediaRef{Key: j.Key}, Failed: reasonOf(err)}),
		}})
	}
	return err
}

// reasonOf is a classified error's message without its class.
func reasonOf(err error) string {
	var de *delivery.Error
	if errors.As(err, &de) && de.Err != nil {
		return de.Err.Error()
	}
	return err.Error()
}
