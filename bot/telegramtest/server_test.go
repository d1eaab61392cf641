package telegramtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

func TestRouting(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, path string
		code       int
		desc       string
	}{
		{"unknown token", "/bot999:nope/getMe", 401, "Unauthorized"},
		{"unknown method", "/bot" + token + "/sendCarrierPigeon", 404, "Not Found"},
		{"no method", "/bot" + token + "/", 404, "Not Found"},
		{"not the API", "/v1/getMe", 404, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tt.path, nil)
			wantError(t, do(t, req), tt.code, tt.desc)
		})
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/bot"+token+"/GETME", nil)
	if a := do(t, req); !a.OK {
		t.Errorf("method names are case-insensitive: %s", a.Description)
	}
}

func TestGetMeWithClient(t *testing.T) {
	srv := newServer(t)
	me, err := newClient(t, srv, token).GetMe(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != 123456 || !me.IsBot || me.Username != "test_bot" || me.FirstName != "Test" {
		t.Errorf("getMe = %+v", me)
	}
	if _, err := newClient(t, srv, "1:unknown").GetMe(ctxT(t)); !errors.Is(err, tgbot.ErrorUnauthorized) {
		t.Errorf("unknown token: err = %v, want Unauthorized", err)
	}
}

// Every encoding the Bot API accepts carries the same fields.
func TestRequestEncodings(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	kb := inlineKeyboard("Yes", "y")
	calls := map[string]func() answer{
		"multipart": func() answer {
			return send(t, srv, map[string]string{"chat_id": "4242", "text": "hi", "reply_markup": kb})
		},
		"urlencoded": func() answer {
			return urlencoded(t, srv, token, "sendMessage", url.Values{"chat_id": {"4242"}, "text": {"hi"}, "reply_markup": {kb}})
		},
		"json": func() answer {
			return callJSON(t, srv, token, "sendMessage", map[string]any{
				"chat_id": 4242, "text": "hi",
				"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "Yes", "callback_data": "y"}}}},
			})
		},
		"query string": func() answer {
			q := url.Values{"chat_id": {"4242"}, "text": {"hi"}, "reply_markup": {kb}}
			req, _ := http.NewRequest(http.MethodGet, apiURL(srv, token, "sendMessage")+"?"+q.Encode(), nil)
			return do(t, req)
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			m := call().message(t)
			if m.Text != "hi" || m.Chat.ID != chat || m.ReplyMarkup == nil || m.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "y" {
				t.Errorf("message = %+v", m)
			}
		})
	}
	for _, c := range srv.CallsTo("sendMessage") {
		if c.Bot != "test_bot" || c.Params["chat_id"] != "4242" || c.Params["text"] != "hi" || !strings.Contains(c.Params["reply_markup"], `"callback_data"`) || c.Status != 200 {
			t.Errorf("recorded call = %+v", c)
		}
	}
}

func TestSetDown(t *testing.T) {
	srv := newServer(t)
	fileID, _ := srv.AddFile(token, []byte("x"), "documents/a.txt")
	srv.SetDown(true)
	wantError(t, send(t, srv, map[string]string{"chat_id": "1", "text": "x"}), 502, "Bad Gateway")
	resp, err := http.Get(srv.URL + "/file/bot" + token + "/documents/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("download while down: %d", resp.StatusCode)
	}
	srv.SetDown(false)
	if a := callForm(t, srv, token, "getFile", map[string]string{"file_id": fileID}, nil); !a.OK {
		t.Errorf("after SetDown(false): %s", a.Description)
	}
	if got := srv.CallsTo("sendMessage"); len(got) != 1 || got[0].Status != 502 {
		t.Errorf("calls while down are recorded with their answer: %+v", got)
	}
}

func TestSetLatency(t *testing.T) {
	srv := newServer(t)
	srv.SetLatency(150 * time.Millisecond)
	start := time.Now()
	if _, err := newClient(t, srv, token).GetMe(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v, want >= 150ms", d)
	}
	// A client that gives up is not kept waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := newClient(t, srv, token).GetMe(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
}

