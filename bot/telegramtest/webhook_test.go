package telegramtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

func TestSetWebhookRules(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	tests := []struct {
		name     string
		insecure bool
		fields   map[string]string
		desc     string // "" when accepted
	}{
		{"https on 443", false, map[string]string{"url": "https://bot.example.com/hook"}, ""},
		{"https on 8443", false, map[string]string{"url": "https://bot.example.com:8443/hook"}, ""},
		{"https on 88 and 80", false, map[string]string{"url": "https://bot.example.com:88/hook"}, ""},
		{"http", false, map[string]string{"url": "http://bot.example.com/hook"}, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"},
		{"other port", false, map[string]string{"url": "https://bot.example.com:3000/hook"}, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"},
		{"loopback", false, map[string]string{"url": "https://127.0.0.1/hook"}, "Bad Request: bad webhook: IP address 127.0.0.1 is reserved"},
		{"http loopback when insecure", true, map[string]string{"url": "http://127.0.0.1:3000/hook"}, ""},
		{"http localhost when insecure", true, map[string]string{"url": "http://localhost:3000/hook"}, ""},
		{"http elsewhere even when insecure", true, map[string]string{"url": "http://bot.example.com/hook"}, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"},
		{"not a URL", false, map[string]string{"url": "bot.example.com"}, "Bad Request: invalid webhook URL specified"},
		{"secret of 256", false, map[string]string{"url": "https://bot.example.com/hook", "secret_token": strings.Repeat("aZ9_-", 51) + "x"}, ""},
		{"secret of 257", false, map[string]string{"url": "https://bot.example.com/hook", "secret_token": strings.Repeat("a", 257)}, "Bad Request: secret token is too long"},
		{"secret with +/=", false, map[string]string{"url": "https://bot.example.com/hook", "secret_token": "abc+/="}, "Bad Request: secret token contains unallowed characters"},
		{"allowed_updates not an array", false, map[string]string{"url": "https://bot.example.com/hook", "allowed_updates": "message,callback_query"}, "Bad Request: can't parse allowed_updates"},
		{"allowed_updates unknown type", false, map[string]string{"url": "https://bot.example.com/hook", "allowed_updates": `["messages"]`}, "Bad Request: unknown update type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.AllowInsecureWebhooks(tt.insecure)
			a := callForm(t, srv, token, "setWebhook", tt.fields, nil)
			if tt.desc == "" {
				if !a.OK {
					t.Errorf("refused: %s", a.Description)
				}
				return
			}
			wantError(t, a, 400, tt.desc)
		})
	}
}

func TestWebhookInfoAndDelete(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv, token)
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "queued"))
	_, err := client.SetWebhook(ctxT(t), &tgbot.SetWebhookParams{
		URL: "https://bot.example.com/hook", MaxConnections: 500, SecretToken: "s3cret",
		AllowedUpdates: []string{"message", "callback_query"},
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := client.GetWebhookInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.URL != "https://bot.example.com/hook" || info.MaxConnections != 100 || info.HasCustomCertificate ||
		len(info.AllowedUpdates) != 2 || info.AllowedUpdates[1] != "callback_query" {
		t.Errorf("webhook info = %+v", info)
	}
	// Telegram takes one setWebhook a second.
	a := callForm(t, srv, token, "setWebhook", map[string]string{"url": "https://bot.example.com/hook"}, nil)
	wantError(t, a, 429, "Too Many Requests: retry after 1")

	if a := callForm(t, srv, token, "deleteWebhook", map[string]string{"drop_pending_updates": "true"}, nil); !a.OK || a.Description != "Webhook was deleted" {
		t.Errorf("deleteWebhook = %+v", a)
	}
	if a := callForm(t, srv, token, "deleteWebhook", nil, nil); !a.OK || a.Description != "Webhook is already deleted" {
		t.Errorf("second deleteWebhook = %+v", a)
	}
	info, _ = client.GetWebhookInfo(ctxT(t))
	if info.URL != "" || info.PendingUpdateCount != 0 {
		t.Errorf("after deleteWebhook with drop_pending_updates: %+v", info)
	}
}

// hook is a webhook endpoint that records the updates and secret it gets
// and fails the first failures requests.
type hook struct {
	mu       sync.Mutex
	failures int
	secrets  []string
	updates  []models.Update
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	if h.failures > 0 {
		h.failures--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var u models.Update
	if err := json.Unmarshal(body, &u); err != nil || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.updates = append(h.updates, u)
}

func (h *hook) received() []models.Update {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]models.Update(nil), h.updates...)
}

