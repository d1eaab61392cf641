package telegramtest

import (
	"context"
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
	At     time.Time

	Status      int    // HTTP status (and error_code) of the answer
	Description string // the error description, for refusals
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
