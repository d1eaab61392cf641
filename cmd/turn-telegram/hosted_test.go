package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store/storetest"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// The hosted channels' bots and the tokens Turn's UI issues them.
const (
	clinicBotToken  = "7100000001:AAclinicHOSTEDclinicHOSTEDclinicHOS"
	schoolBotToken  = "7100000002:AAschoolHOSTEDschoolHOSTEDschoolHOS"
	clinicTurnToken = "clinic-channel-token-from-turn-ui-1"
	schoolTurnToken = "school-channel-token-from-turn-ui-2"
)

// eventually polls cond until it holds, failing with what after 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// adminClient calls a service's admin API and keeps every answer, so a test
// can check that none holds a secret.
type adminClient struct {
	t     *testing.T
	token string
	mu    sync.Mutex
	seen  []string
}

func (c *adminClient) do(url, method, path string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if raw, ok := body.([]byte); ok {
		rd = bytes.NewReader(raw)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.seen = append(c.seen, string(answer))
	c.mu.Unlock()
	return resp.StatusCode, answer
}

// view gets a channel through the admin API; ok is false on 404.
func (c *adminClient) view(url, key string) (channels.View, bool) {
	c.t.Helper()
	status, body := c.do(url, http.MethodGet, "/admin/channels/"+key, nil)
	var v channels.View
	switch status {
	case http.StatusNotFound:
		return v, false
	case http.StatusOK:
		if err := json.Unmarshal(body, &v); err != nil {
			c.t.Fatalf("admin answer %s: %v", body, err)
		}
		return v, true
	}
	c.t.Fatalf("GET /admin/channels/%s answered %d: %s", key, status, body)
	return v, false
}

// createdChannel is the Turn channel the fake created for from_addr.
func createdChannel(t *testing.T, f *fakes, fromAddr string) turntest.CreatedChannel {
	t.Helper()
	for _, c := range f.turn.CreatedChannels() {
		if c.Request.FromAddr == fromAddr {
			return c
		}
	}
	t.Fatalf("Turn has no channel from %s", fromAddr)
	return turntest.CreatedChannel{}
}

// turnSend posts a signed journey message for chat to a channel's Turn
// webhook at url and returns the answer's status.
func turnSend(t *testing.T, f *fakes, url, key, hmac string, chat int64, text string) int {
	t.Helper()
	payload := fmt.Sprintf(`{"to":"%d","version":"0.0.1-alpha","turn":{"type":"text","text":{"body":%q}}}`, chat, text)
	resp, err := f.turn.Send(testCtx(t), url+"/channels/"+key+"/turn", []byte(hmac), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metricSum adds up the samples of name whose labels include all of want,
// over the services' /metrics.
func metricSum(t *testing.T, name string, want map[string]string, urls ...string) float64 {
	t.Helper()
	sum := 0.0
	line := regexp.MustCompile(`^` + name + `\{([^}]*)\} (\S+)$`)
	for _, u := range urls {
		resp, err := http.Get(u + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			m := line.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			match := true
			for k, v := range want {
				match = match && strings.Contains(m[1], k+`="`+v+`"`)
			}
			if match {
				f, _ := strconv.ParseFloat(m[2], 64)
				sum += f
			}
		}
		resp.Body.Close()
	}
	return sum
}

// startProcess runs `turn-telegram serve` with e as a process of its own
// (this test binary, as TestKill9 does), until the test ends, and waits
// until it answers /readyz. Stopping it sends SIGTERM.
func startProcess(t *testing.T, e testEnv) *service {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = []string{crashChildEnv + "=1", "PATH=" + os.Getenv("PATH")}
	for k, v := range e {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := &service{url: "http://" + e["LISTEN_ADDR"], log: &syncBuffer{}, code: make(chan int, 1)}
	cmd.Stdout, cmd.Stderr = io.Discard, s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cancel = func() { _ = cmd.Process.Signal(syscall.SIGTERM) }
	go func() {
		_ = cmd.Wait()
		s.code <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		if code := s.stop(t); code != 0 {
			t.Errorf("serve process exited %d; log:\n%s", code, s.log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case code := <-s.code:
			s.code <- code
			t.Fatalf("serve process exited %d before it was ready; log:\n%s", code, s.log.String())
		default:
		}
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve process not ready at %s within 30s; log:\n%s", s.url, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHostedTwoReplicas is the README's hosted walkthrough with two
// replica processes on one PostgreSQL: channels added, changed, disabled and removed
// by the command line and the admin API are served or dropped by both
// replicas without a restart; messages flow both ways on both channels
// through either replica; the metrics move; and over the whole run no log
// line and no admin answer holds a secret, and every log line about a
// channel names it.
func TestHostedTwoReplicas(t *testing.T) {
	t.Parallel() // its replicas are processes of their own, as in TestKill9
	f := newFakes(t)
	f.tg.AddBot(clinicBotToken, "clinic_bot", "Clinic")
	f.tg.AddBot(schoolBotToken, "school_bot", "School")
	dsn := storetest.PostgresURL(t)
	addrA, addrB := freeAddr(t), freeAddr(t)
	base := testEnv{
		"DATABASE_URL": dsn, "SECRET_KEY": testSecretKey, "ADMIN_TOKEN": testAdminToken,
		"PUBLIC_URL": "http://" + addrA, "TELEGRAM_API_URL": f.tg.URL, "TURN_API_URL": f.turn.URL,
		"CHANNEL_SYNC_INTERVAL": "200ms", "SHUTDOWN_TIMEOUT": "5s", "LOG_LEVEL": "debug",
	}
	envA, envB := maps.Clone(base), maps.Clone(base)
	envA["LISTEN_ADDR"], envB["LISTEN_ADDR"] = addrA, addrB
	a, b := startProcess(t, envA), startProcess(t, envB)
	adm := &adminClient{t: t, token: testAdminToken}
	ctx := testCtx(t)

	// servedEverywhere waits until both replicas serve key at its stored
	// version (or, with gone, serve it no more: its Telegram webhook then
	// answers a call without the secret 404, not 401).
	// gone: the channel's Telegram webhook answers want (404 once removed,
	// 503 while disabled, so that Telegram keeps the updates).
	servedEverywhere := func(key string, gone bool, want ...int) {
		t.Helper()
		eventually(t, fmt.Sprintf("both replicas follow %s (gone: %t)", key, gone), func() bool {
			for _, u := range []string{a.url, b.url} {
				if gone {
					resp, err := http.Post(u+"/channels/"+key+"/telegram", "application/json", strings.NewReader("{}"))
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if code := append(want, http.StatusNotFound)[0]; resp.StatusCode != code {
						return false
					}
					continue
				}
				if v, ok := adm.view(u, key); !ok || v.Served == nil || !*v.Served || v.ServedVersion != v.Version {
					return false
				}
			}
			return true
		})
	}

	// The operator adds the clinic with the command line, creating its Turn
	// channel, and sets the token Turn's UI issues through replica B.
	cliEnv := maps.Clone(base)
	cliOK(t, cliEnv, "channels", "add", "-key", "clinic",
		"-bot-token-file", writeFile(t, "clinic", clinicBotToken), "-turn-token-file", writeFile(t, "number", testTurnToken))
	clinic := createdChannel(t, f, "@clinic_bot")
	f.turn.AddNumber(clinic.NumberID, clinicTurnToken)
	if status, body := adm.do(b.url, http.MethodPost, "/admin/channels/clinic/token", map[string]string{"token": clinicTurnToken}); status != http.StatusOK {
		t.Fatalf("set the clinic's token: %d %s", status, body)
	}
	// And the school through replica A's admin API, then its token with
	// the command line.
	status, body := adm.do(a.url, http.MethodPost, "/admin/channels", channels.AddRequest{Key: "school", BotToken: schoolBotToken, TurnToken: testTurnToken})
	if status != http.StatusCreated {
		t.Fatalf("POST /admin/channels: %d %s", status, body)
	}
	school := createdChannel(t, f, "@school_bot")
	f.turn.AddNumber(school.NumberID, schoolTurnToken)
	cliOK(t, cliEnv, "channels", "set-token", "school", "-token", schoolTurnToken)
	servedEverywhere("clinic", false)
	servedEverywhere("school", false)

	// People write to both bots; Telegram posts to PUBLIC_URL (replica A).
	const clinicChat, schoolChat = int64(501), int64(502)
	f.tg.PushUpdate(clinicBotToken, telegramtest.UserText(clinicChat, "Ada", "", "hello clinic"))
	f.tg.PushUpdate(schoolBotToken, telegramtest.UserText(schoolChat, "Bob", "", "hello school"))
	for _, c := range []struct {
		number, text string
	}{{clinic.NumberID, "hello clinic"}, {school.NumberID, "hello school"}} {
		got, err := f.turn.WaitMessages(ctx, c.number, 1)
		if err != nil || got[0].Message.Text == nil || got[0].Message.Text.Body != c.text {
			t.Fatalf("Turn channel %s got %+v (%v), want %q", c.number, got, err, c.text)
		}
	}
	// The journeys answer, through either replica.
	if s := turnSend(t, f, b.url, "clinic", clinic.HMACSecret, clinicChat, "clinic answers"); s != http.StatusOK {
		t.Fatalf("clinic journey through B: %d", s)
	}
	if s := turnSend(t, f, a.url, "school", school.HMACSecret, schoolChat, "school answers"); s != http.StatusOK {
		t.Fatalf("school journey through A: %d", s)
	}
	eventually(t, "both answers reached Telegram from the right bots", func() bool {
		c, s := f.tg.SentBy(clinicBotToken, clinicChat), f.tg.SentBy(schoolBotToken, schoolChat)
		return len(c) == 1 && c[0].Text == "clinic answers" && len(s) == 1 && s[0].Text == "school answers"
	})

	// The metrics move: deliveries per channel, and a queue while Telegram is down.
	for _, key := range []string{"clinic", "school"} {
		eventually(t, key+"'s deliveries counted", func() bool {
			return metricSum(t, "turn_telegram_job_attempts_total", map[string]string{"channel": key, "kind": "update", "result": "ok"}, a.url, b.url) >= 1 &&
				metricSum(t, "turn_telegram_job_attempts_total", map[string]string{"channel": key, "kind": "outbound", "result": "ok"}, a.url, b.url) >= 1
		})
		eventually(t, key+"'s webhook reported healthy", func() bool {
			return metricSum(t, "turn_telegram_webhook_healthy", map[string]string{"channel": key}, a.url) == 1
		})
	}
	f.tg.SetDown(true)
	if s := turnSend(t, f, a.url, "school", school.HMACSecret, schoolChat, "while Telegram is down"); s != http.StatusOK {
		t.Fatalf("school journey while Telegram is down: %d", s)
	}
	eventually(t, "the waiting message shows in the queue metrics", func() bool {
		return metricSum(t, "turn_telegram_queue_jobs", map[string]string{"channel": "school", "kind": "outbound", "state": "pending"}, a.url) == 1 &&
			metricSum(t, "turn_telegram_job_attempts_total", map[string]string{"channel": "school", "result": "retryable"}, a.url, b.url) >= 1
	})
	f.tg.SetDown(false)
	eventually(t, "the waiting message was sent", func() bool { return len(f.tg.SentBy(schoolBotToken, schoolChat)) == 2 })

	// Disabling drops the clinic everywhere; enabling brings it back.
	if status, body := adm.do(a.url, http.MethodPost, "/admin/channels/clinic/disable", nil); status != http.StatusOK {
		t.Fatalf("disable: %d %s", status, body)
	}
	servedEverywhere("clinic", true, http.StatusServiceUnavailable)
	// Its messages wait: Turn is answered 503 and retries, where a 404
	// would make it give up.
	if s := turnSend(t, f, b.url, "clinic", clinic.HMACSecret, clinicChat, "while disabled"); s != http.StatusServiceUnavailable {
		t.Errorf("a disabled channel's webhook answered %d, want 503", s)
	}
	cliOK(t, cliEnv, "channels", "enable", "clinic")
	servedEverywhere("clinic", false)
	if s := turnSend(t, f, b.url, "clinic", clinic.HMACSecret, clinicChat, "while disabled"); s != http.StatusOK {
		t.Errorf("Turn's retry to the enabled channel was answered %d, want 200", s)
	}

	// Removing the school drops it everywhere; the clinic goes on.
	cliOK(t, cliEnv, "channels", "remove", "school")
	servedEverywhere("school", true)
	for _, u := range []string{a.url, b.url} {
		if s := turnSend(t, f, u, "school", school.HMACSecret, schoolChat, "after removal"); s != http.StatusNotFound {
			t.Errorf("the removed channel's webhook at %s answered %d, want 404", u, s)
		}
	}
	if calls := f.tg.CallsTo("deleteWebhook"); len(calls) != 1 || calls[0].Bot != "school_bot" {
		t.Errorf("deleteWebhook calls %+v, want one for the school's bot", calls)
	}
	f.tg.PushUpdate(clinicBotToken, telegramtest.UserText(clinicChat, "Ada", "", "still here"))
	if _, err := f.turn.WaitMessages(ctx, clinic.NumberID, 2); err != nil {
		t.Fatalf("the clinic stopped working after the school's removal: %v", err)
	}
	eventually(t, "the clinic's answer after re-enabling was sent", func() bool {
		return len(f.tg.SentBy(clinicBotToken, clinicChat)) == 2
	})

	// Stop both replicas as SIGTERM does and read everything they logged.
	for _, s := range []*service{a, b} {
		if code := s.stop(t); code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	}
	secrets := map[string]string{
		"clinic bot token": clinicBotToken, "clinic token secret": "AAclinicHOSTEDclinicHOSTEDclinicHOS",
		"school bot token": schoolBotToken, "school token secret": "AAschoolHOSTEDschoolHOSTEDschoolHOS",
		"clinic Turn token": clinicTurnToken, "school Turn token": schoolTurnToken, "number token": testTurnToken,
		"clinic HMAC secret": clinic.HMACSecret, "school HMAC secret": school.HMACSecret,
		"secret key": testSecretKey, "admin token": testAdminToken,
	}
	for _, c := range f.tg.CallsTo("setWebhook") {
		secrets["webhook secret of "+c.Bot] = c.Params["secret_token"]
	}
	checkLog(t, "replica A", a.log.String(), secrets, []string{"clinic", "school"})
	checkLog(t, "replica B", b.log.String(), secrets, []string{"clinic", "school"})
	for _, answer := range adm.seen {
		for name, s := range secrets {
			if s != "" && strings.Contains(answer, s) {
				t.Errorf("an admin answer holds the %s", name)
			}
		}
	}
}

// coverWarning is what a process of this test binary built with -cover
// writes to stderr when it exits with no GOCOVERDIR to write its counters
// to (go test -cover sets none for the processes a test starts).
const coverWarning = "warning: GOCOVERDIR not set, no coverage data emitted"

// checkLog checks every line of a service's log: it is JSON, holds no
// secret, and names its channel when it is about one (mentions a channel's
// route).
func checkLog(t *testing.T, who, log string, secrets map[string]string, keys []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) < 10 {
		t.Fatalf("%s logged only %d lines: the check proves little", who, len(lines))
	}
	for i, line := range lines {
		if line == coverWarning && i == len(lines)-1 && testing.CoverMode() != "" {
			continue // the Go runtime's, at exit, not the service's
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("%s line %d is not JSON: %q", who, i+1, line)
			continue
		}
		for name, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				t.Errorf("%s line %d holds the %s: %s", who, i+1, name, rec["msg"])
			}
		}
		for _, key := range keys {
			if strings.Contains(line, "/channels/"+key+"/") || strings.Contains(line, `"`+key+`"`) {
				if rec["channel"] == nil {
					t.Errorf("%s line %d is about channel %s but has no channel attribute: %s", who, i+1, key, line)
				}
			}
		}
	}
}
