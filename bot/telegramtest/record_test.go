package telegramtest_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

// OnCall hears of each call as recorded, once its answer has reached the
// client, with no lock of the fake held.
func TestOnCall(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	heard := make(chan telegramtest.Call, 16)
	release, held := make(chan struct{}), make(chan struct{})
	srv.OnCall(func(c telegramtest.Call) {
		if c.Params["text"] == "hold" {
			defer close(held)
			<-release
		}
		// The fake is free to use, and the call is already in its records.
		recorded := srv.Calls()
		if last := recorded[len(recorded)-1]; !reflect.DeepEqual(last, c) {
			t.Errorf("hook heard %+v, recorded %+v", c, last)
		}
		heard <- c
	})
	next := func(t *testing.T) telegramtest.Call {
		t.Helper()
		select {
		case c := <-heard:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("the hook heard of no call")
			return telegramtest.Call{}
		}
	}

	tests := []struct {
		name   string
		method string
		fields map[string]string
		status int
		result string // a field of the result, "" for refusals
	}{
		{"accepted send", "sendMessage", map[string]string{"chat_id": "4242", "text": "hi"}, 200, "message_id"},
		{"refusal", "sendMessage", map[string]string{"chat_id": "4242", "text": ""}, 400, ""},
		{"parse_mode refusal", "sendMessage", map[string]string{"chat_id": "4242", "text": "x", "parse_mode": "HTML"}, 400, ""},
		{"unknown method", "sendTelepathy", map[string]string{"chat_id": "4242"}, 404, ""},
		{"not a chat method", "getMe", nil, 200, "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := callForm(t, srv, token, tt.method, tt.fields, nil)
			c := next(t)
			if c.Bot != "test_bot" || c.Status != tt.status || c.Status != a.Status || c.At.IsZero() {
				t.Errorf("heard %+v, answered %d", c, a.Status)
			}
			var fields map[string]json.RawMessage
			_ = json.Unmarshal(c.Result, &fields)
			if _, ok := fields[tt.result]; ok != (tt.result != "") || (ok && string(c.Result) != string(a.Result)) {
				t.Errorf("Result = %s, answered %s", c.Result, a.Result)
			}
		})
	}

	// The client has its answer while the hook still runs.
	done := goCall(srv, token, "sendMessage", map[string]string{"chat_id": "4242", "text": "hold"})
	select {
	case r := <-done:
		if r.err != nil || !r.OK {
			t.Errorf("held call: %+v %v", r.answer, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the answer waited for the hook")
	}
	close(release)
	<-held
	if c := next(t); c.Params["text"] != "hold" {
		t.Errorf("heard %+v, want the held call", c)
	}

	// No hook, no news.
	srv.OnCall(nil)
	callForm(t, srv, token, "getMe", nil, nil)
	select {
	case c := <-heard:
		t.Errorf("heard %+v after OnCall(nil)", c)
	case <-time.After(50 * time.Millisecond):
	}
}

// OnArrival hears of a long poll when it arrives, before its answer.
func TestOnArrival(t *testing.T) {
	srv := newServer(t)
	arrived := make(chan telegramtest.Call, 4)
	answered := make(chan telegramtest.Call, 4)
	srv.OnArrival(func(c telegramtest.Call) { arrived <- c })
	srv.OnCall(func(c telegramtest.Call) { answered <- c })
	first := srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "one"))
	getUpdates(t, srv, nil)
	for _, ch := range []chan telegramtest.Call{arrived, answered} {
		if c := <-ch; c.Method != "getUpdates" {
			t.Fatalf("heard %+v", c)
		}
	}

	offset := strconv.FormatInt(first+1, 10)
	poll := goCall(srv, token, "getupdates", map[string]string{"offset": offset, "timeout": "5"})
	var c telegramtest.Call
	select {
	case c = <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("OnArrival did not hear of the long poll")
	}
	if c.Method != "getUpdates" || c.Params["offset"] != offset || c.Status != 0 || c.Result != nil {
		t.Errorf("arrival = %+v, want getUpdates (canonical name) with offset %s, not yet answered", c, offset)
	}
	select {
	case c := <-answered:
		t.Fatalf("OnCall heard of the poll before its answer: %+v", c)
	case <-time.After(50 * time.Millisecond):
	}
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "two"))
	if r := <-poll; r.err != nil || !r.OK {
		t.Fatalf("poll: %+v %v", r.answer, r.err)
	}
	c = <-answered
	var ups []json.RawMessage
	if c.Status != 200 || json.Unmarshal(c.Result, &ups) != nil || len(ups) != 1 {
		t.Errorf("answered = %+v", c)
	}
}
