package turntest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/turn"
)

func textMessage(id string) *turn.Inbound {
	return &turn.Inbound{
		Contact: turn.Contact{ID: "5512784653", Profile: turn.Profile{Name: "Jane"}},
		Message: turn.InboundMessage{Type: turn.TypeText, From: "5512784653", ID: id, Timestamp: "1727291610", Text: &turn.Text{Body: "hi"}},
	}
}

func TestFailNext(t *testing.T) {
	s := newServer(t)
	c := turn.NewClient(s.URL, number, token, s.Client())
	s.FailNext(1, http.StatusTooManyRequests, 1500*time.Millisecond)
	s.FailNext(2, http.StatusServiceUnavailable, 0)

	want := []struct {
		status     int
		retryAfter time.Duration
	}{
		{429, 2 * time.Second}, // rounded up to whole seconds
		{503, 0},
		{503, 0},
	}
	for i, w := range want {
		err := c.SendMessage(t.Context(), textMessage("m"))
		var api *turn.APIError
		if !errors.As(err, &api) {
			t.Fatalf("request %d: err = %v, want APIError", i, err)
		}
		if api.StatusCode != w.status || api.RetryAfter != w.retryAfter || !api.Temporary() {
			t.Errorf("request %d: %d retry %s, want %d retry %s", i, api.StatusCode, api.RetryAfter, w.status, w.retryAfter)
		}
		if api.Message != http.StatusText(w.status)+": request failed by turntest.FailNext" {
			t.Errorf("request %d: message %q", i, api.Message)
		}
	}
	if err := c.SendMessage(t.Context(), textMessage("m4")); err != nil {
		t.Fatalf("after the injected failures: %v", err)
	}
	if got := s.Messages(number); len(got) != 1 || got[0].Message.ID != "m4" {
		t.Errorf("failed requests were recorded: %+v", got)
	}
	if s.Rejected(429) != 1 || s.Rejected(503) != 2 {
		t.Errorf("rejections = %v", s.Rejections())
	}
}

func TestFailNextPrecedesAuthAndSparesMedia(t *testing.T) {
	s := newServer(t)
	link := s.HostMedia([]byte("img"), "image/png")
	s.FailNext(1, http.StatusInternalServerError, 0)
	resp, err := s.Client().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("media fetch consumed the failure: %d", resp.StatusCode)
	}
	if a := do(t, s, "POST", messagesPath, "", "application/json", `{}`); a.status != 500 {
		t.Fatalf("unauthenticated request got %d, want the injected 500", a.status)
	}
	if a := do(t, s, "POST", messagesPath, "", "application/json", `{}`); a.status != 401 {
		t.Fatalf("next request got %d, want 401", a.status)
	}
}

func TestSetDown(t *testing.T) {
	s := newServer(t)
	c := turn.NewClient(s.URL, number, token, s.Client())
	link := s.HostMedia([]byte("img"), "image/png")
	s.FailNext(1, http.StatusTooManyRequests, 0)
	s.SetDown(true)

	for i := range 3 {
		err := c.SendMessage(t.Context(), textMessage("m"))
		var api *turn.APIError
		if !errors.As(err, &api) || api.StatusCode != 503 {
			t.Fatalf("request %d while down: %v", i, err)
		}
	}
	resp, err := s.Client().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("media while down: %d", resp.StatusCode)
	}

	s.SetDown(false)
	// The queued failure was kept for when the server is back.
	var api *turn.APIError
	if err := c.SendMessage(t.Context(), textMessage("m")); !errors.As(err, &api) || api.StatusCode != 429 {
		t.Fatalf("first request after downtime: %v", err)
	}
	if err := c.SendMessage(t.Context(), textMessage("m")); err != nil {
		t.Fatal(err)
	}
	if s.Rejected(503) != 4 {
		t.Errorf("Rejected(503) = %d, want 4", s.Rejected(503))
	}
}

func TestSetLatency(t *testing.T) {
	s := newServer(t)
	s.SetLatency(200 * time.Millisecond)

	impatient := turn.NewClient(s.URL, number, token, &http.Client{Timeout: 20 * time.Millisecond})
	err := impatient.SendMessage(t.Context(), textMessage("m1"))
	var api *turn.APIError
	if err == nil || errors.As(err, &api) {
		t.Fatalf("err = %v, want a transport timeout", err)
	}

	start := time.Now()
	if err := turn.NewClient(s.URL, number, token, s.Client()).SendMessage(t.Context(), textMessage("m2")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("answered after %s, want at least the latency", d)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	got, err := s.WaitMessages(ctx, number, 1)
	if err != nil || got[0].Message.ID != "m2" {
		t.Fatalf("got %+v, %v; the timed-out request must not be recorded", got, err)
	}
	s.SetLatency(0)
}
