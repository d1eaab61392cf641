package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/turn"
)

// syncBuffer is a writer the command writes to while the test reads it.
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

// running is one run of the command, on random ports.
type running struct {
	env     map[string]string // the printed exports
	control string            // the control API's base URL
	stdout  *syncBuffer
	stderr  *syncBuffer
	lastUpd int64 // the last update_id taken with getUpdates
}

// startFakes runs the command until the test ends, with the service
// expected at serviceURL and the extra flags, and parses what it prints.
func startFakes(t *testing.T, serviceURL string, extra ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{env: map[string]string{}, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	envFile := filepath.Join(t.TempDir(), "fakes.env")
	args := []string{"-telegram-addr", "127.0.0.1:0", "-turn-addr", "127.0.0.1:0", "-control-addr", "127.0.0.1:0",
		"-service-url", serviceURL, "-env-file", envFile}
	args = append(args, extra...)
	code := make(chan int, 1)
	go func() { code <- runContext(ctx, args, r.stdout, r.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case c := <-code:
			if c != 0 {
				t.Errorf("fakes exited %d; stderr:\n%s", c, r.stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Errorf("fakes did not stop within 15s of their context ending")
		}
		if dir := r.env["DATA_DIR"]; strings.Contains(dir, "turn-telegram-fakes-") {
			os.RemoveAll(dir)
		}
	})

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.stdout.String(), "# Control API: ") {
		select {
		case c := <-code:
			t.Fatalf("fakes exited %d at start; stderr:\n%s", c, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("fakes printed no settings within 10s; stdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := r.stdout.String()
	var exports strings.Builder
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(rest, "=")
			r.env[k] = strings.Trim(v, "'")
			exports.WriteString(line + "\n")
		}
		if rest, ok := strings.CutPrefix(line, "# Control API: "); ok {
			r.control = strings.TrimSuffix(strings.Fields(rest)[0], "/")
		}
	}
	file, err := os.ReadFile(envFile)
	if err != nil || string(file) != exports.String() {
		t.Errorf("-env-file holds %q (%v), want the printed exports %q", file, err, exports.String())
	}
	return r
}

// do makes a request to the control API and decodes the JSON answer into v
// (if not nil); it returns the status.
func (r *running) do(t *testing.T, method, path string, body []byte, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, r.control+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s answered %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// botCall calls the Bot API through TELEGRAM_API_URL, as the service does,
// and decodes the result into v.
func (r *running) botCall(t *testing.T, method string, params map[string]any, v any) {
	t.Helper()
	body, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(r.env["TELEGRAM_API_URL"]+"/bot"+r.env["TELEGRAM_BOT_TOKEN"]+"/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	var answer struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		Description string          `json:"description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || !answer.OK {
		t.Fatalf("%s: %d %q (%v)", method, resp.StatusCode, answer.Description, err)
	}
	if err := json.Unmarshal(answer.Result, v); err != nil {
		t.Fatalf("%s result %s: %v", method, answer.Result, err)
	}
}

// nextUpdate takes the next update with getUpdates.
func (r *running) nextUpdate(t *testing.T) models.Update {
	t.Helper()
	var upds []models.Update
	r.botCall(t, "getUpdates", map[string]any{"offset": r.lastUpd + 1, "timeout": 5, "limit": 1}, &upds)
	if len(upds) != 1 {
		t.Fatalf("getUpdates gave %d updates, want 1", len(upds))
	}
	r.lastUpd = upds[0].ID
	return upds[0]
}

// download fetches a file of the bot as the service does: getFile, then
// the file URL.
func (r *running) download(t *testing.T, fileID string) []byte {
	t.Helper()
	var f models.File
	r.botCall(t, "getFile", map[string]any{"file_id": fileID}, &f)
	resp, err := http.Get(r.env["TELEGRAM_API_URL"] + "/file/bot" + r.env["TELEGRAM_BOT_TOKEN"] + "/" + f.FilePath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s: %d %v", f.FilePath, resp.StatusCode, err)
	}
	return b
}

// fakeService stands in for turn-telegram's Turn webhook: it checks the
// signature with secret, records the payloads and answers like the service.
type fakeService struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []*turn.Outbound
	paths  []string
}

func newFakeService(t *testing.T) *fakeService {
	s := &fakeService{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if !turn.VerifySignature([]byte(s.secret), body, r.Header.Get(turn.SignatureHeader)) {
			turn.WriteError(w, http.StatusUnauthorized, map[string]any{"signature": []string{"is missing or invalid"}})
			return
		}
		out, err := turn.DecodeOutbound(body)
		if err != nil {
			turn.WriteError(w, http.StatusBadRequest, map[string]any{"body": []string{err.Error()}})
			return
		}
		s.got = append(s.got, out)
		s.paths = append(s.paths, r.URL.Path)
		turn.WriteReply(w, fmt.Sprintf("msg-%d", len(s.got)))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// TestFakes plays both sides through the command's control API and checks
// each through the settings it printed, as turn-telegram would use them.
func TestFakes(t *testing.T) {
	svc := newFakeService(t)
	r := startFakes(t, svc.srv.URL)
	svc.mu.Lock()
	svc.secret = r.env["TURN_HMAC_SECRET"]
	svc.mu.Unlock()

	t.Run("settings", func(t *testing.T) {
		for _, k := range []string{"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TURN_API_URL", "TURN_NUMBER_ID",
			"TURN_TOKEN", "TURN_HMAC_SECRET", "LISTEN_ADDR", "PUBLIC_URL", "TELEGRAM_MODE", "DATA_DIR",
			"MEDIA_ALLOWED_NETWORKS"} {
			if r.env[k] == "" {
				t.Errorf("no export of %s in:\n%s", k, r.stdout.String())
			}
		}
		if tok := r.env["TELEGRAM_BOT_TOKEN"]; !regexp.MustCompile(`^[1-9][0-9]{9}:AA[A-Za-z0-9_-]{33}$`).MatchString(tok) {
			t.Errorf("bot token %q does not look like @BotFather's", tok)
		}
		u, _ := url.Parse(svc.srv.URL)
		if r.env["LISTEN_ADDR"] != u.Host || r.env["PUBLIC_URL"] != svc.srv.URL || r.env["TELEGRAM_MODE"] != "polling" {
			t.Errorf("LISTEN_ADDR=%s PUBLIC_URL=%s TELEGRAM_MODE=%s, want %s, %s, polling",
				r.env["LISTEN_ADDR"], r.env["PUBLIC_URL"], r.env["TELEGRAM_MODE"], u.Host, svc.srv.URL)
		}
		if entries, err := os.ReadDir(r.env["DATA_DIR"]); err != nil || len(entries) != 0 {
			t.Errorf("DATA_DIR %s is not a fresh empty directory: %d entries, %v", r.env["DATA_DIR"], len(entries), err)
		}
		var me models.User
		r.botCall(t, "getMe", nil, &me)
		if !me.IsBot || !strings.HasPrefix(r.env["TELEGRAM_BOT_TOKEN"], strconv.FormatInt(me.ID, 10)+":") {
			t.Errorf("getMe through TELEGRAM_API_URL: %+v", me)
		}
	})

	t.Run("user text", func(t *testing.T) {
		var ans map[string]int64
		if code := r.do(t, "POST", "/user/text?chat=42&text=hello%20there", nil, &ans); code != 200 || ans["update_id"] == 0 {
			t.Fatalf("POST /user/text: %d %v", code, ans)
		}
		u := r.nextUpdate(t)
		if u.ID != ans["update_id"] || u.Message == nil || u.Message.Text != "hello there" || u.Message.Chat.ID != 42 ||
			u.Message.From == nil || u.Message.From.FirstName != "Alex" {
			t.Fatalf("update %+v, want the text from chat 42", u)
		}
		if code := r.do(t, "POST", "/user/text?chat=42&first=Grace&last=Hopper", []byte("from the body\n"), nil); code != 200 {
			t.Fatalf("POST /user/text with a body: %d", code)
		}
		if u := r.nextUpdate(t); u.Message == nil || u.Message.Text != "from the body" || u.Message.From.FirstName != "Grace" {
			t.Fatalf("update %+v, want the body's text from Grace", u)
		}
	})

	t.Run("user photo", func(t *testing.T) {
		// The body is the photo.
		photo := sampleJPEG()
		photo = append(photo[:len(photo):len(photo)], 0) // not the generated one
		if code := r.do(t, "POST", "/user/photo?chat=42&caption=look", photo, nil); code != 200 {
			t.Fatalf("POST /user/photo: %d", code)
		}
		u := r.nextUpdate(t)
		if u.Message == nil || len(u.Message.Photo) == 0 || u.Message.Caption != "look" {
			t.Fatalf("update %+v, want a photo captioned look", u)
		}
		sizes := u.Message.Photo
		if got := r.download(t, sizes[len(sizes)-1].FileID); !bytes.Equal(got, photo) {
			t.Errorf("the photo downloads as %d bytes that differ from the %d sent", len(got), len(photo))
		}
		// No body: a generated JPEG.
		if code := r.do(t, "POST", "/user/photo?chat=42", nil, nil); code != 200 {
			t.Fatalf("POST /user/photo without a body: %d", code)
		}
		u = r.nextUpdate(t)
		if u.Message == nil || len(u.Message.Photo) == 0 {
			t.Fatalf("update %+v, want a photo", u)
		}
		sizes = u.Message.Photo
		if _, err := jpeg.Decode(bytes.NewReader(r.download(t, sizes[len(sizes)-1].FileID))); err != nil {
			t.Errorf("the generated photo is not a JPEG: %v", err)
		}
	})

	t.Run("user voice", func(t *testing.T) {
		if code := r.do(t, "POST", "/user/voice?chat=42&duration=7", nil, nil); code != 200 {
			t.Fatalf("POST /user/voice: %d", code)
		}
		u := r.nextUpdate(t)
		if u.Message == nil || u.Message.Voice == nil || u.Message.Voice.Duration != 7 || u.Message.Voice.MimeType != "audio/ogg" {
			t.Fatalf("update %+v, want a 7s OGG voice note", u)
		}
		if got := r.download(t, u.Message.Voice.FileID); !bytes.Equal(got, sampleVoice()) {
			t.Errorf("the voice note downloads as %d bytes that differ from the generated ones", len(got))
		}
	})

	t.Run("bot message and button press", func(t *testing.T) {
		var m models.Message
		r.botCall(t, "sendMessage", map[string]any{
			"chat_id": 42, "text": "Coffee or tea?",
			"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{
				{{"text": "Coffee", "callback_data": "c1"}}, {{"text": "Tea", "callback_data": "t1"}},
			}},
		}, &m)
		var sent []models.Message
		if code := r.do(t, "GET", "/telegram/sent?chat=42", nil, &sent); code != 200 || len(sent) != 1 || sent[0].Text != "Coffee or tea?" {
			t.Fatalf("GET /telegram/sent: %d %+v", code, sent)
		}
		var press map[string]any
		if code := r.do(t, "POST", "/user/press?chat=42&button=Tea", nil, &press); code != 200 || press["data"] != "t1" {
			t.Fatalf("POST /user/press by title: %d %v", code, press)
		}
		u := r.nextUpdate(t)
		if q := u.CallbackQuery; q == nil || q.Data != "t1" || q.ID != press["callback_query_id"] {
			t.Fatalf("update %+v, want the press of Tea", u)
		}
		path := fmt.Sprintf("/user/press?chat=42&message=%d&data=forged", m.ID)
		if code := r.do(t, "POST", path, nil, nil); code != 200 {
			t.Fatalf("POST %s: %d", path, code)
		}
		if u := r.nextUpdate(t); u.CallbackQuery == nil || u.CallbackQuery.Data != "forged" {
			t.Fatalf("update %+v, want the forged press", u)
		}
		for path, want := range map[string]int{
			"/user/press?chat=42&button=Milk":                 404,
			"/user/press?chat=42&message=999&data=x":          404,
			"/user/press?chat=43&button=Tea":                  404,
			"/user/press?chat=42&data=x":                      400,
			"/user/press?chat=42":                             400,
			"/user/press?chat=42&button=Tea&data=x&message=1": 400,
			"/user/press?chat=42&button=Tea&message=1":        400,
		} {
			var e map[string]string
			if code := r.do(t, "POST", path, nil, &e); code != want || e["error"] == "" {
				t.Errorf("POST %s: %d %v, want %d with an error", path, code, e, want)
			}
		}
	})

	t.Run("turn receives", func(t *testing.T) {
		c := turn.NewClient(r.env["TURN_API_URL"], r.env["TURN_NUMBER_ID"], r.env["TURN_TOKEN"], nil)
		in := &turn.Inbound{
			Contact: turn.Contact{ID: "42", Profile: turn.Profile{Name: "Alex Example"}},
			Message: turn.InboundMessage{Type: turn.TypeText, From: "42", ID: "tg:42:1", Timestamp: "1700000000", Text: &turn.Text{Body: "hi Turn"}},
		}
		if err := c.SendMessage(context.Background(), in); err != nil {
			t.Fatalf("inbound through TURN_API_URL: %v", err)
		}
		var msgs []turn.Inbound
		if code := r.do(t, "GET", "/turn/messages", nil, &msgs); code != 200 || len(msgs) != 1 || msgs[0].Message.Text == nil || msgs[0].Message.Text.Body != "hi Turn" {
			t.Fatalf("GET /turn/messages: %d %+v", code, msgs)
		}
		st := &turn.Status{Status: turn.StatusObject{ID: "msg-1", Status: turn.StatusSent, Timestamp: "1700000001", RecipientID: "42"}}
		if err := c.SendStatus(context.Background(), st); err != nil {
			t.Fatalf("status through TURN_API_URL: %v", err)
		}
		var sts []turn.StatusObject
		if code := r.do(t, "GET", "/turn/statuses", nil, &sts); code != 200 || len(sts) != 1 || sts[0] != st.Status {
			t.Fatalf("GET /turn/statuses: %d %+v", code, sts)
		}
		bad := turn.NewClient(r.env["TURN_API_URL"], r.env["TURN_NUMBER_ID"], "wrong-token", nil)
		if err := bad.SendMessage(context.Background(), in); err == nil {
			t.Error("the fake Turn accepted a message with the wrong token")
		}
	})

	t.Run("turn sends", func(t *testing.T) {
		var reply turn.ReplyBody
		code := r.do(t, "POST", "/turn/send?chat=42", []byte(`{"type":"text","text":{"body":"Hi *there*"}}`), &reply)
		if code != 200 || len(reply.Messages) != 1 || reply.Messages[0].ID != "msg-1" {
			t.Fatalf("POST /turn/send: %d %+v, want the service's answer", code, reply)
		}
		// A whole payload, addressed by its own "to".
		code = r.do(t, "POST", "/turn/send", []byte(`{"to":"77","turn":{"type":"text","text":{"body":"whole"}},"waiting_for_user_input":true}`), &reply)
		if code != 200 || reply.Messages[0].ID != "msg-2" {
			t.Fatalf("POST /turn/send with a whole payload: %d %+v", code, reply)
		}
		svc.mu.Lock()
		got, paths := svc.got, svc.paths
		svc.mu.Unlock()
		if len(got) != 2 {
			t.Fatalf("the service got %d webhook calls, want 2", len(got))
		}
		want := "/channels/" + r.env["TURN_NUMBER_ID"] + "/turn"
		if paths[0] != want || got[0].To != "42" || got[0].Turn == nil || got[0].Turn.Text == nil || got[0].Turn.Text.Body != "Hi *there*" {
			t.Errorf("first call %s %+v, want the text to 42 at %s", paths[0], got[0], want)
		}
		if got[1].To != "77" || !got[1].WaitingForUserInput {
			t.Errorf("second call %+v, want the whole payload to 77", got[1])
		}
		var e map[string]string
		for path, body := range map[string]string{
			"/turn/send?chat=42": "not json",
			"/turn/send":         `{"type":"text","text":{"body":"to whom?"}}`,
			"/turn/send?chat=x":  `{"type":"text","text":{"body":"Hi"}}`,
		} {
			if code := r.do(t, "POST", path, []byte(body), &e); code != 400 || e["error"] == "" {
				t.Errorf("POST %s %s: %d %v, want 400 with an error", path, body, code, e)
			}
		}
		// What the service refuses comes back as it answered.
		svc.mu.Lock()
		svc.secret = "rotated"
		svc.mu.Unlock()
		var refusal struct {
			Errors map[string]any `json:"errors"`
		}
		if code := r.do(t, "POST", "/turn/send?chat=42", []byte(`{"type":"text","text":{"body":"Hi"}}`), &refusal); code != 401 || refusal.Errors["signature"] == nil {
			t.Errorf("a refused webhook call answered %d %v, want the service's 401", code, refusal)
		}
	})

	t.Run("turn media", func(t *testing.T) {
		var ans map[string]string
		if code := r.do(t, "POST", "/turn/media?mime=application/pdf", []byte("%PDF-1.4 tiny"), &ans); code != 200 {
			t.Fatalf("POST /turn/media: %d %v", code, ans)
		}
		if !strings.HasPrefix(ans["link"], r.env["TURN_API_URL"]+"/uploads/") {
			t.Fatalf("media link %q is not under TURN_API_URL", ans["link"])
		}
		resp, err := http.Get(ans["link"])
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "%PDF-1.4 tiny" || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Errorf("media link served %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			want         int
		}{
			{"POST", "/user/text?text=hi", 400},
			{"POST", "/user/text?chat=0&text=hi", 400},
			{"POST", "/user/text?chat=42", 400},
			{"POST", "/user/voice?chat=42&duration=long", 400},
			{"GET", "/telegram/sent", 400},
			{"GET", "/user/text?chat=42&text=hi", 405},
			{"GET", "/nowhere", 404},
		} {
			if code := r.do(t, tc.method, tc.path, nil, nil); code != tc.want {
				t.Errorf("%s %s: %d, want %d", tc.method, tc.path, code, tc.want)
			}
		}
		var help string
		resp, err := http.Get(r.control + "/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			help = string(b)
		}
		if !strings.Contains(help, "POST /turn/send") {
			t.Errorf("GET / gave %q (%v), want the help", help, err)
		}
	})

	if log := r.stderr.String(); strings.Contains(log, r.env["TELEGRAM_BOT_TOKEN"]) {
		t.Errorf("the fakes' log holds the bot token:\n%s", log)
	}
}

// TestFlags checks the command's refusals of bad flags and taken ports.
func TestFlags(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-service-url", "localhost:8080"}, 2, "-service-url"},
		{[]string{"-service-url", "https://127.0.0.1:8080"}, 2, "-service-url"},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"-bogus"}, 2, "bogus"},
		{[]string{"-control-addr", "127.0.0.1:0", "-telegram-addr", "127.0.0.1:0", "-turn-addr", taken.Addr().String()}, 1, "-turn-addr " + taken.Addr().String()},
	} {
		var stdout, stderr syncBuffer
		code := runContext(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d with %q, want %d naming %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
		if stdout.String() != "" {
			t.Errorf("%q printed settings although it failed: %q", tc.args, stdout.String())
		}
	}
}
