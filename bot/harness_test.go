package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
	"github.com/turn-telegram/turn-telegram/turn"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

const (
	botToken   = "123456789:AAHtestTOKENtestTOKENtestTOKEN_xyz"
	numberID   = "eb2828fa-7605-4c97-bba1-ea74e25c7452"
	turnToken  = "turn-channel-token-0123456789"
	hmacSecret = "turn-hmac-secret-0123456789"
	chatID     = int64(424242)
)

// harness is the whole connector wired to the strict fakes: a fake Telegram,
// a fake Turn, a real store, the delivery engine and the HTTP routes.
type harness struct {
	t      testing.TB
	st     store.Store
	tg     *telegramtest.Server
	turn   *turntest.Server
	svc    *bot.Service
	ch     *bot.Channel
	srv    *httptest.Server
	logs   *syncBuffer
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type harnessOpts struct {
	polling      bool
	readReceipts bool
	linkTTL      time.Duration
	rate         float64
	maxAttempts  int
}

// syncBuffer collects log lines for assertions (e.g. no token in any line).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t testing.TB, st store.Store, o harnessOpts) *harness {
	t.Helper()
	h := &harness{t: t, st: st, logs: &syncBuffer{}}
	h.tg = telegramtest.NewServer()
	h.tg.AddBot(botToken, "turn_test_bot", "Turn Test")
	h.tg.AllowInsecureWebhooks(true)
	h.turn = turntest.NewServer()
	h.turn.AddNumber(numberID, turnToken)

	var out io.Writer = h.logs
	if testing.Verbose() {
		out = io.MultiWriter(h.logs, os.Stderr)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	maxAttempts := o.maxAttempts
	if maxAttempts == 0 {
		maxAttempts = 20
	}
	engine := delivery.New(st, delivery.Options{
		Concurrency: 16, Poll: 20 * time.Millisecond, BaseBackoff: 20 * time.Millisecond,
		MaxBackoff: 300 * time.Millisecond, MaxAttempts: maxAttempts, Logger: log,
	})
	r := mux.NewRouter()
	h.srv = httptest.NewServer(r)
	rate := o.rate
	if rate == 0 {
		rate = 1000
	}
	h.svc = bot.NewService(st, bot.Options{
		PublicURL:    h.srv.URL,
		MediaLinkTTL: o.linkTTL,
		ReadReceipts: o.readReceipts,
		Limits:       bot.Limits{PerSecond: rate, ChatPerSecond: 100, ChatBurst: 100},
		Logger:       log,
	}, engine.Notify)
	h.svc.Register(engine)
	r.HandleFunc("/channels/{channel}/turn", func(w http.ResponseWriter, r *http.Request) {
		h.svc.TurnWebhook(w, r, mux.Vars(r)["channel"])
	}).Methods(http.MethodPost)
	r.HandleFunc("/channels/{channel}/telegram", func(w http.ResponseWriter, r *http.Request) {
		h.svc.TelegramWebhook(w, r, mux.Vars(r)["channel"])
	}).Methods(http.MethodPost)
	r.HandleFunc("/media/{token}", func(w http.ResponseWriter, r *http.Request) {
		h.svc.Media(w, r, mux.Vars(r)["token"])
	}).Methods(http.MethodGet, http.MethodHead)

	ch, err := h.svc.AddChannel(bot.ChannelConfig{
		Key: numberID, TelegramToken: botToken, TelegramAPIURL: h.tg.URL,
		TurnAPIURL: h.turn.URL, TurnNumberID: numberID, TurnToken: turnToken, TurnHMACSecret: hmacSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.ch = ch
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	if err := h.svc.Setup(ctx, ch, o.polling); err != nil {
		t.Fatalf("setup: %v", err)
	}
	h.wg.Add(1)
	go func() { defer h.wg.Done(); _ = engine.Run(ctx, time.Second) }()
	if o.polling {
		h.wg.Add(1)
		go func() { defer h.wg.Done(); _ = h.svc.Poll(ctx, ch) }()
	}
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	h.cancel()
	h.wg.Wait()
	h.srv.Close()
	h.tg.Close()
	h.turn.Close()
	if strings.Contains(h.logs.String(), botToken) {
		h.t.Errorf("the bot token appeared in the logs")
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sendTurn posts a payload to the Turn webhook signed like Turn does.
func (h *harness) sendTurn(payload []byte) (*http.Response, []byte) {
	h.t.Helper()
	resp, err := h.turn.Send(context.Background(), h.srv.URL+"/channels/"+numberID+"/turn", []byte(hmacSecret), payload)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// sendTurnOK posts a payload and returns the connector message id.
func (h *harness) sendTurnOK(payload []byte) string {
	h.t.Helper()
	resp, body := h.sendTurn(payload)
	if resp.StatusCode != 200 {
		h.t.Fatalf("turn webhook: %d %s", resp.StatusCode, body)
	}
	var r turn.ReplyBody
	if err := json.Unmarshal(body, &r); err != nil || len(r.Messages) != 1 || r.Messages[0].ID == "" {
		h.t.Fatalf("turn webhook reply %s: %v", body, err)
	}
	return r.Messages[0].ID
}

// postTelegram posts a raw update to the Telegram webhook with a secret.
func (h *harness) postTelegram(body []byte, secret string) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/channels/"+numberID+"/telegram", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(bot.SecretHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// jobs lists the store's jobs of a kind and state.
func (h *harness) jobs(kind store.Kind, state store.State) []store.JobInfo {
	h.t.Helper()
	js, err := h.st.ListJobs(context.Background(), store.JobFilter{Kind: kind, State: state, Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return js
}

// eachStore runs fn on the embedded store and, when PostgreSQL answers (or
// CI requires it), on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	storetest.Each(t, fn)
}

func payload(t testing.TB, to string, msg string) []byte {
	t.Helper()
	return []byte(`{"to":"` + to + `","version":"0.0.1-alpha","context":null,"turn":` + msg + `}`)
}

func storetestSQLite(t *testing.T) store.Store { return storetest.SQLite(t) }
