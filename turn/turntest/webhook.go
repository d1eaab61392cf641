package turntest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/turn-telegram/turn-telegram/turn"
)

// Headers of Turn's outbound webhook calls besides the signature.
const (
	SubscriptionHeader = "X-Turn-Hook-Subscription"
	EventHeader        = "X-Turn-Event"
	// EventMessage is the X-Turn-Event value of a journey's message.
	EventMessage = "message"
)

// Send posts payload to a connector's webhook url as Turn does: JSON,
// signed with secret in X-Turn-Hook-Signature, with the subscription and
// event headers. The subscription is the webhook uuid of the channel created
// with that endpoint, if any. The caller closes the response body.
func (s *Server) Send(ctx context.Context, url string, secret []byte, payload []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("turntest: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(turn.SignatureHeader, turn.Sign(secret, payload))
	req.Header.Set(SubscriptionHeader, s.subscription(url))
	req.Header.Set(EventHeader, EventMessage)
	resp, err := s.webhooks.Do(req)
	if err != nil {
		return nil, fmt.Errorf("turntest: send webhook: %w", err)
	}
	return resp, nil
}

// SendJSON encodes v and sends it with Send.
func (s *Server) SendJSON(ctx context.Context, url string, secret []byte, v any) (*http.Response, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("turntest: encode webhook payload: %w", err)
	}
	return s.Send(ctx, url, secret, payload)
}

func (s *Server) subscription(url string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.created {
		if c.Request.Endpoint == url {
			return c.WebhookID
		}
	}
	return "turntest-webhook"
}