func TestWebhookDeliveryRetriesInOrder(t *testing.T) {
	srv := newServer(t)
	srv.AllowInsecureWebhooks(true)
	srv.SetWebhookRetry(100 * time.Millisecond)
	h := &hook{failures: 2}
	endpoint := httptest.NewServer(h)
	defer endpoint.Close()

	first := srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "one")) // queued before the webhook
	a := callForm(t, srv, token, "setWebhook", map[string]string{"url": endpoint.URL + "/hook", "secret_token": "s3cret_-X"}, nil)
	if !a.OK {
		t.Fatal(a.Description)
	}
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "two"))
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "three"))

	// While the endpoint fails, getWebhookInfo reports it and the queue.
	time.Sleep(50 * time.Millisecond)
	info, err := newClient(t, srv, token).GetWebhookInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.PendingUpdateCount != 3 || info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" || info.LastErrorDate == 0 {
		t.Errorf("webhook info while failing = %+v", info)
	}

	deadline := time.Now().Add(5 * time.Second)
	for len(h.received()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := h.received()
	if len(got) != 3 || got[0].ID != first || got[0].Message.Text != "one" || got[1].Message.Text != "two" || got[2].Message.Text != "three" {
		t.Fatalf("delivered %+v", got)
	}
	h.mu.Lock()
	for _, s := range h.secrets {
		if s != "s3cret_-X" {
			t.Errorf("secret header = %q", s)
		}
	}
	h.mu.Unlock()
	d := srv.WebhookDeliveries()
	if len(d) != 5 || d[0].Status != 500 || d[1].Status != 500 || d[0].UpdateID != first || d[2].Status != 200 || d[2].UpdateID != first || d[4].Error != "" {
		t.Errorf("deliveries = %+v", d)
	}
	if d[2].At.Sub(d[1].At) < 90*time.Millisecond {
		t.Errorf("retried after %v, want the configured delay", d[2].At.Sub(d[1].At))
	}
	if n := srv.PendingUpdates(token); n != 0 {
		t.Errorf("%d updates still pending after delivery", n)
	}
}

func TestWebhookFailureDescriptions(t *testing.T) {
	srv := newServer(t)
	srv.AllowInsecureWebhooks(true)
	srv.SetWebhookRetry(time.Hour)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	if a := callForm(t, srv, token, "setWebhook", map[string]string{"url": deadURL}, nil); !a.OK {
		t.Fatal(a.Description)
	}
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "x"))
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.WebhookDeliveries()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if d := srv.WebhookDeliveries(); len(d) != 1 || d[0].Status != 0 || d[0].Error != "Connection refused" {
		t.Errorf("deliveries = %+v", d)
	}
}

func TestSetWebhookEndsLongPoll(t *testing.T) {
	srv := newServer(t)
	done := goCall(srv, token, "getUpdates", map[string]string{"timeout": "30"})
	time.Sleep(50 * time.Millisecond)
	if a := callForm(t, srv, token, "setWebhook", map[string]string{"url": "https://bot.example.com/hook"}, nil); !a.OK {
		t.Fatal(a.Description)
	}
	select {
	case r := <-done:
		wantError(t, r.answer, 409, "Conflict: terminated by setWebhook request")
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll outlived setWebhook")
	}
}

// Close ends every goroutine the fake started: long polls, a delivery stuck
// on a slow webhook, and idle connections.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))

	srv := telegramtest.NewServer()
	srv.AddBot(token, "test_bot", "Test")
	srv.AddBot(otherToken, "other_bot", "Other")
	srv.AllowInsecureWebhooks(true)
	if a := callForm(t, srv, token, "setWebhook", map[string]string{"url": slow.URL}, nil); !a.OK {
		t.Fatal(a.Description)
	}
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "x"))
	poll := goCall(srv, otherToken, "getUpdates", map[string]string{"timeout": "50"})
	time.Sleep(100 * time.Millisecond)
	srv.Close()
	if r := <-poll; r.err != nil || !r.OK {
		t.Errorf("long poll at Close = %+v", r)
	}
	close(release)
	slow.Close()
	http.DefaultClient.CloseIdleConnections()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
