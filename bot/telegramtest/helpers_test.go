package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

const (
	token      = "123456:AAE-test-token"
	otherToken = "654321:AAE-other-token"
	chat       = int64(4242)
)

// newServer starts a fake with two bots and closes it when the test ends.
func newServer(t *testing.T) *telegramtest.Server {
	t.Helper()
	srv := telegramtest.NewServer()
	t.Cleanup(srv.Close)
	srv.AddBot(token, "test_bot", "Test")
	srv.AddBot(otherToken, "other_bot", "Other")
	return srv
}

// newClient is a go-telegram/bot client of the fake.
func newClient(t *testing.T, srv *telegramtest.Server, tok string) *tgbot.Bot {
	t.Helper()
	b, err := tgbot.New(tok, tgbot.WithServerURL(srv.URL), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// answer is a Bot API answer as received.
type answer struct {
	Status      int
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func (a answer) message(t *testing.T) models.Message {
	t.Helper()
	if !a.OK {
		t.Fatalf("call failed: %d %s", a.ErrorCode, a.Description)
	}
	var m models.Message
	if err := json.Unmarshal(a.Result, &m); err != nil {
		t.Fatalf("decode message %s: %v", a.Result, err)
	}
	return m
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	a, err := doErr(req)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// doErr makes a call and checks the answer has the Bot API's shape.
func doErr(req *http.Request) (answer, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode}
	if err := json.Unmarshal(body, &a); err != nil {
		return a, fmt.Errorf("answer is not JSON: %q", body)
	}
	if a.OK != (resp.StatusCode == http.StatusOK) || (!a.OK && a.ErrorCode != resp.StatusCode) {
		return a, fmt.Errorf("answer %q does not match HTTP status %d", body, resp.StatusCode)
	}
	return a, nil
}

// result is the outcome of a call made by another goroutine.
type result struct {
	answer
	err error
}

// goCall makes a form call on another goroutine (a long poll, say).
func goCall(srv *telegramtest.Server, tok, method string, fields map[string]string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		a, err := doErr(formRequest(srv, tok, method, fields, nil))
		ch <- result{a, err}
	}()
	return ch
}

func apiURL(srv *telegramtest.Server, tok, method string) string {
	return srv.URL + "/bot" + tok + "/" + method
}

// callForm calls method with a multipart/form-data body, as go-telegram/bot
// does.
func callForm(t *testing.T, srv *telegramtest.Server, tok, method string, fields map[string]string, files map[string]telegramtest.Upload) answer {
	t.Helper()
	return do(t, formRequest(srv, tok, method, fields, files))
}

func formRequest(srv *telegramtest.Server, tok, method string, fields map[string]string, files map[string]telegramtest.Upload) *http.Request {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	for k, f := range files {
		part, _ := w.CreateFormFile(k, f.Filename)
		_, _ = part.Write(f.Data)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, apiURL(srv, tok, method), &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req
}

// callJSON calls method with a JSON body.
func callJSON(t *testing.T, srv *telegramtest.Server, tok, method string, body any) answer {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, apiURL(srv, tok, method), bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// send is sendMessage with form fields.
func send(t *testing.T, srv *telegramtest.Server, fields map[string]string) answer {
	t.Helper()
	return callForm(t, srv, token, "sendMessage", fields, nil)
}

func urlencoded(t *testing.T, srv *telegramtest.Server, tok, method string, v url.Values) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, apiURL(srv, tok, method), strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func wantError(t *testing.T, a answer, code int, description string) {
	t.Helper()
	if a.OK || a.ErrorCode != code || !strings.HasPrefix(a.Description, description) {
		t.Errorf("answer = ok:%v %d %q, want %d %q", a.OK, a.ErrorCode, a.Description, code, description)
	}
}

// inlineKeyboard is reply_markup JSON with one callback button.
func inlineKeyboard(text, data string) string {
	return `{"inline_keyboard":[[{"text":"` + text + `","callback_data":"` + data + `"}]]}`
}

// pngImage encodes a w x h PNG.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
