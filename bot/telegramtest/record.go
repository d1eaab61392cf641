package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// Call is one Bot API request as the fake received and answered it.
type Call struct {
	Bot    string            // the bot's username
	Method string            // canonical method name, e.g. "sendMessage"
	Params map[string]string // field values as received (JSON values as JSON text)
	Files  map[string]Upload // file parts of a multipart request, by field name
	At     time.Time         // when the request arrived

	Status      int             // HTTP status (and error_code) of the answer
	Description string          // the error description, for refusals
	Result      json.RawMessage // the "result" of an accepted call, as answered
}

// OnCall makes fn hear of every call the fake records (see Calls), once
// the call is recorded and its answer written and flushed to the client:
// fn learns what the other side has, without copying the records.
//
// fn runs on the goroutine serving the request, so calls made at once
// reach it at once: it must be safe for concurrent use. No lock of the
// fake is held while it runs, so it may use the Server (PressButton,
// PushUpdate, ...); while it runs, the connection it came on serves no
// other request. It must not modify the Call's maps or Result. A nil fn
// removes the hook; a new one replaces the old for calls that arrive
// afterwards.
func (s *Server) OnCall(fn func(Call)) {
	s.mu.Lock()
	s.onCall = fn
	s.mu.Unlock()
}

// OnArrival is OnCall for calls as they arrive: fn hears of each call
// OnCall will, once its fields are decoded and before the fake acts on it
// (Status, Description and Result are still zero). A long poll is
// answered only when updates come or its timeout ends, but its offset
// confirms updates as it arrives; this is the hook that sees that moment.
// The rules of OnCall apply.
func (s *Server) OnArrival(fn func(Call)) {
	s.mu.Lock()
	s.onArrival = fn
	s.mu.Unlock()
}

// sentMessage is a message a bot sent, as accepted.
type sentMessage struct {
	token string
	msg   models.Message
}

// WebhookDelivery is one attempt to post an update to a bot's webhook.
type WebhookDelivery struct {
	Bot      string // the bot's username
	UpdateID int64
	URL      string
	Status   int    // HTTP status of the webhook's answer, 0 if there was none
	Error    string // why the attempt failed, as getWebhookInfo reports it
	At       time.Time
}

// Calls returns every recorded call, in the order they were answered.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the recorded calls of one method (case-insensitive).
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// Sent returns the messages any bot sent to chatID and Telegram accepted, in
// order, as they were when sent (see Message for their current state).
func (s *Server) Sent(chatID int64) []models.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []models.Message
	for _, m := range s.sent {
		if m.msg.Chat.ID == chatID {
			out = append(out, m.msg)
		}
	}
	return out
}

// SentBy is Sent for one bot.
func (s *Server) SentBy(token string, chatID int64) []models.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []models.Message
	for _, m := range s.sent {
		if m.token == token && m.msg.Chat.ID == chatID {
			out = append(out, m.msg)
		}
	}
	return out
}

// Message returns a message of a bot's chat as it is now, after edits; ok is
// false if there is no such message or it was deleted.
func (s *Server) Message(token string, chatID int64, messageID int) (models.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mustBotLocked(token)
	m := b.findMessage(chatID, messageID)
	if m == nil {
		return models.Message{}, false
	}
	return m.snapshot(), true
}

// WebhookDeliveries returns every webhook delivery attempt, in order.
func (s *Server) WebhookDeliveries() []WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]WebhookDelivery(nil), s.deliveries...)
}

// WaitSent waits until at least n messages were sent to chatID and returns
// them. It fails when ctx ends first (after 10s if ctx has no deadline),
// returning what was sent so far.
func (s *Server) WaitSent(ctx context.Context, chatID int64, n int) ([]models.Message, error) {
	var got []models.Message
	err := waitFor(ctx, func() bool {
		got = s.Sent(chatID)
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("telegramtest: %d of %d messages sent to chat %d: %w", len(got), n, chatID, err)
	}
	return got, nil
}

// WaitCalls waits until at least n calls of method were answered and
// returns them, like WaitSent.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	var got []Call
	err := waitFor(ctx, func() bool {
		got = s.CallsTo(method)
		return len(got) >= n
	})
	if err != nil {
		return got, fmt.Errorf("telegramtest: %d of %d %s calls: %w", len(got), n, method, err)
	}
	return got, nil
}

// waitFor polls done until it holds or ctx ends. A context without deadline
// gets one, so a forgotten timeout cannot hang a test run.
func waitFor(ctx context.Context, done func() bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if done() {
			return nil
		}
		select {
		case <-ctx.Done():
			if done() {
				return nil
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}
