package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/render"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// turnWebhook serves POST /channels/{channel}/turn: it checks Turn's
// signature before parsing, renders the message for Telegram, stores it with
// its callbacks and media fetches in one transaction, and only then answers
// 200 with the connector message id. Sending happens later, from the store.
//
// Turn retries a call it got no 200 for with the same body, and its payload
// has no idempotency key: the body is the key. The same bytes to the same
// channel within store.RequestWindow are the same message (answered with
// its id, nothing stored or sent again); any other body is a new message,
// even with the same text.
func (s *Service) turnWebhook(w http.ResponseWriter, r *http.Request, key string) {
	ch, ok := s.Channel(key)
	if !ok {
		if s.isPaused(key) {
			// Disabled, not removed: Turn keeps the message and retries.
			w.Header().Set("Retry-After", "60")
			turn.WriteError(w, http.StatusServiceUnavailable, map[string]any{"channel": []string{"is disabled; retry later"}})
			return
		}
		turn.WriteError(w, http.StatusNotFound, map[string]any{"channel": []string{"is unknown"}})
		return
	}
	body, release, err := readUnverified(r)
	switch {
	case errors.Is(err, errTooLarge):
		outboundAccepted.WithLabelValues("too_large").Inc()
		turn.WriteError(w, http.StatusRequestEntityTooLarge, map[string]any{"body": []string{"is over 1 MiB"}})
		return
	case errors.Is(err, errBusy):
		outboundAccepted.WithLabelValues("unavailable").Inc()
		turn.WriteError(w, http.StatusServiceUnavailable, map[string]any{"body": []string{"cannot be read now: too many requests"}})
		return
	case err != nil:
		turn.WriteError(w, http.StatusBadRequest, map[string]any{"body": []string{"could not be read"}})
		return
	}
	verified := turn.VerifySignature([]byte(ch.Config.TurnHMACSecret), body, r.Header.Get(turn.SignatureHeader))
	release()
	if !verified {
		outboundAccepted.WithLabelValues("bad_signature").Inc()
		turn.WriteError(w, http.StatusUnauthorized, map[string]any{"signature": []string{"is missing or invalid"}})
		return
	}
	out, err := turn.DecodeOutbound(body)
	if err != nil {
		outboundAccepted.WithLabelValues("bad_request").Inc()
		turn.WriteError(w, http.StatusBadRequest, validationErrors(err))
		return
	}
	// A chat id, never a phone number: "+1234" is not chat 1234.
	to := strings.TrimSpace(out.To)
	chatID, err := strconv.ParseInt(to, 10, 64)
	if err != nil || chatID == 0 || strings.HasPrefix(to, "+") {
		outboundAccepted.WithLabelValues("bad_request").Inc()
		turn.WriteError(w, http.StatusBadRequest, map[string]any{"to": []string{"is not a Telegram chat id"}})
		return
	}
	turnID := newMessageID()
	rd, err := render.Render(key, turnID, chatID, out)
	if err != nil {
		outboundAccepted.WithLabelValues("bad_request").Inc()
		turn.WriteError(w, http.StatusBadRequest, validationErrors(err))
		return
	}
	for _, m := range rd.Media {
		if !render.WebLink(m.Link) {
			outboundAccepted.WithLabelValues("bad_request").Inc()
			turn.WriteError(w, http.StatusBadRequest, map[string]any{"media": []string{"link must be an http or https URL with a host"}})
			return
		}
	}
	log := ch.log.With("turn_id", turnID, "chat", chatID, "kind", rd.Plan.Kind, "version", out.Version)
	for _, n := range rd.Notes {
		log.Warn("turn message rendered in a degraded form", "note", n)
	}
	b, err := outboundBatch(key, chatID, rd, s.priority(r.Context(), key, chatID))
	if err != nil {
		turn.WriteError(w, http.StatusInternalServerError, map[string]any{"message": []string{"could not be encoded"}})
		return
	}
	digest := sha256.Sum256(body)
	id, err := s.st.Accept(r.Context(), store.Request{Channel: key, Digest: digest[:], TurnID: turnID}, b)
	if err != nil {
		s.outage.failed()
		log.Error("store outbound failed; Turn will retry", "err", err)
		outboundAccepted.WithLabelValues("unavailable").Inc()
		turn.WriteError(w, http.StatusServiceUnavailable, map[string]any{"store": []string{"is unavailable"}})
		return
	}
	s.storeWritten()
	if id != turnID {
		log.Info("turn retried a message already accepted; answered with its id", "first_turn_id", id)
		outboundAccepted.WithLabelValues("repeat").Inc()
		turn.WriteReply(w, id)
		return
	}
	outboundAccepted.WithLabelValues("stored").Inc()
	log.Debug("turn message accepted", "parts", len(rd.Plan.Parts))
	s.notify(jobKinds(b.Jobs)...)
	turn.WriteReply(w, turnID)
}

// outboundBatch is everything an accepted Turn message writes at once: the
// plan to send, a fetch job per media link (Turn's links expire in minutes,
// so they are fetched now, not when the chat's turn comes), and callbacks.
func outboundBatch(channel string, chatID int64, rd render.Rendered, priority int) (store.Batch, error) {
	plan, err := json.Marshal(rd.Plan)
	if err != nil {
		return store.Batch{}, err
	}
	b := store.Batch{}
	for _, m := range rd.Media {
		p, err := json.Marshal(m)
		if err != nil {
			return store.Batch{}, err
		}
		b.Jobs = append(b.Jobs, store.NewJob{
			Channel: channel, Kind: store.KindFetch, Lane: fetchLane(m.Key), Payload: p,
		})
	}
	b.Jobs = append(b.Jobs, store.NewJob{
		Channel: channel, Kind: store.KindOutbound, Lane: outLane(chatID), Payload: plan, Priority: priority,
	})
	now := time.Now().UTC()
	for _, cb := range rd.Callbacks {
		cb.Channel, cb.ChatID, cb.CreatedAt = channel, chatID, now
		b.Callbacks = append(b.Callbacks, cb)
	}
	return b, nil
}

// Claim priorities: a reply to someone in conversation goes before
// broadcast traffic queued earlier, so a 100,000-message broadcast never
// makes a person who just wrote wait for it.
const (
	priorityConversation = 0
	priorityBroadcast    = 10
	conversationWindow   = time.Hour
)

func (s *Service) priority(ctx context.Context, channel string, chat int64) int {
	seen, err := s.st.ChatSeen(ctx, channel, chat)
	if err == nil && time.Since(seen) < conversationWindow {
		return priorityConversation
	}
	return priorityBroadcast
}

func validationErrors(err error) map[string]any {
	var ve *turn.ValidationError
	if errors.As(err, &ve) {
		return ve.Errors
	}
	var re *render.RenderError
	if errors.As(err, &re) {
		return re.Fields()
	}
	return map[string]any{"body": []string{err.Error()}}
}

// newMessageID is a random connector message id (UUID v4 form).
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// jobKinds are the distinct kinds of jobs, to nudge only the workers that
// claim them.
func jobKinds(jobs []store.NewJob) []store.Kind {
	var kinds []store.Kind
	for _, j := range jobs {
		if !slices.Contains(kinds, j.Kind) {
			kinds = append(kinds, j.Kind)
		}
	}
	return kinds
}
