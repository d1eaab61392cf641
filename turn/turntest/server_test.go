package turntest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/turn"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

func TestAuthAndTransportRejections(t *testing.T) {
	s := newServer(t)
	s.AddNumber("other-number", "other-token")
	created := createChannel(t, s, "tg-bot")
	okBody := inbound(validMessages["text"])

	tests := []struct {
		name        string
		method      string
		path        string
		token       string
		contentType string
		body        string
		status      int
		errs        string
	}{
		{"no Authorization", "POST", messagesPath, "", "application/json", okBody, 401, `{"authorization":["can't be blank"]}`},
		{"wrong token", "POST", messagesPath, "nope", "application/json", okBody, 401, `{"authorization":["is invalid"]}`},
		{"another number's token", "POST", messagesPath, "other-token", "application/json", okBody, 401, `{"authorization":["is invalid"]}`},
		{"unknown number", "POST", "/v1/numbers/unknown/messages", token, "application/json", okBody, 404, `{"number":["does not exist"]}`},
		{"unknown number, no token", "POST", "/v1/numbers/unknown/statuses", "", "application/json", okBody, 401, `{"authorization":["can't be blank"]}`},
		{"created channel without a token yet", "POST", "/v1/numbers/" + created.NumberID + "/messages", token, "application/json", okBody, 401, `{"authorization":["is invalid"]}`},
		{"no Content-Type", "POST", messagesPath, token, "", okBody, 415, `{"content_type":["must be application/json"]}`},
		{"form Content-Type", "POST", messagesPath, token, "application/x-www-form-urlencoded", okBody, 415, `{"content_type":["must be application/json"]}`},
		{"statuses text/plain", "POST", "/v1/numbers/" + number + "/statuses", token, "text/plain", `{}`, 415, `{"content_type":["must be application/json"]}`},
		{"too large", "POST", messagesPath, token, "application/json", `{"pad":"` + strings.Repeat("x", turntest.MaxBodyBytes) + `"}`, 413, `{"body":["is larger than 1048576 bytes"]}`},
		{"unknown path", "POST", "/v1/numbers/" + number + "/contacts", token, "application/json", `{}`, 404, `{"path":["is unknown"]}`},
		{"create without token", "POST", "/v1/numbers", "", "application/json", `{}`, 401, `{"authorization":["can't be blank"]}`},
		{"create with unknown token", "POST", "/v1/numbers", "nope", "application/json", `{}`, 401, `{"authorization":["is invalid"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, s, tt.method, tt.path, tt.token, tt.contentType, tt.body)
			if a.status != tt.status {
				t.Fatalf("status = %d (%s), want %d", a.status, a.raw, tt.status)
			}
			wantShape(t, a, http.StatusText(tt.status), tt.errs)
		})
	}
	if got := len(s.Messages(number)) + len(s.Statuses(number)); got != 0 {
		t.Errorf("rejected requests were recorded: %d", got)
	}
	want := map[int]int{401: 7, 404: 2, 413: 1, 415: 3}
	for code, n := range want {
		if got := s.Rejected(code); got != n {
			t.Errorf("Rejected(%d) = %d, want %d (all: %v)", code, got, n, s.Rejections())
		}
	}
	if got := s.Requests(); got != len(tests)+1 { // +1: the channel creation
		t.Errorf("Requests() = %d, want %d", got, len(tests)+1)
	}
	if a := do(t, s, "POST", messagesPath, token, "application/json; charset=utf-8", okBody); a.status != 200 {
		t.Errorf("charset parameter refused: %d %s", a.status, a.raw)
	}
}

// TestClientAgainstServer runs turn.Client against the fake, end to end.
func TestClientAgainstServer(t *testing.T) {
	s := newServer(t)
	c := turn.NewClient(s.URL, number, token, s.Client())
	in := &turn.Inbound{
		Contact: turn.Contact{ID: "5512784653", Profile: turn.Profile{Name: "Jane"}},
		Message: turn.InboundMessage{
			Type: turn.TypeInteractive, From: "5512784653", ID: "tg-9", Timestamp: "1727291610",
			Interactive: &turn.InteractiveReply{Type: "button_reply", ButtonReply: &turn.ReplyItem{ID: "QmxhY2sgVGVh", Title: "Black Tea"}},
			Context:     &turn.InboundContext{ID: "turn-msg-1"},
		},
	}
	if err := c.SendMessage(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	got := s.Messages(number)
	if len(got) != 1 || got[0].Message.Interactive.ButtonReply.Title != "Black Tea" || got[0].Message.Context.ID != "turn-msg-1" {
		t.Fatalf("recorded %+v", got)
	}

	bad := *in
	bad.Message.Timestamp = "yesterday"
	err := c.SendMessage(t.Context(), &bad)
	var api *turn.APIError
	if !errors.As(err, &api) || api.StatusCode != 400 || api.Message != "Bad Request: message.timestamp is invalid" {
		t.Fatalf("err = %v", err)
	}

	if err := c.SendStatus(t.Context(), &turn.Status{Status: turn.StatusObject{ID: "tg-9", Status: turn.StatusRead, Timestamp: "1727291611", RecipientID: "5512784653"}}); err != nil {
		t.Fatal(err)
	}
	if st := s.Statuses(number); len(st) != 1 || st[0].RecipientID != "5512784653" || st[0].Status != "read" {
		t.Fatalf("statuses = %+v", st)
	}

	wrong := turn.NewClient(s.URL, number, "stolen", s.Client())
	if err := wrong.SendMessage(t.Context(), in); !errors.As(err, &api) || api.StatusCode != 401 || strings.Contains(err.Error(), "stolen") {
		t.Fatalf("wrong token: err = %v", err)
	}
}

func TestMessagesAreKeptPerNumber(t *testing.T) {
	s := newServer(t)
	s.AddNumber("second", "token-2")
	wantSuccess(t, postJSON(t, s, messagesPath, inbound(validMessages["text"])))
	a := do(t, s, "POST", "/v1/numbers/second/messages", "token-2", "application/json", inbound(validMessages["button"]))
	wantSuccess(t, a)
	if m := s.Messages(number); len(m) != 1 || m[0].Message.Type != "text" {
		t.Errorf("first number: %+v", m)
	}
	if m := s.Messages("second"); len(m) != 1 || m[0].Message.Button.Payload != "yes" {
		t.Errorf("second number: %+v", m)
	}
	if m := s.Messages("nobody"); m != nil {
		t.Errorf("unknown number: %+v", m)
	}
	// Rotating a token locks out the old one.
	s.AddNumber("second", "token-3")
	if a := do(t, s, "POST", "/v1/numbers/second/messages", "token-2", "application/json", inbound(validMessages["text"])); a.status != 401 {
		t.Errorf("old token after rotation: %d", a.status)
	}
}
