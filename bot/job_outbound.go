package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/render"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// deliverOutbound sends a stored plan to Telegram, part by part. Each
// accepted part is recorded (Advance) before the next is sent, so a retry or
// a restart resumes at the first part Telegram has not accepted; Turn hears
// "sent" once, with the last part.
func (s *Service) deliverOutbound(ctx context.Context, ch *Channel, t *delivery.Task) error {
	var p render.Plan
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return delivery.Permanent(fmt.Errorf("stored plan undecodable: %w", err))
	}
	log := ch.log.With("turn_id", p.TurnID, "chat", p.ChatID)
	// If the message dies, Turn hears "failed" and its files are discarded
	// (after any fetch of them still pending: the notes share its lane).
	dead := []store.NewJob{statusJob(ch.Config.Key, p.ChatID, p.TurnID, turn.StatusFailed, time.Now())}
	for _, part := range p.Parts {
		if part.Media != nil {
			dead = append(dead, mediaNote(ch.Config.Key, fetchJob{MediaRef: render.MediaRef{Key: part.Media.Key}, Discard: true}))
		}
	}
	t.OnDead(store.Batch{Jobs: dead})

	gone, reason, err := s.st.ChatGone(ctx, ch.Config.Key, p.ChatID)
	if err != nil {
		return delivery.Retry(fmt.Errorf("check chat: %w", err))
	}
	if gone {
		return delivery.Gone(fmt.Errorf("chat is unreachable (%s) until the person writes again", reason))
	}
	for i := t.Progress; i < len(p.Parts); i++ {
		msgID, err := s.sendPart(ctx, ch, p.ChatID, p.Parts[i], t.CreatedAt)
		if err != nil {
			var classified *delivery.Error
			if !errors.As(err, &classified) {
				err = classifyTelegram(err)
			}
			if c, _ := delivery.ClassOf(err); c == delivery.ClassGone {
				if serr := s.st.SetChatGone(ctx, ch.Config.Key, p.ChatID, err.Error()); serr != nil {
					log.Error("could not mark chat gone", "err", serr)
				}
			}
			return err
		}
		m := store.MessageMap{Channel: ch.Config.Key, ChatID: p.ChatID, TelegramID: msgID, TurnID: p.TurnID}
		if i < len(p.Parts)-1 {
			if err := t.Advance(ctx, i+1, store.Batch{Maps: []store.MessageMap{m}}); err != nil {
				// Telegram has the part; if this is lost the part may be sent
				// again after the lease expires (the one duplicate possible).
				return delivery.Retry(fmt.Errorf("record sent part: %w", err))
			}
			continue
		}
		now := time.Now()
		done := store.Batch{
			Maps: []store.MessageMap{m},
			Sent: []store.Sent{{Channel: ch.Config.Key, ChatID: p.ChatID, TurnID: p.TurnID, SentAt: now}},
			Jobs: []store.NewJob{statusJob(ch.Config.Key, p.ChatID, p.TurnID, turn.StatusSent, now)},
		}
		for _, part := range p.Parts {
			if part.Media == nil {
				continue
			}
			if err := s.st.DeleteMedia(ctx, ch.Config.Key, part.Media.Key); err != nil {
				// Not left behind: a discard note goes with the completion.
				log.Warn("could not delete sent media; discarding it later", "key", part.Media.Key, "err", err)
				done.Jobs = append(done.Jobs, mediaNote(ch.Config.Key, fetchJob{MediaRef: render.MediaRef{Key: part.Media.Key}, Discard: true}))
			}
		}
		t.OnDone(done)
	}
	messagesDelivered.WithLabelValues(ch.Config.Key, "to_telegram").Inc()
	return nil
}

// statusJob is a status report for Turn, in the chat's status lane so a
// message's statuses arrive in the order they happened.
func statusJob(channel string, chat int64, turnID, status string, at time.Time) store.NewJob {
	p, _ := json.Marshal(statusPayload{
		TurnID: turnID, Status: status, Timestamp: at.Unix(), RecipientID: strconv.FormatInt(chat, 10),
	})
	return store.NewJob{Channel: channel, Kind: store.KindStatus, Lane: statusLane(chat), Payload: p}
}
