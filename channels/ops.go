package channels

import (
	"context"

	"strings"
)

// update reads a channel, lets change modify it, and writes it back sealed
// with the current key; a concurrent change makes it start over (once).
func (r *Registry) update(ctx context.Context, key string, change func(c *Channel) error) (*Channel, error) {
	for attempt := 0; ; attempt++ {
		c, err := r.Load(ctx, key)
		if err != nil {
			return nil, err
		}
		if err := change(c); err != nil {
			return nil, err
		}
		stored, err := r.put(ctx, c)
		if CodeOf(err) == Conflict && attempt == 0 {
			continue
		}
		return stored, err
	}
}

// SetToken sets the channel's Turn token (issued in Turn's UI).
func (r *Registry) SetToken(ctx context.Context, key, token string) (View, error) {
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return View{}, errorf(Invalid, nil, "the Turn token must be given, without spaces")
	}
	c, err := r.update(ctx, key, func(c *Channel) error {
		c.Secrets.TurnToken = token
		return nil
	})
	if err != nil {
		return View{}, err
	}
	r.log.Info("channel turn token set", "channel", key)
	return r.view(c, nil), nil
}

// SetDisabled disables a channel (it is no longer served; its stored
// messages, and the updates Telegram holds for it, wait) or enables it again.
func (r *Registry) SetDisabled(ctx context.Context, key string, disabled bool) (View, error) {
	c, err := r.update(ctx, key, func(c *Channel) error {
		c.Disabled = disabled
		return nil
	})
	if err != nil {
		return View{}, err
	}
	r.log.Info("channel "+map[bool]string{true: "disabled", false: "enabled"}[disabled], "channel", key)
	return r.view(c, nil), nil
}

// Remove deletes a channel: its bot's webhook is deleted at Telegram (the
// updates it holds are kept), and the stored channel and its secrets are
// erased. Messages already queued for it stay in the queue, to be discarded
// or served again if the channel is added back under the same key. The
// Turn channel itself is not deleted: Turn's API has no call for that.
func (r *Registry) Remove(ctx context.Context, key string) ([]string, error) {
	var warnings []string
	c, err := r.Load(ctx, key)
	switch {
	case CodeOf(err) == Internal:
		// Unopenable: remove it all the same; the webhook stays.
		warnings = append(warnings, "the bot's webhook was not deleted: "+MessageOf(err))
	case err != nil:
		return nil, err
	default:
		if tg, terr := r.telegram(c.Secrets.BotToken); terr == nil {
			if derr := tg.DeleteWebhook(ctx); derr != nil {
				derr = tg.Scrub(derr)
				r.log.Warn("could not delete the bot's webhook", "channel", key, "err", derr)
				warnings = append(warnings, "the bot's webhook was not deleted ("+derr.Error()+")")
			}
		}
	}
	if err := r.cfg.Store.DeleteChannel(ctx, key); err != nil {
		return nil, storeError(err, key)
	}
	r.log.Info("channel removed", "channel", key)
	return warnings, nil
}

// RotateResult counts what RotateKey did.
type RotateResult struct {
	Resealed int      `json:"resealed"` // now sealed with SECRET_KEY
	Current  int      `json:"current"`  // were already
	Failed   []string `json:"failed"`   // keys of channels that did not open
}

// RotateKey re-seals every channel not sealed with the current key
// (SECRET_KEY) after opening it with a previous one (SECRET_KEY_PREVIOUS).
// Channels that open with neither are listed in Failed and left as they are.
func (r *Registry) RotateKey(ctx context.Context) (RotateResult, error) {
	res := RotateResult{Failed: []string{}}
	recs, err := r.cfg.Store.Channels(ctx, 0)
	if err != nil {
		return res, errorf(Unavailable, err, "the store failed")
	}
	current := r.cfg.Keys.CurrentID()
	for _, rec := range recs {
		if rec.Deleted {
			continue
		}
		if rec.KeyID == current {
			res.Current++
			continue
		}
		_, err := r.update(ctx, rec.Key, func(*Channel) error { return nil })
		switch {
		case err == nil:
			res.Resealed++
			r.log.Info("channel secrets resealed", "channel", rec.Key, "from_key", rec.KeyID, "to_key", current)
		case CodeOf(err) == NotFound:
			// Removed meanwhile.
		case CodeOf(err) == Internal:
			res.Failed = append(res.Failed, rec.Key)
			r.log.Error("channel secrets cannot be resealed", "channel", rec.Key, "key_id", rec.KeyID, "err", err)
		default:
			return res, err
		}
	}
	return res, nil
}
