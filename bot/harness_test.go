package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/internal/app"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
	"github.com/turn-telegram/turn-telegram/turn"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// TestMain runs, unless -parallel says otherwise, twice as many parallel
// tests as there are cores: the harness tests spend most of their time
// waiting (for polls, for a settle, for a fake's answer), not computing.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0)))
	}
	os.Exit(m.Run())
}

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
	t       testing.TB
	st      store.Store
	tg      *telegramtest.Server
	turn    *turntest.Server
	svc     *bot.Service
	ch      *bot.Channel
	srv     *httptest.Server
	logs    *syncBuffer
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	app     *app.App
	replica bool // shares another harness's fakes: does not close them
}

type harnessOpts struct {
	polling      bool
	readReceipts bool
	linkTTL      time.Duration
	rate         float64
	maxAttempts  int
	// limits overrides the service's Telegram limits (default: Telegram's,
	// which the fake enforces too).
	limits *bot.Limits
	// fakeLimits overrides the fake Telegram's rate limits (default: on,
	// at Telegram's published limits).
	fakeLimits *telegramtest.RateLimits
	// unpaced lifts the send rates on both sides (the service's and the
	// fake's) for a test that is not about them, so that nothing waits for
	// a token; limits and fakeLimits, when set, still win.
	unpaced bool
	lease   time.Duration
	// mediaAllowed, when set, replaces the networks media fetches may
	// reach (default: loopback, where the tests serve their links).
	mediaAllowed []netip.Prefix
	// drain is how long a stopped harness lets in-flight jobs finish; a
	// negative value stops at once, like a killed process [1s].
	drain time.Duration
	// shareFakes makes this harness a replica of another: same fakes, same
	// database, its own store pool, engine and HTTP server.
	shareFakes *harness
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
	if o.shareFakes != nil {
		h.tg, h.turn, h.replica = o.shareFakes.tg, o.shareFakes.turn, true
	} else {
		h.tg = telegramtest.NewServer()
		h.tg.AddBot(botToken, "turn_test_bot", "Turn Test")
		h.tg.AllowInsecureWebhooks(true)
		h.turn = turntest.NewServer()
		h.turn.AddNumber(numberID, turnToken)
		switch {
		case o.fakeLimits != nil:
			h.tg.SetRateLimits(*o.fakeLimits)
		case o.unpaced:
			h.tg.SetRateLimits(telegramtest.RateLimits{Disabled: true})
		}
	}

	var out io.Writer = h.logs
	if testing.Verbose() {
		out = io.MultiWriter(h.logs, os.Stderr)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	maxAttempts := o.maxAttempts
	if maxAttempts == 0 {
		maxAttempts = 20
	}
	limits := bot.Limits{PerSecond: o.rate}
	switch {
	case o.limits != nil:
		limits = *o.limits
	case o.unpaced:
		limits = unpacedLimits
	}
	if o.mediaAllowed == nil {
		o.mediaAllowed = loopback
	}
	drain := o.drain
	if drain == 0 {
		drain = time.Second
	}
	// The service as the binary builds it (internal/app), on a test server
	// whose address is known before it is built (media links point at it).
	h.srv = httptest.NewUnstartedServer(nil)
	url := "http://" + h.srv.Listener.Addr().String()
	a, err := app.New(context.Background(), app.Config{
		Store:     st,
		PublicURL: url,
		Polling:   o.polling,
		Channels: []bot.ChannelConfig{{
			Key: numberID, TelegramToken: botToken, TelegramAPIURL: h.tg.URL,
			TurnAPIURL: h.turn.URL, TurnNumberID: numberID, TurnToken: turnToken, TurnHMACSecret: hmacSecret,
		}},
		Bot: bot.Options{
			MediaLinkTTL: o.linkTTL,
			ReadReceipts: o.readReceipts,
			// The fakes and the tests' links are on loopback.
			MediaAllowedNetworks: o.mediaAllowed,
			Limits:               limits,
		},
		Engine: delivery.Options{
			Lease: o.lease, Concurrency: 16, Poll: 20 * time.Millisecond, BaseBackoff: 20 * time.Millisecond,
			MaxBackoff: 300 * time.Millisecond, MaxAttempts: maxAttempts,
		},
		ShutdownTimeout: drain,
		Logger:          log,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.app, h.svc, h.ch = a, a.Service(), a.Channels()[0]
	h.srv.Config.Handler = a.Handler()
	h.srv.Start()
	h.srv.URL = url
	// A replica finds the webhook already registered by the first; the
	// first is set up before the test sends anything.
	if o.shareFakes == nil {
		if err := a.Setup(context.Background()); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Add(1)
	go func() { defer h.wg.Done(); _ = a.Run(ctx) }()
	t.Cleanup(h.close)
	return h
}

func (h *harness) close() {
	h.cancel()
	h.wg.Wait()
	h.srv.Close()
	if !h.replica {
		h.tg.Close()
		h.turn.Close()
	}
	if strings.Contains(h.logs.String(), botToken) {
		h.t.Errorf("the bot token appeared in the logs")
	}
}

// unpacedLimits are the service's limits of an unpaced harness: far above
// anything a test sends, to one chat, a group or the whole bot.
var unpacedLimits = bot.Limits{PerSecond: 1000, ChatPerSecond: 1000, ChatBurst: 100, GroupPerMinute: 60000}

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
// CI requires it), on PostgreSQL, the two in parallel: each has its own
// store and harness. Parallel subtests run once the calling function has
// returned, so nothing may follow eachStore in it (no check after, no
// defer: use t.Cleanup); eachStoreSerial is for the tests that need that,
// or that measure memory or time.
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		t.Parallel()
		fn(t, st)
	})
}

// eachStoreSerial is eachStore with one store after the other.
func eachStoreSerial(t *testing.T, fn func(t *testing.T, st store.Store)) {
	storetest.Each(t, fn)
}

func payload(t testing.TB, to string, msg string) []byte {
	t.Helper()
	return []byte(`{"to":"` + to + `","version":"0.0.1-alpha","context":null,"turn":` + msg + `}`)
}

func storetestSQLite(t *testing.T) store.Store { return storetest.SQLite(t) }

// ---- helpers of the outbound end-to-end tests (bridge_out, bridge_status,
// bridge_callback) ----

// faultyStore wraps a store: Enqueue and Accept fail while failEnqueue is set (a
// database outage as the webhooks see it), and every batch it stores is
// recorded, so a test can replay exactly what Telegram or Turn posted.
type faultyStore struct {
	store.Store
	failEnqueue atomic.Bool

	mu       sync.Mutex
	enqueued []store.Batch
}

func (f *faultyStore) Enqueue(ctx context.Context, b store.Batch) ([]int64, error) {
	if f.failEnqueue.Load() {
		return nil, errors.New("faultyStore: database unreachable")
	}
	ids, err := f.Store.Enqueue(ctx, b)
	if err == nil {
		f.mu.Lock()
		f.enqueued = append(f.enqueued, b)
		f.mu.Unlock()
	}
	return ids, err
}

func (f *faultyStore) Accept(ctx context.Context, req store.Request, b store.Batch) (string, error) {
	if f.failEnqueue.Load() {
		return "", errors.New("faultyStore: database unreachable")
	}
	id, err := f.Store.Accept(ctx, req, b)
	if err == nil && id == req.TurnID {
		f.mu.Lock()
		f.enqueued = append(f.enqueued, b)
		f.mu.Unlock()
	}
	return id, err
}

// enqueuedJobs returns the jobs of a kind stored through Enqueue so far.
func (f *faultyStore) enqueuedJobs(kind store.Kind) []store.NewJob {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.NewJob
	for _, b := range f.enqueued {
		for _, j := range b.Jobs {
			if j.Kind == kind {
				out = append(out, j)
			}
		}
	}
	return out
}

// postTurnRaw posts body to a Turn webhook path of the service with the
// given X-Turn-Hook-Signature (none when signature is "").
func (h *harness) postTurnRaw(path string, body []byte, signature string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(turn.SignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// turnPath is the Turn webhook route of the harness's channel.
const turnPath = "/channels/" + numberID + "/turn"

// sendCalls returns the send* calls to chat that Telegram accepted, in order.
func (h *harness) sendCalls(chat int64) []telegramtest.Call {
	var out []telegramtest.Call
	want := strconv.FormatInt(chat, 10)
	for _, c := range h.tg.Calls() {
		if strings.HasPrefix(c.Method, "send") && c.Status == http.StatusOK && c.Params["chat_id"] == want {
			out = append(out, c)
		}
	}
	return out
}

// sendAttempts counts the send* calls to chat whatever their answer.
func (h *harness) sendAttempts(chat int64) int {
	n := 0
	want := strconv.FormatInt(chat, 10)
	for _, c := range h.tg.Calls() {
		if strings.HasPrefix(c.Method, "send") && c.Params["chat_id"] == want {
			n++
		}
	}
	return n
}

// waitSendCalls waits until Telegram accepted at least n send* calls to chat.
func (h *harness) waitSendCalls(t testing.TB, chat int64, n int) []telegramtest.Call {
	t.Helper()
	var got []telegramtest.Call
	eventually(t, fmt.Sprintf("%d send calls to chat %d", n, chat), func() bool {
		got = h.sendCalls(chat)
		return len(got) >= n
	})
	return got
}

// waitStatus waits until Turn accepted a status for the connector message
// id and returns it.
func (h *harness) waitStatus(t testing.TB, id, status string) turn.StatusObject {
	t.Helper()
	return h.waitStatusUntil(ctxT(t), t, id, status)
}

// waitStatusUntil is waitStatus giving up when ctx ends.
func (h *harness) waitStatusUntil(ctx context.Context, t testing.TB, id, status string) turn.StatusObject {
	t.Helper()
	for n := 1; ; {
		got, err := h.turn.WaitStatuses(ctx, numberID, n)
		for _, s := range got {
			if s.ID == id && s.Status == status {
				return s
			}
		}
		if err != nil {
			t.Fatalf("no %q status for %s (statuses so far %+v): %v", status, id, got, err)
		}
		n = len(got) + 1
	}
}

// statusesOf lists, in order, the statuses Turn accepted for a message id.
func (h *harness) statusesOf(id string) []string {
	var out []string
	for _, s := range h.turn.Statuses(numberID) {
		if s.ID == id {
			out = append(out, s.Status)
		}
	}
	return out
}

// waitTurnMessages waits until Turn accepted at least n inbound messages.
func (h *harness) waitTurnMessages(t testing.TB, n int) []turn.Inbound {
	t.Helper()
	got, err := h.turn.WaitMessages(ctxT(t), numberID, n)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// eventually polls cond until it holds, failing t after 15 seconds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle gives the connector time to do what it must not do (a duplicate,
// a stray call) before a test checks that it did not happen.
func settle() { time.Sleep(300 * time.Millisecond) }

// textPayload is a Turn webhook payload of a text message to chat.
func textPayload(chat int64, body string) []byte {
	msg, _ := json.Marshal(map[string]any{"type": "text", "text": map[string]string{"body": body}})
	return []byte(`{"to":"` + strconv.FormatInt(chat, 10) + `","version":"0.0.1-alpha","context":null,"turn":` + string(msg) + `}`)
}

// canonJSON re-encodes a JSON text so that two encodings of one value
// compare equal ("" stays "").
func canonJSON(t testing.TB, s string) string {
	t.Helper()
	if strings.TrimSpace(s) == "" {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %q: %v", s, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// loopback is what the tests let media fetches reach.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