func TestFailNext(t *testing.T) {
	srv := newServer(t)
	srv.FailNext("sendMessage", 2, 500, "", 0)
	srv.FailNext("", 1, 403, "Forbidden: bot was blocked by the user", 0)
	srv.FailNext("getMe", 1, 429, "", 7)

	msg := map[string]string{"chat_id": "4242", "text": "hi"}
	wantError(t, send(t, srv, msg), 500, "Internal Server Error")
	a := callForm(t, srv, token, "getMe", nil, nil) // the "any method" failure comes first
	wantError(t, a, 403, "Forbidden: bot was blocked by the user")
	a = callForm(t, srv, token, "getMe", nil, nil)
	wantError(t, a, 429, "Too Many Requests: retry after 7")
	if a.Parameters.RetryAfter != 7 {
		t.Errorf("retry_after = %d, want 7", a.Parameters.RetryAfter)
	}
	wantError(t, send(t, srv, msg), 500, "Internal Server Error")
	if a := send(t, srv, msg); !a.OK {
		t.Errorf("injections are used up, yet: %s", a.Description)
	}
	if n := len(srv.Sent(chat)); n != 1 {
		t.Errorf("failed sends are not messages: Sent has %d", n)
	}
	if n := srv.TooManyRequests(); n != 1 {
		t.Errorf("TooManyRequests = %d, want 1", n)
	}
}

// An injected 429 on a send pauses the chat like a real one: a client that
// comes back before retry_after is counted.
func TestInjected429Pauses(t *testing.T) {
	srv := newServer(t)
	srv.FailNext("sendMessage", 1, 429, "", 30)
	client := newClient(t, srv, token)
	_, err := client.SendMessage(ctxT(t), &tgbot.SendMessageParams{ChatID: chat, Text: "one"})
	var tooMany *tgbot.TooManyRequestsError
	if !errors.As(err, &tooMany) || tooMany.RetryAfter != 30 {
		t.Fatalf("err = %v, want 429 retry after 30", err)
	}
	_, err = client.SendMessage(ctxT(t), &tgbot.SendMessageParams{ChatID: chat, Text: "again"})
	if !errors.As(err, &tooMany) || tooMany.RetryAfter < 29 {
		t.Errorf("err = %v, want 429 with the remaining pause", err)
	}
	if _, err := client.SendMessage(ctxT(t), &tgbot.SendMessageParams{ChatID: chat + 1, Text: "other chat"}); err != nil {
		t.Errorf("another chat is not paused: %v", err)
	}
	if v := srv.PauseViolations(); v != 1 {
		t.Errorf("PauseViolations = %d, want 1", v)
	}
}

func TestWaitHelpers(t *testing.T) {
	srv := newServer(t)
	go func() {
		for i := 0; i < 3; i++ {
			time.Sleep(10 * time.Millisecond)
			<-goCall(srv, token, "sendMessage", map[string]string{"chat_id": "4242", "text": "m"})
		}
	}()
	msgs, err := srv.WaitSent(ctxT(t), chat, 3)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("WaitSent = %d messages, %v", len(msgs), err)
	}
	if calls, err := srv.WaitCalls(ctxT(t), "sendmessage", 3); err != nil || len(calls) != 3 {
		t.Errorf("WaitCalls = %d, %v", len(calls), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	msgs, err = srv.WaitSent(ctx, chat, 4)
	if !errors.Is(err, context.DeadlineExceeded) || len(msgs) != 3 {
		t.Errorf("WaitSent past the deadline = %d, %v", len(msgs), err)
	}
}

func TestCloseEndsLongPolls(t *testing.T) {
	srv := telegramtest.NewServer()
	srv.AddBot(token, "test_bot", "Test")
	done := goCall(srv, token, "getUpdates", map[string]string{"timeout": "50"})
	time.Sleep(50 * time.Millisecond) // let the poll start waiting
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the long poll")
	}
	if r := <-done; r.err != nil || !r.OK || string(r.Result) != "[]" {
		t.Errorf("long poll at Close = %+v", r)
	}
}
