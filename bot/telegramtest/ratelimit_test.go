package telegramtest_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

func sendTo(t *testing.T, srv *telegramtest.Server, tok string, chatID int64) answer {
	t.Helper()
	return callForm(t, srv, tok, "sendMessage", map[string]string{"chat_id": strconv.FormatInt(chatID, 10), "text": "x"}, nil)
}

func TestPrivateChatLimit(t *testing.T) {
	srv := newServer(t)
	for i := 0; i < 3; i++ { // the default burst
		if a := sendTo(t, srv, token, chat); !a.OK {
			t.Fatalf("send %d: %s", i, a.Description)
		}
	}
	a := sendTo(t, srv, token, chat)
	wantError(t, a, 429, "Too Many Requests: retry after 1")
	if a.Parameters.RetryAfter != 1 {
		t.Errorf("retry_after = %d, want 1", a.Parameters.RetryAfter)
	}
	// Other chats and other bots have their own buckets.
	if a := sendTo(t, srv, token, chat+1); !a.OK {
		t.Errorf("another chat: %s", a.Description)
	}
	if a := sendTo(t, srv, otherToken, chat); !a.OK {
		t.Errorf("another bot: %s", a.Description)
	}
	if srv.TooManyRequests() != 1 || srv.TooManyRequestsFor(token) != 1 || srv.TooManyRequestsFor(otherToken) != 0 {
		t.Errorf("429 counts: all %d, bot %d, other %d", srv.TooManyRequests(), srv.TooManyRequestsFor(token), srv.TooManyRequestsFor(otherToken))
	}
	// A client that waits retry_after is welcome back and breaks no pause.
	time.Sleep(time.Second)
	if a := sendTo(t, srv, token, chat); !a.OK {
		t.Errorf("after retry_after: %s", a.Description)
	}
	if v := srv.PauseViolations(); v != 0 {
		t.Errorf("PauseViolations = %d, want 0", v)
	}
	if n := len(srv.SentBy(token, chat)); n != 4 {
		t.Errorf("accepted messages = %d, want 4", n)
	}
}

func TestPauseViolation(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{ChatBurst: 1})
	client := newClient(t, srv, token)
	if _, err := client.SendMessage(ctxT(t), &tgbot.SendMessageParams{ChatID: chat, Text: "1"}); err != nil {
		t.Fatal(err)
	}
	_, err := client.SendMessage(ctxT(t), &tgbot.SendMessageParams{ChatID: chat, Text: "2"})
	var tooMany *tgbot.TooManyRequestsError
	if !errors.As(err, &tooMany) || tooMany.RetryAfter != 1 {
		t.Fatalf("err = %v, want a TooManyRequestsError with retry_after 1", err)
	}
	// Any call to the chat before retry_after is a violation, typing included.
	if _, err := client.SendChatAction(ctxT(t), &tgbot.SendChatActionParams{ChatID: chat, Action: "typing"}); !errors.As(err, &tooMany) {
		t.Errorf("chat action during the pause: %v", err)
	}
	if v := srv.PauseViolations(); v != 1 {
		t.Errorf("PauseViolations = %d, want 1", v)
	}
	if n := srv.TooManyRequests(); n != 2 {
		t.Errorf("TooManyRequests = %d, want 2", n)
	}
}

func TestGroupLimit(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{GroupBurst: 2}) // 20 a minute: one every 3s
	group := int64(-1001234567890)
	for i := 0; i < 2; i++ {
		if a := sendTo(t, srv, token, group); !a.OK {
			t.Fatalf("send %d: %s", i, a.Description)
		}
	}
	a := sendTo(t, srv, token, group)
	wantError(t, a, 429, "Too Many Requests: retry after 3")
}

func TestGlobalLimit(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{GlobalPerSecond: 5, GlobalBurst: 5})
	for i := int64(0); i < 5; i++ {
		if a := sendTo(t, srv, token, chat+i); !a.OK {
			t.Fatalf("send %d: %s", i, a.Description)
		}
	}
	wantError(t, sendTo(t, srv, token, chat+5), 429, "Too Many Requests: retry after 1")
	if a := sendTo(t, srv, otherToken, chat+5); !a.OK {
		t.Errorf("the limit is per bot: %s", a.Description)
	}
}

func TestRateLimitsDisabled(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	for i := 0; i < 50; i++ {
		if a := sendTo(t, srv, token, chat); !a.OK {
			t.Fatalf("send %d: %s", i, a.Description)
		}
	}
	if srv.TooManyRequests() != 0 {
		t.Errorf("TooManyRequests = %d", srv.TooManyRequests())
	}
}
