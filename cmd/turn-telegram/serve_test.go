package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/turn"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// The one channel every test configures. The secrets are long enough for
// the logger to redact them, so a test can look for them in the log.
const (
	testBotToken   = "7412583690:AAFq3xZt9LmR2vK8wYp4HnB6cJd1sE5uGoT"
	testBotSecret  = "AAFq3xZt9LmR2vK8wYp4HnB6cJd1sE5uGoT" // the part after the colon
	testNumberID   = "0b8f3c2e-5d4a-4e71-9a6b-2c1d8e7f9a30"
	testTurnToken  = "turn-channel-token-5f1e9c7a2b4d"
	testHMACSecret = "turn-hmac-secret-8c3a1f6e9d2b"
	testChat       = int64(421337)
)

// syncBuffer is the service's stderr: written by its goroutines, read by
// the test.
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

// fakes are the strict fake Telegram and fake Turn with the test channel
// registered, as cmd/fakes sets them up.
type fakes struct {
	tg   *telegramtest.Server
	turn *turntest.Server
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{tg: telegramtest.NewServer(), turn: turntest.NewServer()}
	t.Cleanup(f.tg.Close)
	t.Cleanup(f.turn.Close)
	f.tg.AddBot(testBotToken, "turn_e2e_bot", "Turn E2E")
	f.tg.AllowInsecureWebhooks(true)
	f.turn.AddNumber(testNumberID, testTurnToken)
	return f
}

// testEnv is the service's environment; getenv answers "" for anything unset,
// so the developer's own environment cannot leak into a test.
type testEnv map[string]string

func (e testEnv) getenv(name string) string { return e[name] }

// baseEnv is the environment of a service pointed at f with a fresh data
// directory and a free loopback port.
func (f *fakes) baseEnv(t *testing.T) testEnv {
	t.Helper()
	return testEnv{
		"TELEGRAM_BOT_TOKEN": testBotToken,
		"TELEGRAM_API_URL":   f.tg.URL,
		"TURN_API_URL":       f.turn.URL,
		"TURN_NUMBER_ID":     testNumberID,
		"TURN_TOKEN":         testTurnToken,
		"TURN_HMAC_SECRET":   testHMACSecret,
		"DATA_DIR":           t.TempDir(),
		"LISTEN_ADDR":        freeAddr(t),
		"SHUTDOWN_TIMEOUT":   "5s",
		"LOG_LEVEL":          "debug",
		// The fakes serve media from loopback.
		"MEDIA_ALLOWED_NETWORKS": "127.0.0.1/32",
	}
}

// freeAddr returns a loopback address no one listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// service is one in-process run of `turn-telegram serve`.
type service struct {
	url    string // where it listens, as http://host:port
	log    *syncBuffer
	cancel context.CancelFunc
	code   chan int
}

