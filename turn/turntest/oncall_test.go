package turntest_test

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// OnCall hears of every answered request, with its body and status, once
// the client has the whole answer.
func TestOnCall(t *testing.T) {
	s := newServer(t)
	heard := make(chan turntest.Call, 16)
	s.OnCall(func(c turntest.Call) {
		// The fake is free to use while the hook runs.
		_ = s.Messages(number)
		heard <- c
	})
	msg := inbound(validMessages["text"])
	status := `{"status":{"id":"tg-1","status":"sent","timestamp":"1727291610"}}`
	media := s.HostMedia([]byte("jpeg bytes"), "image/jpeg")
	tests := []struct {
		name       string
		method     string
		path, body string
		token      string
		setup      func()
		status     int
		wantBody   string // what Call.Body holds; "" when unchecked (read or not)
	}{
		{"accepted message", "POST", messagesPath, msg, token, nil, 200, msg},
		{"accepted status", "POST", statusesPath, status, token, nil, 200, status},
		{"refused by the schema", "POST", messagesPath, `{"messages":[]}`, token, nil, 400, `{"messages":[]}`},
		{"refused before the body is read", "POST", messagesPath, msg, "", nil, 401, ""},
		{"unknown path", "POST", "/v1/numbers/" + number + "/contacts", `{}`, token, nil, 404, ""},
		{"injected failure", "POST", messagesPath, msg, token, func() { s.FailNext(1, http.StatusServiceUnavailable, 0) }, 503, ""},
		{"down", "POST", statusesPath, status, token, func() { s.SetDown(true) }, 503, ""},
		{"media download", "GET", strings.TrimPrefix(media, s.URL), "", "", func() { s.SetDown(false) }, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			start := time.Now()
			a := do(t, s, tt.method, tt.path, tt.token, "application/json", tt.body)
			var c turntest.Call
			select {
			case c = <-heard:
			case <-time.After(5 * time.Second):
				t.Fatal("the hook heard of no request")
			}
			want := turntest.Call{Method: tt.method, Path: strings.SplitN(tt.path, "?", 2)[0], Body: []byte(tt.wantBody), Status: tt.status, At: c.At}
			if tt.wantBody == "" {
				want.Body = c.Body
			}
			if !reflect.DeepEqual(c, want) || c.At.Before(start) || a.status != tt.status {
				t.Errorf("heard %+v (body %q), want %+v; answered %d", c, c.Body, want, a.status)
			}
		})
	}
}

// The answer reaches the client while the hook still runs.
func TestOnCallAfterTheAnswer(t *testing.T) {
	s := newServer(t)
	release, held := make(chan struct{}), make(chan struct{})
	s.OnCall(func(turntest.Call) {
		defer close(held)
		<-release
	})
	got := make(chan []byte, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.URL+messagesPath, bytes.NewReader([]byte(inbound(validMessages["text"]))))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.Client().Do(req)
		if err != nil {
			got <- []byte(err.Error())
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- b
	}()
	select {
	case b := <-got:
		if !bytes.Contains(b, []byte(`"success"`)) {
			t.Errorf("answer %s", b)
		}
	case <-time.After(5 * time.Second):
		t.Error("the answer waited for the hook")
	}
	close(release)
	<-held
	if n := len(s.Messages(number)); n != 1 {
		t.Errorf("%d messages recorded", n)
	}
}
