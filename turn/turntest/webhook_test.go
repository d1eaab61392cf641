package turntest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/turn-telegram/turn-telegram/turn"
)

// connector is a minimal webhook receiver that verifies like the real one.
type received struct {
	header http.Header
	body   []byte
	valid  bool
}

func connector(t *testing.T, secret []byte) (*httptest.Server, chan received) {
	t.Helper()
	got := make(chan received, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ok := turn.VerifySignature(secret, body, r.Header.Get(turn.SignatureHeader))
		got <- received{r.Header.Clone(), body, ok}
		if !ok {
			turn.WriteError(w, http.StatusUnauthorized, nil)
			return
		}
		turn.WriteReply(w, "connector-1")
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestSendSignsLikeTurn(t *testing.T) {
	s := newServer(t)
	secret := []byte("the-secret-for-your-webhook")
	conn, got := connector(t, secret)
	payload := []byte(`{"to":"5512784653","version":"0.0.1-alpha","turn":{"type":"text","text":{"body":"hi"}}}`)

	resp, err := s.Send(t.Context(), conn.URL, secret, payload)
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(reply) != `{"messages":[{"id":"connector-1"}]}`+"\n" {
		t.Fatalf("answer %d %s", resp.StatusCode, reply)
	}
	r := <-got
	if !r.valid || string(r.body) != string(payload) {
		t.Fatalf("signature valid = %v, body %s", r.valid, r.body)
	}
	for k, want := range map[string]string{
		"Content-Type":             "application/json",
		"X-Turn-Hook-Signature":    turn.Sign(secret, payload),
		"X-Turn-Event":             "message",
		"X-Turn-Hook-Subscription": "turntest-webhook",
	} {
		if v := r.header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}

	// Signed with another secret, the connector refuses it.
	resp, err = s.Send(t.Context(), conn.URL, []byte("wrong"), payload)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := <-got; r.valid || resp.StatusCode != 401 {
		t.Errorf("wrong secret: valid %v, status %d", r.valid, resp.StatusCode)
	}
}

func TestSendJSONUsesCreatedChannel(t *testing.T) {
	s := newServer(t)
	probe, got := connector(t, nil)
	resp, err := turn.CreateChannel(t.Context(), s.Client(), s.URL, token, turn.CreateChannelRequest{FromAddr: "bot", Name: "Bot", Endpoint: probe.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	out := turn.Outbound{To: "5512784653", Version: "0.0.1-alpha", Turn: &turn.Message{Type: "text", Text: &turn.Text{Body: "hi"}}}
	r, err := s.SendJSON(t.Context(), probe.URL+"/hook", []byte(resp.Webhook.HMACSecret), out)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	rec := <-got
	if sub := rec.header.Get("X-Turn-Hook-Subscription"); sub != resp.Webhook.UUID {
		t.Errorf("subscription = %q, want the webhook uuid %q", sub, resp.Webhook.UUID)
	}
	if !turn.VerifySignature([]byte(resp.Webhook.HMACSecret), rec.body, rec.header.Get(turn.SignatureHeader)) {
		t.Error("not signed with the channel's secret")
	}
	decoded, err := turn.DecodeOutbound(rec.body)
	if err != nil || decoded.Turn.Text.Body != "hi" {
		t.Errorf("decoded %+v, %v", decoded, err)
	}

	if _, err := s.SendJSON(t.Context(), probe.URL, nil, make(chan int)); err == nil {
		t.Error("unencodable payload sent")
	}
	if _, err := s.Send(t.Context(), "http://127.0.0.1:1/closed", nil, nil); err == nil {
		t.Error("send to a closed port succeeded")
	}
}
