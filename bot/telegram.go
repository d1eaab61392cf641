package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// maxDownload is the largest file the Bot API serves through getFile.
const maxDownload = 20 << 20

// Telegram is one bot's Bot API client. Sends go through go-telegram/bot;
// getUpdates and file downloads are plain HTTP because the library exports
// no getUpdates call and its polling acknowledges updates before we store
// them. Every error leaving this type has the token scrubbed.
type Telegram struct {
	API   *tgbot.Bot
	base  string
	token string
	hc    *http.Client
}

// APIError is a Bot API error answer to one of our raw calls.
type APIError struct {
	Method      string
	Code        int
	Description string
	RetryAfter  int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
}

// NewTelegram makes a client for the bot with this token at the Bot API
// base URL (https://api.telegram.org or a self-hosted server or a fake).
func NewTelegram(apiURL, token string, hc *http.Client) (*Telegram, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	base := strings.TrimRight(apiURL, "/")
	api, err := tgbot.New(token,
		tgbot.WithServerURL(base),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(time.Minute, hc),
		tgbot.WithErrorsHandler(func(error) {}),
		// The library's own update loop is never started (getUpdates and
		// the webhook are ours): its 1,024-slot updates channel cost about
		// 9 KiB per channel for nothing.
		tgbot.WithUpdatesChannelCap(0),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", scrubErr(err, token))
	}
	return &Telegram{API: api, base: base, token: token, hc: hc}, nil
}

// Scrub removes the token from an error produced by a call of this client.
func (t *Telegram) Scrub(err error) error { return scrubErr(err, t.token) }

// getUpdates long-polls for updates from offset and returns them raw, so the
// exact bytes Telegram sent are what is stored.
func (t *Telegram) getUpdates(ctx context.Context, offset int64, timeout time.Duration, allowed []string) ([]json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{
		"offset": offset, "timeout": int(timeout / time.Second), "allowed_updates": allowed, "limit": 100,
	})
	var res []json.RawMessage
	if err := t.call(ctx, "getUpdates", body, &res); err != nil {
		return nil, err
	}
	return res, nil
}

// call makes one JSON Bot API call and decodes its result.
func (t *Telegram) call(ctx context.Context, method string, body []byte, dest any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/bot"+t.token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return t.Scrub(fmt.Errorf("telegram %s: %w", method, err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.hc.Do(req)
	if err != nil {
		return t.Scrub(fmt.Errorf("telegram %s: %w", method, err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return t.Scrub(fmt.Errorf("telegram %s: read answer: %w", method, err))
	}
	var r struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		ErrorCode   int             `json:"error_code"`
		Description string          `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return &APIError{Method: method, Code: resp.StatusCode, Description: "undecodable answer"}
	}
	if !r.OK {
		code := r.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return &APIError{Method: method, Code: code, Description: r.Description, RetryAfter: r.Parameters.RetryAfter}
	}
	if dest != nil {
		if err := json.Unmarshal(r.Result, dest); err != nil {
			return fmt.Errorf("telegram %s: decode result: %w", method, err)
		}
	}
	return nil
}

// File is an open download of a Telegram file.
type File struct {
	Body io.ReadCloser
	Size int64
	Path string
}

// Open resolves fileID with getFile and opens its download. The download
// URL holds the token, so it never leaves this function.
func (t *Telegram) Open(ctx context.Context, fileID string) (*File, error) {
	body, _ := json.Marshal(map[string]string{"file_id": fileID})
	var f models.File
	if err := t.call(ctx, "getFile", body, &f); err != nil {
		return nil, err
	}
	if f.FilePath == "" {
		return nil, &APIError{Method: "getFile", Code: http.StatusBadRequest, Description: "Bad Request: file is too big or unavailable"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/file/bot"+t.token+"/"+f.FilePath, nil)
	if err != nil {
		return nil, t.Scrub(fmt.Errorf("telegram download: %w", err))
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return nil, t.Scrub(fmt.Errorf("telegram download: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &APIError{Method: "download", Code: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
	}
	size := resp.ContentLength
	if size < 0 {
		size = f.FileSize
	}
	return &File{Body: resp.Body, Size: size, Path: f.FilePath}, nil
}

// SetWebhook registers url with secret and the updates the bridge needs.
func (t *Telegram) SetWebhook(ctx context.Context, url, secret string) error {
	body, _ := json.Marshal(map[string]any{
		"url": url, "secret_token": secret, "allowed_updates": AllowedUpdates, "max_connections": 40,
	})
	return t.call(ctx, "setWebhook", body, nil)
}

// DeleteWebhook removes any webhook so getUpdates may be used; pending
// updates are kept.
func (t *Telegram) DeleteWebhook(ctx context.Context) error {
	return t.call(ctx, "deleteWebhook", []byte(`{"drop_pending_updates":false}`), nil)
}

// AllowedUpdates are the update kinds the bridge asks for. Edits, channel
// posts and membership changes are asked for only so that skipping them is
// logged and counted rather than invisible.
var AllowedUpdates = []string{"message", "edited_message", "channel_post", "edited_channel_post", "callback_query", "my_chat_member"}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

func scrubErr(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = strings.ReplaceAll(ue.URL, token, "<token>")
	}
	msg := err.Error()
	if !strings.Contains(msg, token) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(msg, token, "<token>"), err: err}
}