// startService runs serve with e until the test ends, and waits until it
// answers /readyz. At the end of the test it stops the service as SIGTERM
// would and checks that it exited 0.
func startService(t *testing.T, e testEnv) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{url: "http://" + e["LISTEN_ADDR"], log: &syncBuffer{}, cancel: cancel, code: make(chan int, 1)}
	go func() { s.code <- runContext(ctx, []string{"serve"}, e.getenv, s.log) }()
	t.Cleanup(func() {
		if code := s.stop(t); code != 0 {
			t.Errorf("serve exited %d; log:\n%s", code, s.log.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case code := <-s.code:
			s.code <- code
			t.Fatalf("serve exited %d before it was ready; log:\n%s", code, s.log.String())
		default:
		}
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready at %s within 15s (last error %v); log:\n%s", s.url, err, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop cancels the run, as a signal does, and returns its exit code.
func (s *service) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.code:
		s.code <- code // stop may be called again
		return code
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop within 20s of its context ending; log:\n%s", s.log.String())
		return -1
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testJPEG is a real, small JPEG image.
func testJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for x := range 32 {
		for y := range 24 {
			img.Set(x, y, color.RGBA{uint8(8 * x), uint8(10 * y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testVoice starts like an OGG/Opus voice note; the bytes are what matter.
var testVoice = append([]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead"), bytes.Repeat([]byte{0x5a, 0xa5}, 512)...)

// TestServeEndToEnd runs the service the way a new user does, against the
// fakes, in each way Telegram can reach it: a text, a photo and a voice
// note the user sends reach Turn (the media as links to the service that
// serve the very bytes and carry no bot token), and a journey's text sent
// to the service's Turn webhook reaches the user on Telegram.
func TestServeEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup completes the environment; it returns the mode the
		// service should report.
		setup func(t *testing.T, e testEnv) string
	}{
		{"polling", func(t *testing.T, e testEnv) string {
			return "polling"
		}},
		{"polling with PUBLIC_URL and secrets from files", func(t *testing.T, e testEnv) string {
			e["PUBLIC_URL"] = "http://" + e["LISTEN_ADDR"]
			e["TELEGRAM_MODE"] = "polling"
			dir := t.TempDir()
			for _, name := range []string{"TELEGRAM_BOT_TOKEN", "TURN_TOKEN", "TURN_HMAC_SECRET"} {
				path := filepath.Join(dir, strings.ToLower(name))
				// A trailing newline, as `echo secret > file` leaves it.
				if err := os.WriteFile(path, []byte(e[name]+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				e[name+"_FILE"] = path
				e[name] = "not-the-one-in-the-file" // the file wins
			}
			return "polling"
		}},
		{"webhook", func(t *testing.T, e testEnv) string {
			e["PUBLIC_URL"] = "http://" + e["LISTEN_ADDR"]
			return "webhook"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t)
			e := f.baseEnv(t)
			mode := tc.setup(t, e)
			svc := startService(t, e)
			ctx := testCtx(t)

			var webhookSecret string // derived from the bot token
			if mode == "webhook" {
				calls, err := f.tg.WaitCalls(ctx, "setWebhook", 1)
				if err != nil {
					t.Fatalf("the service never called setWebhook: %v; log:\n%s", err, svc.log.String())
				}
				c := calls[0]
				if c.Status != http.StatusOK || c.Params["url"] != svc.url+"/channels/"+testNumberID+"/telegram" {
					t.Fatalf("setWebhook: %d %q with url %q", c.Status, c.Description, c.Params["url"])
				}
				if c.Params["secret_token"] == "" {
					t.Fatal("setWebhook without a secret_token: anyone could post updates")
				}
				webhookSecret = c.Params["secret_token"]
			}
			if !strings.Contains(svc.log.String(), `"mode":"`+mode+`"`) {
				t.Errorf("the service did not start in %s mode; log:\n%s", mode, svc.log.String())
			}

			// The user writes, sends a photo, then a voice note.
			photo, voice := testJPEG(t), testVoice
			f.tg.PushUpdate(testBotToken, telegramtest.UserText(testChat, "Ada", "Lovelace", "hello from Telegram"))
			f.tg.PushUpdate(testBotToken, f.tg.UserPhoto(testBotToken, testChat, "Ada", "Lovelace", photo, "a picture"))
			f.tg.PushUpdate(testBotToken, f.tg.UserVoice(testBotToken, testChat, "Ada", "Lovelace", voice, 3))

			got, err := f.turn.WaitMessages(ctx, testNumberID, 3)
			if err != nil {
				t.Fatalf("Turn got %d of 3 messages: %v; log:\n%s", len(got), err, svc.log.String())
			}
			if len(got) != 3 {
				t.Fatalf("Turn got %d messages, want 3: %+v", len(got), got)
			}
			for _, in := range got {
				if in.Contact.ID != fmt.Sprint(testChat) || in.Message.From != fmt.Sprint(testChat) {
					t.Errorf("message %s is from contact %q / %q, want %d", in.Message.ID, in.Contact.ID, in.Message.From, testChat)
				}
				if in.Contact.Profile.Name != "Ada Lovelace" {
					t.Errorf("contact name %q, want Ada Lovelace", in.Contact.Profile.Name)
				}
			}
			if m := got[0].Message; m.Type != turn.TypeText || m.Text == nil || m.Text.Body != "hello from Telegram" {
				t.Errorf("first message: %+v, want the text", m)
			}
			if m := got[1].Message; m.Type != turn.TypeImage || m.Image == nil {
				t.Errorf("second message: %+v, want the photo", m)
			} else {
				if m.Image.Caption != "a picture" {
					t.Errorf("photo caption %q, want %q", m.Image.Caption, "a picture")
				}
				checkMediaLink(t, svc.url, m.Image, photo, "image/jpeg")
			}
			if m := got[2].Message; m.Type != turn.TypeAudio || m.Audio == nil {
				t.Errorf("third message: %+v, want the voice note as audio", m)
			} else {
				checkMediaLink(t, svc.url, m.Audio, voice, "audio/ogg")
			}
			// The updates came the way the mode says.
			var delivered int
			for _, d := range f.tg.WebhookDeliveries() {
				if d.Status == http.StatusOK {
					delivered++
				}
			}
			polls := len(f.tg.CallsTo("getUpdates"))
			if mode == "webhook" && (delivered != 3 || polls != 0) {
				t.Errorf("webhook mode: %d updates posted to the webhook and %d getUpdates calls, want 3 and 0", delivered, polls)
			}
			if mode == "polling" && (delivered != 0 || polls == 0) {
				t.Errorf("polling mode: %d updates posted to a webhook and %d getUpdates calls, want 0 and some", delivered, polls)
			}

			// The journey answers.
			payload := fmt.Sprintf(`{"to":"%d","version":"0.0.1-alpha","turn":{"type":"text","text":{"body":"Hi *there*, welcome"}}}`, testChat)
			id := sendTurn(t, f, svc.url, payload)
			sent, err := f.tg.WaitSent(ctx, testChat, 1)
			if err != nil {
				t.Fatalf("Telegram got no message: %v; log:\n%s", err, svc.log.String())
			}
			if m := sent[0]; m.Text != "Hi there, welcome" || !hasEntity(m, models.MessageEntityTypeBold, "there") {
				t.Errorf("Telegram got %q with entities %+v, want %q with \"there\" bold", m.Text, m.Entities, "Hi there, welcome")
			}
			statuses, err := f.turn.WaitStatuses(ctx, testNumberID, 1)
			if err != nil {
				t.Fatalf("Turn got no status: %v", err)
			}
			var sentStatus bool
			for _, st := range statuses {
				sentStatus = sentStatus || (st.ID == id && st.Status == turn.StatusSent)
			}
			if !sentStatus {
				t.Errorf("Turn got statuses %+v, want %q for %s", statuses, turn.StatusSent, id)
			}

			if code := svc.stop(t); code != 0 {
				t.Fatalf("serve exited %d; log:\n%s", code, svc.log.String())
			}
			checkNoSecrets(t, svc.log.String())
			if webhookSecret != "" && strings.Contains(svc.log.String(), webhookSecret) {
				t.Error("the Telegram webhook secret appears in the service's log")
			}
		})
	}
}

// checkMediaLink fetches a media link as Turn does.
func checkMediaLink(t *testing.T, serviceURL string, m *turn.Media, want []byte, mime string) {
	t.Helper()
	if !strings.HasPrefix(m.Link, serviceURL+"/media/") {
		t.Errorf("media link %q does not point at the service's /media/", m.Link)
	}
	if strings.Contains(m.Link, testBotSecret) || strings.Contains(m.Link, "7412583690") {
		t.Errorf("media link %q contains the bot token", m.Link)
	}
	if m.MimeType != mime {
		t.Errorf("media mime_type %q, want %q", m.MimeType, mime)
	}
	resp, err := http.Get(m.Link)
	if err != nil {
		t.Fatalf("fetch media link: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read media: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("media link answered %d: %s", resp.StatusCode, body)
	}
	if !bytes.Equal(body, want) {
		t.Errorf("media link served %d bytes that differ from the %d the user sent", len(body), len(want))
	}
	if ct := resp.Header.Get("Content-Type"); ct != mime {
		t.Errorf("media Content-Type %q, want %q", ct, mime)
	}
}

// sendTurn posts a journey's message to the service's Turn webhook, signed
// as Turn signs it, and returns the connector message id of the answer.
func sendTurn(t *testing.T, f *fakes, serviceURL, payload string) string {
	t.Helper()
	resp, err := f.turn.Send(testCtx(t), serviceURL+"/channels/"+testNumberID+"/turn", []byte(testHMACSecret), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Turn webhook answered %d: %s", resp.StatusCode, body)
	}
	var r turn.ReplyBody
	if err := json.Unmarshal(body, &r); err != nil || len(r.Messages) != 1 || r.Messages[0].ID == "" {
		t.Fatalf("Turn webhook answer %s: want one message id (%v)", body, err)
	}
	return r.Messages[0].ID
}

func hasEntity(m models.Message, typ models.MessageEntityType, text string) bool {
	u := utf16.Encode([]rune(m.Text)) // entity offsets count UTF-16 units
	for _, e := range m.Entities {
		if e.Type == typ && e.Offset >= 0 && e.Offset+e.Length <= len(u) && string(utf16.Decode(u[e.Offset:e.Offset+e.Length])) == text {
			return true
		}
	}
	return false
}

// checkNoSecrets fails if a log holds any secret of the channel.
func checkNoSecrets(t *testing.T, log string) {
	t.Helper()
	for name, secret := range map[string]string{
		"bot token": testBotSecret, "Turn token": testTurnToken, "HMAC secret": testHMACSecret,
	} {
		if strings.Contains(log, secret) {
			t.Errorf("the %s appears in the service's log", name)
		}
	}
}

// TestTurnWebhookRefusesUnsigned checks, through the real binary's router,
// that a call not signed with the channel's secret changes nothing.
func TestTurnWebhookRefusesUnsigned(t *testing.T) {
	f := newFakes(t)
	svc := startService(t, f.baseEnv(t))
	payload := fmt.Sprintf(`{"to":"%d","turn":{"type":"text","text":{"body":"forged"}}}`, testChat)
	resp, err := f.turn.Send(testCtx(t), svc.url+"/channels/"+testNumberID+"/turn", []byte("not-the-secret"), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a call signed with the wrong secret got %d, want 401", resp.StatusCode)
	}
	// A signed message sent afterwards is the first and only one to arrive.
	sendTurn(t, f, svc.url, fmt.Sprintf(`{"to":"%d","turn":{"type":"text","text":{"body":"genuine"}}}`, testChat))
	sent, err := f.tg.WaitSent(testCtx(t), testChat, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0].Text != "genuine" {
		t.Fatalf("Telegram got %+v, want only the genuine message", sent)
	}
}
