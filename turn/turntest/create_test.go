package turntest_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	"github.com/turn-telegram/turn-telegram/turn"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// createChannel creates a channel with turn.CreateChannel, authenticated by
// the default number.
func createChannel(t *testing.T, s *turntest.Server, fromAddr string) turntest.CreatedChannel {
	t.Helper()
	resp, err := turn.CreateChannel(t.Context(), s.Client(), s.URL, token, turn.CreateChannelRequest{
		FromAddr: fromAddr, Name: "Clinic bot", Endpoint: "https://connector.example.org/channels/x/turn",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.CreatedChannels() {
		if c.NumberID == resp.Number.UUID {
			if c.WebhookID != resp.Webhook.UUID || c.HMACSecret != resp.Webhook.HMACSecret {
				t.Fatalf("answer %+v does not match record %+v", resp, c)
			}
			return c
		}
	}
	t.Fatalf("channel %s not recorded", resp.Number.UUID)
	return turntest.CreatedChannel{}
}

func TestCreateChannel(t *testing.T) {
	s := newServer(t)
	c := createChannel(t, s, "tg-clinic-bot")
	if !uuidRE.MatchString(c.NumberID) || !uuidRE.MatchString(c.WebhookID) || c.NumberID == c.WebhookID {
		t.Errorf("ids %q %q are not distinct v4 uuids", c.NumberID, c.WebhookID)
	}
	if len(c.HMACSecret) < 32 {
		t.Errorf("secret %q too short", c.HMACSecret)
	}
	want := turn.CreateChannelRequest{FromAddr: "tg-clinic-bot", Name: "Clinic bot", Endpoint: "https://connector.example.org/channels/x/turn"}
	if c.Request != want {
		t.Errorf("request = %+v, want %+v", c.Request, want)
	}
	var body map[string]string
	if err := json.Unmarshal(c.Body, &body); err != nil || body["backend_type"] != "channel" || body["number_type"] != "channel_http_api" {
		t.Errorf("body = %s (%v)", c.Body, err)
	}

	// The new channel works once Turn's UI has issued it a token.
	s.AddNumber(c.NumberID, "fresh-token")
	cl := turn.NewClient(s.URL, c.NumberID, "fresh-token", s.Client())
	if err := cl.SendStatus(t.Context(), &turn.Status{Status: turn.StatusObject{ID: "m", Status: "sent", Timestamp: "1"}}); err != nil {
		t.Fatal(err)
	}
	if len(s.Statuses(c.NumberID)) != 1 {
		t.Error("status not recorded for the new channel")
	}
	// Its token may create further channels, as any number's can.
	if _, err := turn.CreateChannel(t.Context(), s.Client(), s.URL, "fresh-token", turn.CreateChannelRequest{FromAddr: "second", Name: "n", Endpoint: "http://localhost:8080/x"}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateChannelRejected(t *testing.T) {
	valid := `{"backend_type":"channel","number_type":"channel_http_api","from_addr":"bot","name":"Bot","endpoint":"https://example.org/hook"}`
	set := func(t *testing.T, key string, value any) string {
		return edit(t, valid, func(m map[string]any) {
			if value == nil {
				delete(m, key)
			} else {
				m[key] = value
			}
		})
	}
	tests := []struct {
		name string
		body func(t *testing.T) string
		errs string
	}{
		{"not JSON", func(*testing.T) string { return `nope` }, `{"body":["is not valid JSON"]}`},
		{"empty", func(*testing.T) string { return `{}` },
			`{"backend_type":["can't be blank"],"number_type":["can't be blank"],"from_addr":["can't be blank"],"name":["can't be blank"],"endpoint":["can't be blank"]}`},
		{"whatsapp backend", func(t *testing.T) string { return set(t, "backend_type", "whatsapp") }, `{"backend_type":["is invalid"]}`},
		{"wrong number type", func(t *testing.T) string { return set(t, "number_type", "channel") }, `{"number_type":["is invalid"]}`},
		{"no from_addr", func(t *testing.T) string { return set(t, "from_addr", nil) }, `{"from_addr":["can't be blank"]}`},
		{"blank name", func(t *testing.T) string { return set(t, "name", " ") }, `{"name":["can't be blank"]}`},
		{"relative endpoint", func(t *testing.T) string { return set(t, "endpoint", "/hook") }, `{"endpoint":["is invalid"]}`},
		{"ftp endpoint", func(t *testing.T) string { return set(t, "endpoint", "ftp://example.org/hook") }, `{"endpoint":["is invalid"]}`},
		{"endpoint number", func(t *testing.T) string { return set(t, "endpoint", 5) }, `{"endpoint":["is invalid"]}`},
		{"from_addr taken", func(t *testing.T) string { return set(t, "from_addr", "taken-addr") }, `{"from_addr":["has already been taken"]}`},
	}
	s := newServer(t)
	createChannel(t, s, "taken-addr")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErrors(t, postJSON(t, s, "/v1/numbers", tt.body(t)), tt.errs)
		})
	}
	if n := len(s.CreatedChannels()); n != 1 {
		t.Errorf("created %d channels, want only the first", n)
	}
	_, err := turn.CreateChannel(t.Context(), s.Client(), s.URL, token, turn.CreateChannelRequest{FromAddr: "x", Name: "x", Endpoint: "not a url"})
	var api *turn.APIError
	if !errors.As(err, &api) || api.StatusCode != 400 || api.Message != "Bad Request: endpoint is invalid" {
		t.Fatalf("err = %v", err)
	}
}
