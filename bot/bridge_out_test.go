package bot_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// wantCall is one Telegram call a Turn message must become.
type wantCall struct {
	method   string
	text     string // text, or caption for media
	entities string // JSON of entities / caption_entities; "" for none
	// keyboard is the reply_markup JSON with each distinct callback_data
	// written "$0", "$1", ... in order of appearance (the real keys derive
	// from the random connector id); "" for none.
	keyboard string
	media    string // the fixture's original link whose bytes are uploaded; "" for none
	filename string // the upload's file name, when it matters
}

// Media links of the published examples.
const (
	specVideo    = "https://whatsapp.turn.io/uploads/2024/09/24/26954/9fa7b372-faf5-483f-a82a-61c0129d50fe"
	specAudio    = "https://whatsapp.turn.io/uploads/2024/09/24/27038/2f9f3c3f-f965-46d4-9298-1fc66193babd"
	specDocument = "https://whatsapp.turn.io/uploads/2024/09/24/27086/056dca1b-b8a4-49a5-8491-9561b0efe19b"
	specImage    = "https://whatsapp.turn.io/uploads/2024/09/24/27164/2bf705ba-607c-49e4-8b06-7aa1340170b8"
	turnUploads  = "https://whatsapp.turn.io/uploads/"
)

// mediaFor is the content the fake Turn serves for a fixture's link: unique
// per fixture, so no case re-sends another case's upload by file_id.
func mediaFor(fixture, link string) []byte {
	return []byte("content of " + link + " for " + fixture)
}

// outboundFixture loads a Turn webhook payload, addresses it to chat and
// points every Turn media link at the fake Turn (same link, same hosted
// file), as Turn's signed, expiring links. The payload is edited as text:
// key order matters to the renderer (FLOIP choices, texts of unknown kinds).
func (h *harness) outboundFixture(t testing.TB, path string, chat int64) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// The MIME type of each link is its object's mime_type (or mime).
	mimes := map[string]string{}
	var walk func(v any, mime string)
	walk = func(v any, mime string) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"mime_type", "mime"} {
				if s, ok := x[k].(string); ok && s != "" {
					mime = s
					break
				}
			}
			for _, e := range x {
				walk(e, mime)
			}
		case []any:
			for _, e := range x {
				walk(e, mime)
			}
		case string:
			if strings.HasPrefix(x, turnUploads) && mimes[x] == "" {
				mimes[x] = mime
			}
		}
	}
	walk(doc, "")
	out := string(raw)
	for link, mime := range mimes {
		if mime == "" {
			mime = "application/octet-stream"
		}
		hosted, _ := json.Marshal(h.turn.HostMedia(mediaFor(path, link), mime))
		out = strings.ReplaceAll(out, `"`+link+`"`, string(hosted))
	}
	to := regexp.MustCompile(`"to"\s*:\s*"[^"]*"`)
	loc := to.FindStringIndex(out)
	if loc == nil {
		t.Fatalf("%s has no \"to\"", path)
	}
	out = out[:loc[0]] + `"to":"` + strconv.FormatInt(chat, 10) + `"` + out[loc[1]:]
	var check struct {
		To string `json:"to"`
	}
	if err := json.Unmarshal([]byte(out), &check); err != nil || check.To != strconv.FormatInt(chat, 10) {
		t.Fatalf("rewriting %s: to %q: %v", path, check.To, err)
	}
	return []byte(out)
}

// goldenCalls reads the calls of a rendering golden file
// (testdata/outbound/want), keyboards normalised like wantCall.keyboard.
func goldenCalls(t testing.TB, fixture string) []wantCall {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "outbound", "want", fixture+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Plan struct {
			Parts []struct {
				Method   string                 `json:"method"`
				Text     string                 `json:"text"`
				Entities []models.MessageEntity `json:"entities"`
				Media    *struct {
					Link     string `json:"link"`
					Filename string `json:"filename"`
				} `json:"media"`
				ReplyMarkup json.RawMessage `json:"reply_markup"`
			} `json:"parts"`
		} `json:"plan"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	var out []wantCall
	for _, p := range g.Plan.Parts {
		w := wantCall{method: p.Method, text: p.Text}
		if len(p.Entities) > 0 {
			b, _ := json.Marshal(p.Entities)
			w.entities = string(b)
		}
		if len(p.ReplyMarkup) > 0 {
			w.keyboard, _ = normalizeKeyboard(t, string(p.ReplyMarkup))
		}
		if p.Media != nil {
			w.media, w.filename = p.Media.Link, p.Media.Filename
		}
		out = append(out, w)
	}
	return out
}

// normalizeKeyboard replaces the callback_data of a reply_markup by "$n"
// placeholders and returns the canonical JSON and the real keys in order.
func normalizeKeyboard(t testing.TB, raw string) (string, []string) {
	t.Helper()
	var kb struct {
		InlineKeyboard [][]map[string]any `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &kb); err != nil {
		t.Fatalf("reply_markup %s: %v", raw, err)
	}
	var keys []string
	index := map[string]int{}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			data, ok := b["callback_data"].(string)
			if !ok {
				continue
			}
			n, seen := index[data]
			if !seen {
				n = len(keys)
				index[data] = n
				keys = append(keys, data)
			}
			b["callback_data"] = "$" + strconv.Itoa(n)
		}
	}
	out, _ := json.Marshal(kb)
	return string(out), keys
}

// mediaField is the form field carrying a send method's file.
var mediaField = map[string]string{
	"sendPhoto": "photo", "sendVideo": "video", "sendAudio": "audio",
	"sendVoice": "voice", "sendDocument": "document", "sendSticker": "sticker",
}

// checkCall asserts that one accepted Telegram call is exactly w (fixture
// is the payload's path, which names its media), and returns the callback
// keys of its keyboard.
func checkCall(t *testing.T, fixture string, chat int64, c telegramtest.Call, w wantCall) []string {
	t.Helper()
	if c.Method != w.method {
		t.Errorf("method %s, want %s", c.Method, w.method)
	}
	if c.Params["chat_id"] != strconv.FormatInt(chat, 10) {
		t.Errorf("chat_id %q, want %d", c.Params["chat_id"], chat)
	}
	textField, entField := "text", "entities"
	if c.Method != "sendMessage" {
		textField, entField = "caption", "caption_entities"
	}
	if got := c.Params[textField]; got != w.text {
		t.Errorf("%s:\n got %q\nwant %q", textField, got, w.text)
	}
	if got, want := canonJSON(t, c.Params[entField]), canonJSON(t, w.entities); got != want {
		t.Errorf("%s:\n got %s\nwant %s", entField, got, want)
	}
	if pm := c.Params["parse_mode"]; pm != "" {
		t.Errorf("parse_mode %q: formatting must travel as entities only", pm)
	}
	var keys []string
	if raw := c.Params["reply_markup"]; raw != "" || w.keyboard != "" {
		if strings.Contains(raw, "copy_text") {
			t.Errorf("reply_markup carries copy_text: %s", raw)
		}
		var got string
		got, keys = normalizeKeyboard(t, raw)
		if want := canonJSON(t, w.keyboard); got != want {
			t.Errorf("reply_markup:\n got %s\nwant %s", got, want)
		}
		for _, k := range keys {
			if len(k) == 0 || len(k) > 64 {
				t.Errorf("callback_data %q is %d bytes (Telegram allows 1-64)", k, len(k))
			}
		}
	}
	field := mediaField[c.Method]
	switch {
	case w.media == "" && len(c.Files) > 0:
		t.Errorf("unexpected upload %v", c.Files)
	case w.media != "":
		up, ok := c.Files[field]
		if !ok {
			t.Errorf("no %s uploaded (params %v)", field, c.Params)
			break
		}
		if want := mediaFor(fixture, w.media); !bytes.Equal(up.Data, want) {
			t.Errorf("uploaded %q, want the bytes Turn served %q", up.Data, want)
		}
		if w.filename != "" && up.Filename != w.filename {
			t.Errorf("upload file name %q, want %q", up.Filename, w.filename)
		}
	}
	return keys
}

func ents(list ...string) string { return "[" + strings.Join(list, ",") + "]" }

func ent(typ string, offset, length int) string {
	return fmt.Sprintf(`{"type":%q,"offset":%d,"length":%d}`, typ, offset, length)
}

// specCases are the outbound examples of turn-channel-api.txt
// (turn/testdata/outbound) with the exact calls each must become, then the
// renderer's fixtures (bot/testdata/outbound) checked against their golden
// renderings, which the renderer's own tests review field by field.
var specCases = []struct {
	path string
	want []wantCall // nil: the golden rendering
}{
	// The published examples, as published.
	{path: "../turn/testdata/outbound/text.json", want: []wantCall{
		{method: "sendMessage", text: "the evaluated message"}}},
	{path: "../turn/testdata/outbound/content_card.json", want: []wantCall{
		{method: "sendMessage", text: "the evaluated message"}}},
	{path: "../turn/testdata/outbound/template.json", want: []wantCall{
		{method: "sendMessage", text: "Hi\nHello Jane, welcome\n\nReply below",
			entities: ents(ent("bold", 0, 2), ent("italic", 24, 11)),
			keyboard: `{"inline_keyboard":[[{"text":"Yes","callback_data":"$0"}],[{"text":"No","callback_data":"$1"}]]}`}}},
	{path: "../turn/testdata/outbound/interactive_button.json", want: []wantCall{
		{method: "sendMessage", text: "Please select an order",
			keyboard: `{"inline_keyboard":[[{"text":"Black Coffee","callback_data":"$0"}],[{"text":"Black Tea","callback_data":"$1"}]]}`}}},
	{path: "../turn/testdata/outbound/interactive_list.json", want: []wantCall{
		{method: "sendMessage", text: "Hello this is my first text.\n\nOption\n• 😀 One",
			entities: ents(ent("bold", 30, 6)),
			keyboard: `{"inline_keyboard":[[{"text":"😀 One","callback_data":"$0"}]]}`}}},
	{path: "../turn/testdata/outbound/interactive_flow.json", want: []wantCall{
		{method: "sendMessage",
			text:     "Make a booking\nPlease pick a convenient date and time and we'll complete the booking.\n\nThis is a demo. No real booking will be made.\n\nMake a booking!",
			entities: ents(ent("bold", 0, 14), ent("italic", 87, 45), ent("bold", 134, 15))}}},
	{path: "../turn/testdata/outbound/video.json", want: []wantCall{
		{method: "sendVideo", text: "hello world", media: specVideo}}},
	{path: "../turn/testdata/outbound/audio.json", want: []wantCall{
		{method: "sendAudio", media: specAudio}}},
	{path: "../turn/testdata/outbound/document.json", want: []wantCall{
		{method: "sendDocument", text: "hello world", media: specDocument, filename: "the-filename.pdf"}}},
	{path: "../turn/testdata/outbound/image.json", want: []wantCall{
		{method: "sendPhoto", text: "hello world", media: specImage}}},
	// The same API as it drifts in practice.
	{path: "../turn/testdata/outbound/mime_drift.json", want: []wantCall{
		{method: "sendVideo", media: specVideo, filename: "the-filename.mp4"}}},
	{path: "../turn/testdata/outbound/no_turn.json", want: []wantCall{
		{method: "sendMessage", text: "How old are you?"}}},
	{path: "../turn/testdata/outbound/unknown_fields.json", want: []wantCall{
		{method: "sendMessage", text: "Your appointment is tomorrow at 10:00.", entities: ents(ent("bold", 20, 8))}}},
	{path: "../turn/testdata/outbound/unknown_interactive.json", want: []wantCall{
		{method: "sendPhoto", text: "Read more on our site.", media: "https://whatsapp.turn.io/uploads/2024/09/24/27200/7c1e.png",
			keyboard: `{"inline_keyboard":[[{"text":"Open","url":"https://example.org/clinic"}]]}`}}},
	{path: "../turn/testdata/outbound/unknown_type.json", want: []wantCall{
		{method: "sendMessage", text: "Clinic\n1 Long Street, Cape Town"}}},
	{path: "../turn/testdata/outbound/version_drift.json", want: []wantCall{
		{method: "sendSticker", media: "https://whatsapp.turn.io/uploads/2024/09/24/27300/5e1c.webp"}}},
	// The renderer's fixtures (unknown_kind_nothing is a 400: see
	// TestTurnWebhookRefusals).
	{path: "testdata/outbound/text.json"},
	{path: "testdata/outbound/text_formatted.json"},
	{path: "testdata/outbound/content_card.json"},
	{path: "testdata/outbound/template.json"},
	{path: "testdata/outbound/template_full.json"},
	{path: "testdata/outbound/template_without_definition.json"},
	{path: "testdata/outbound/interactive_button.json"},
	{path: "testdata/outbound/interactive_list.json"},
	{path: "testdata/outbound/interactive_flow.json"},
	{path: "testdata/outbound/button_image_header.json"},
	{path: "testdata/outbound/cta_url.json"},
	{path: "testdata/outbound/image.json"},
	{path: "testdata/outbound/video.json"},
	{path: "testdata/outbound/audio.json"},
	{path: "testdata/outbound/voice.json"},
	{path: "testdata/outbound/document.json"},
	{path: "testdata/outbound/sticker.json"},
	{path: "testdata/outbound/long_text.json"},
	{path: "testdata/outbound/long_caption.json"},
	{path: "testdata/outbound/unknown_kind.json"},
	{path: "testdata/outbound/block_only.json"},
	{path: "testdata/outbound/block_only_media.json"},
}

// TestOutboundSpecExamples sends every outbound example through the signed
// webhook and checks the exact Telegram calls it becomes (method, chat,
// text or caption, entities, keyboard, uploaded bytes), and that Turn hears
// "sent" for the id it was given once the last call is accepted.
func TestOutboundSpecExamples(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		for i, c := range specCases {
			fixture := strings.TrimSuffix(filepath.Base(c.path), ".json")
			name := "bot/" + fixture
			if strings.HasPrefix(c.path, "../turn/") {
				name = "turn/" + fixture
			}
			t.Run(name, func(t *testing.T) {
				want := c.want
				if want == nil {
					want = goldenCalls(t, fixture)
				}
				chat := int64(9100 + i)
				id := h.sendTurnOK(h.outboundFixture(t, c.path, chat))
				h.waitSendCalls(t, chat, len(want))
				sent := h.waitStatus(t, id, turn.StatusSent)
				if sent.RecipientID != strconv.FormatInt(chat, 10) {
					t.Errorf("sent status recipient_id %q, want %d", sent.RecipientID, chat)
				}
				if _, err := strconv.ParseInt(sent.Timestamp, 10, 64); err != nil {
					t.Errorf("sent status timestamp %q is not unix seconds", sent.Timestamp)
				}
				calls := h.sendCalls(chat)
				if len(calls) != len(want) {
					t.Fatalf("%d calls, want %d: %+v", len(calls), len(want), calls)
				}
				for j, w := range want {
					t.Run(fmt.Sprint("part", j), func(t *testing.T) {
						checkCall(t, c.path, chat, calls[j], w)
					})
				}
			})
		}
		for _, c := range h.tg.Calls() {
			if strings.Contains(c.Params["reply_markup"], "copy_text") {
				t.Errorf("%s sent copy_text: %s", c.Method, c.Params["reply_markup"])
			}
		}
	})
}

// TestTurnWebhookRefusals: requests Turn must not retry get a precise 4xx in
// Turn's error shape, and nothing is stored, fetched or sent for them.
func TestTurnWebhookRefusals(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		good := h.outboundFixture(t, "../turn/testdata/outbound/image.json", chatID)
		sign := func(b []byte) string { return turn.Sign([]byte(hmacSecret), b) }
		nothing := h.outboundFixture(t, "testdata/outbound/unknown_kind_nothing.json", chatID)
		big := append([]byte(`{"to":"424242","turn":{"type":"text","text":{"body":"`), bytes.Repeat([]byte("a"), 1<<20)...)
		big = append(big, `"}}}`...)
		for _, c := range []struct {
			name      string
			path      string
			body      []byte
			signature string
			status    int
			field     string // a key of "errors"
		}{
			{"signature missing", turnPath, good, "", http.StatusUnauthorized, "signature"},
			{"signature with another secret", turnPath, good, turn.Sign([]byte("not-the-secret"), good), http.StatusUnauthorized, "signature"},
			{"signature of another body", turnPath, good, sign(textPayload(chatID, "hi")), http.StatusUnauthorized, "signature"},
			{"signature not base64", turnPath, good, "!!!", http.StatusUnauthorized, "signature"},
			{"malformed JSON", turnPath, []byte(`{"to": "424242", "turn": {`), "", http.StatusBadRequest, "body"},
			{"not an object", turnPath, []byte(`["424242"]`), "", http.StatusBadRequest, "body"},
			{"no to", turnPath, []byte(`{"version":"0.0.1-alpha","turn":{"type":"text","text":{"body":"hi"}}}`), "", http.StatusBadRequest, "to"},
			{"blank to", turnPath, []byte(`{"to":"  ","turn":{"type":"text","text":{"body":"hi"}}}`), "", http.StatusBadRequest, "to"},
			{"to is a number", turnPath, []byte(`{"to":424242,"turn":{"type":"text","text":{"body":"hi"}}}`), "", http.StatusBadRequest, "to"},
			{"to is a username", turnPath, []byte(`{"to":"@jane","turn":{"type":"text","text":{"body":"hi"}}}`), "", http.StatusBadRequest, "to"},
			{"to is a phone-like word", turnPath, []byte(`{"to":"the-address-of-the-recipient","turn":{"type":"text","text":{"body":"hi"}}}`), "", http.StatusBadRequest, "to"},
			{"to is zero", turnPath, []byte(`{"to":"0","turn":{"type":"text","text":{"body":"hi"}}}`), "", http.StatusBadRequest, "to"},
			{"turn of the wrong type", turnPath, []byte(`{"to":"424242","turn":"text"}`), "", http.StatusBadRequest, "turn"},
			{"text body of the wrong type", turnPath, []byte(`{"to":"424242","turn":{"type":"text","text":{"body":5}}}`), "", http.StatusBadRequest, "turn"},
			{"nothing to show", turnPath, nothing, "", http.StatusBadRequest, "turn"},
			{"empty text", turnPath, []byte(`{"to":"424242","turn":{"type":"text","text":{"body":"   "}}}`), "", http.StatusBadRequest, "turn"},
			{"too large", turnPath, big, "", http.StatusRequestEntityTooLarge, "body"},
			{"unknown channel", "/channels/not-a-channel/turn", good, "", http.StatusNotFound, "channel"},
		} {
			t.Run(c.name, func(t *testing.T) {
				sig := c.signature
				if sig == "" && c.status != http.StatusUnauthorized {
					sig = sign(c.body)
				}
				resp, body := h.postTurnRaw(c.path, c.body, sig)
				if resp.StatusCode != c.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				var e struct {
					Message string                     `json:"message"`
					Errors  map[string]json.RawMessage `json:"errors"`
				}
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("answer %s is not Turn's error shape: %v", body, err)
				}
				if e.Message != http.StatusText(c.status) {
					t.Errorf("message %q, want %q", e.Message, http.StatusText(c.status))
				}
				if _, ok := e.Errors[c.field]; !ok {
					t.Errorf("errors %s do not name %q", body, c.field)
				}
			})
		}
		settle()
		for _, kind := range []store.Kind{store.KindOutbound, store.KindFetch, store.KindStatus} {
			if js := h.jobs(kind, ""); len(js) != 0 {
				t.Errorf("refused requests stored %s jobs: %+v", kind, js)
			}
		}
		for _, c := range h.tg.Calls() {
			// Setting up and checking the webhook are the service's own.
			if c.Method != "setWebhook" && c.Method != "getWebhookInfo" {
				t.Errorf("refused requests reached Telegram: %s %v", c.Method, c.Params)
			}
		}
		if n := h.turn.MediaFetches(); n != 0 {
			t.Errorf("refused requests fetched %d media links", n)
		}
		if n := len(h.turn.Statuses(numberID)); n != 0 {
			t.Errorf("refused requests produced %d statuses", n)
		}
		// The refused image, correctly signed, is then accepted and sent.
		id := h.sendTurnOK(good)
		h.waitStatus(t, id, turn.StatusSent)
		if calls := h.sendCalls(chatID); len(calls) != 1 || calls[0].Method != "sendPhoto" {
			t.Errorf("after the refusals: %+v", calls)
		}
	})
}

// TestTurnWebhookStoreOutage: when the store cannot take the message, Turn
// gets 503 (so it retries) and nothing reaches Telegram; its retry is
// accepted and sent once.
func TestTurnWebhookStoreOutage(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		fs := &faultyStore{Store: st}
		h := newHarness(t, fs, harnessOpts{unpaced: true})
		body := textPayload(chatID, "Your results are ready")
		fs.failEnqueue.Store(true)
		resp, answer := h.sendTurn(body)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503: %s", resp.StatusCode, answer)
		}
		var e struct {
			Message string         `json:"message"`
			Errors  map[string]any `json:"errors"`
		}
		if err := json.Unmarshal(answer, &e); err != nil || e.Message != "Service Unavailable" || len(e.Errors) == 0 {
			t.Errorf("answer %s is not Turn's error shape", answer)
		}
		settle()
		if n := h.sendAttempts(chatID); n != 0 {
			t.Fatalf("an unstored message reached Telegram (%d calls)", n)
		}
		if js := h.jobs(store.KindOutbound, ""); len(js) != 0 {
			t.Fatalf("jobs after a failed store: %+v", js)
		}
		fs.failEnqueue.Store(false)
		id := h.sendTurnOK(body) // Turn's retry
		h.waitStatus(t, id, turn.StatusSent)
		calls := h.sendCalls(chatID)
		if len(calls) != 1 || calls[0].Params["text"] != "Your results are ready" {
			t.Fatalf("calls %+v, want the message once", calls)
		}
	})
}

// TestTurnWebhookAnswersBeforeTelegram: with Telegram down, the webhook
// still answers 200 and an id at once (the message is stored, not sent);
// the message is sent when Telegram is back, and "sent" refers to that id.
func TestTurnWebhookAnswersBeforeTelegram(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		h.tg.SetDown(true)
		resp, body := h.sendTurn(textPayload(chatID, "Hello while Telegram is down"))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var reply struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(body, &reply); err != nil || len(reply.Messages) != 1 || reply.Messages[0].ID == "" {
			t.Fatalf("reply %s, want {\"messages\":[{\"id\":...}]}", body)
		}
		id := reply.Messages[0].ID
		if js := h.jobs(store.KindOutbound, store.StatePending); len(js) != 1 {
			t.Fatalf("pending outbound jobs %+v, want the stored message", js)
		}
		// The connector keeps trying while Telegram is down...
		eventually(t, "a send attempt against the down Telegram", func() bool {
			for _, c := range h.tg.Calls() {
				if c.Method == "sendMessage" && c.Status == http.StatusBadGateway {
					return true
				}
			}
			return false
		})
		if n := len(h.sendCalls(chatID)); n != 0 || len(h.tg.Sent(chatID)) != 0 {
			t.Fatalf("Telegram is down but accepted %d calls", n)
		}
		if s := h.statusesOf(id); len(s) != 0 {
			t.Fatalf("statuses %v before Telegram accepted anything", s)
		}
		// ...and sends once it is back.
		h.tg.SetDown(false)
		h.waitStatus(t, id, turn.StatusSent)
		calls := h.sendCalls(chatID)
		if len(calls) != 1 || calls[0].Params["text"] != "Hello while Telegram is down" {
			t.Fatalf("calls %+v, want the message once", calls)
		}
	})
}

// TestTurnWebhookRetriesAreOneMessage: Turn retries a call it got no 200
// for with the same body, sometimes while the first is still being
// written. Every retry is answered with the first call's id and the person
// gets the message once; a different body with the same text is another
// message.
func TestTurnWebhookRetriesAreOneMessage(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		body := textPayload(chatID, "Reminder: take your medication")
		id := h.sendTurnOK(body)
		ids := make([]string, 4)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				resp, answer := h.sendTurn(body)
				var reply struct {
					Messages []struct {
						ID string `json:"id"`
					} `json:"messages"`
				}
				if resp.StatusCode != http.StatusOK || json.Unmarshal(answer, &reply) != nil || len(reply.Messages) != 1 {
					t.Errorf("retry %d: %d %s", i, resp.StatusCode, answer)
					return
				}
				ids[i] = reply.Messages[0].ID
			})
		}
		wg.Wait()
		for i, got := range ids {
			if got != id {
				t.Errorf("retry %d answered %q, the first call %q", i, got, id)
			}
		}
		// The journey saying the same thing again: Turn's body differs
		// (here only in its context), so it is a new message.
		again := bytes.Replace(body, []byte(`"context":null`), []byte(`"context":{"contact":{}}`), 1)
		id2 := h.sendTurnOK(again)
		if id2 == id {
			t.Fatalf("a different body got the first message's id %s", id)
		}
		h.waitStatus(t, id, turn.StatusSent)
		h.waitStatus(t, id2, turn.StatusSent)
		settle()
		sent := h.tg.Sent(chatID)
		if len(sent) != 2 || sent[0].Text != "Reminder: take your medication" || sent[1].Text != sent[0].Text {
			t.Fatalf("sent %+v, want the text twice: once for 5 identical calls, once for the other body", sent)
		}
		for _, x := range []string{id, id2} {
			if s := h.statusesOf(x); len(s) != 1 || s[0] != turn.StatusSent {
				t.Errorf("statuses of %s: %v, want [sent]", x, s)
			}
		}
		// A retry long after delivery is still the same message.
		if got := h.sendTurnOK(body); got != id {
			t.Errorf("a retry after delivery answered %q, want %q", got, id)
		}
		settle()
		if n := len(h.tg.Sent(chatID)); n != 2 {
			t.Errorf("%d messages after a late retry, want 2", n)
		}
	})
}

// utf16Len is the length Telegram measures texts in.
func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// TestOutboundLongMessages: text over 4096 is split into messages sent in
// order (keyboard on the last); a caption over 1024 sends the media bare,
// then the text. A part refused once is retried without re-sending the
// parts Telegram already accepted, and Turn hears "sent" once.
func TestOutboundLongMessages(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := 1; i <= 150; i++ {
		lines = append(lines, fmt.Sprintf("Line %03d: *bold* words for the person to read, with an emoji 😀 too.", i))
	}
	longText := strings.Join(lines, "\n")
	caption := strings.Join(lines[:40], "\n") // ~2800 characters
	body := strings.Join(lines[:25], "\n")    // ~1750 characters
	type tc struct {
		name    string
		turn    string // the "turn" object
		methods []string
		// keyboardOn is the index of the part carrying the keyboard; -1: none.
		keyboardOn int
		failOnce   string // a method refused once (a 5xx) mid-message
	}
	jsonString := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	cases := []tc{
		{name: "long text", turn: `{"type":"text","text":{"body":` + jsonString(longText) + `}}`,
			methods: []string{"sendMessage", "sendMessage", "sendMessage"}, keyboardOn: -1},
		{name: "long text refused once", turn: `{"type":"text","text":{"body":` + jsonString(longText) + `}}`,
			methods: []string{"sendMessage", "sendMessage", "sendMessage"}, keyboardOn: -1, failOnce: "sendMessage"},
		{name: "long button body", turn: `{"type":"interactive","interactive":{"type":"button","body":{"text":` + jsonString(longText) +
			`},"action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Yes"}},{"type":"reply","reply":{"id":"no","title":"No"}}]}}}`,
			methods: []string{"sendMessage", "sendMessage", "sendMessage"}, keyboardOn: 2},
		{name: "long caption", turn: `{"type":"image","image":{"link":"IMG","mime_type":"image/jpeg","caption":` + jsonString(caption) + `}}`,
			methods: []string{"sendPhoto", "sendMessage"}, keyboardOn: -1},
		{name: "long caption with text refused once", turn: `{"type":"image","image":{"link":"IMG","mime_type":"image/jpeg","caption":` + jsonString(caption) + `}}`,
			methods: []string{"sendPhoto", "sendMessage"}, keyboardOn: -1, failOnce: "sendMessage"},
		{name: "image header with long body and buttons", turn: `{"type":"interactive","interactive":{"type":"button","header":{"type":"image","image":{"link":"IMG","mime_type":"image/jpeg"}},"body":{"text":` + jsonString(body) +
			`},"action":{"buttons":[{"type":"reply","reply":{"id":"yes","title":"Yes"}}]}}}`,
			methods: []string{"sendPhoto", "sendMessage"}, keyboardOn: 1},
	}
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				chat := int64(9300 + i)
				image := []byte(fmt.Sprintf("jpeg bytes of case %d", i))
				imgLink := h.turn.HostMedia(image, "image/jpeg")
				payload := []byte(`{"to":"` + strconv.FormatInt(chat, 10) + `","turn":` + strings.ReplaceAll(c.turn, `"IMG"`, jsonString(imgLink)) + `}`)
				if c.failOnce != "" {
					h.tg.FailNext(c.failOnce, 1, http.StatusInternalServerError, "", 0)
				}
				id := h.sendTurnOK(payload)
				h.waitStatus(t, id, turn.StatusSent)
				// "sent" comes after the last part: every part is there.
				calls := h.sendCalls(chat)
				if len(calls) != len(c.methods) {
					t.Fatalf("%d calls accepted, want %d", len(calls), len(c.methods))
				}
				var text strings.Builder
				for j, call := range calls {
					if call.Method != c.methods[j] {
						t.Errorf("part %d: %s, want %s", j, call.Method, c.methods[j])
					}
					field := "text"
					if call.Method != "sendMessage" {
						field = "caption"
						if up := call.Files["photo"]; !bytes.Equal(up.Data, image) {
							t.Errorf("part %d uploaded %q", j, up.Data)
						}
						if call.Params["caption"] != "" {
							t.Errorf("a caption over 1024 was sent on the media: %d units", utf16Len(call.Params["caption"]))
						}
					}
					if n := utf16Len(call.Params[field]); n > 4096 {
						t.Errorf("part %d has %d UTF-16 units", j, n)
					}
					if (call.Params["reply_markup"] != "") != (j == c.keyboardOn) {
						t.Errorf("part %d reply_markup %q; the keyboard belongs on part %d", j, call.Params["reply_markup"], c.keyboardOn)
					}
					if ents := call.Params["entities"]; call.Method == "sendMessage" && !strings.Contains(ents, `"bold"`) {
						t.Errorf("part %d lost its formatting: %s", j, ents)
					}
					text.WriteString(call.Params[field])
					text.WriteString("\n")
				}
				// Every line arrives once, in order, formatting converted.
				all := text.String()
				next := 1
				for _, l := range strings.Split(all, "\n") {
					if l == "" {
						continue
					}
					if want := fmt.Sprintf("Line %03d: bold words", next); !strings.HasPrefix(l, want) {
						t.Fatalf("line %q, want it to start %q (in order, once each)", l, want)
					}
					next++
				}
				if next < 20 {
					t.Errorf("only %d lines arrived", next-1)
				}
				settle()
				if got := h.sendCalls(chat); len(got) != len(calls) {
					t.Errorf("%d calls after settling, %d before: a part was sent twice", len(got), len(calls))
				}
				if s := h.statusesOf(id); len(s) != 1 || s[0] != turn.StatusSent {
					t.Errorf("statuses %v, want [sent] once for %d parts", s, len(calls))
				}
			})
		}
	})
}

// imagePayload is a Turn image message to chat with a media link.
func imagePayload(chat int64, link, caption string) []byte {
	b, _ := json.Marshal(map[string]any{
		"to": strconv.FormatInt(chat, 10), "version": "0.0.1-alpha",
		"turn": map[string]any{"type": "image", "image": map[string]any{"link": link, "mime_type": "image/jpeg", "caption": caption}},
	})
	return b
}

// TestOutboundMediaFetchedAtAcceptance: Turn's links expire in minutes, so
// the file is fetched when the message is accepted: while Telegram is down
// the link expires, and the media is still sent with the bytes Turn served.
func TestOutboundMediaFetchedAtAcceptance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		ttl    time.Duration
		expire func(h *harness)
	}{
		{"link revoked", 0, func(h *harness) { h.turn.ExpireMedia() }},
		{"link expired", 2 * time.Second, func(*harness) {}},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, st store.Store) {
				h := newHarness(t, st, harnessOpts{unpaced: true})
				if c.ttl > 0 {
					h.turn.SetMediaTTL(c.ttl)
				}
				data := []byte("\xff\xd8\xff\xe0 a photo of the clinic")
				link := h.turn.HostMedia(data, "image/jpeg")
				h.tg.SetDown(true)
				id := h.sendTurnOK(imagePayload(chatID, link, "Our clinic"))
				eventually(t, "the media fetch", func() bool { return len(h.jobs(store.KindFetch, store.StateDone)) == 1 })
				if n := h.turn.MediaFetches(); n != 1 {
					t.Fatalf("media fetched %d times at acceptance, want 1", n)
				}
				c.expire(h)
				eventually(t, "the link to expire", func() bool {
					resp, err := http.Head(link) // HEAD: not counted as a fetch
					if err != nil {
						return false
					}
					resp.Body.Close()
					return resp.StatusCode == http.StatusForbidden
				})
				if len(h.sendCalls(chatID)) != 0 {
					t.Fatal("Telegram is down but accepted a call")
				}
				h.tg.SetDown(false)
				h.waitStatus(t, id, turn.StatusSent)
				calls := h.sendCalls(chatID)
				if len(calls) != 1 || calls[0].Method != "sendPhoto" || calls[0].Params["caption"] != "Our clinic" {
					t.Fatalf("calls %+v, want one sendPhoto", calls)
				}
				if up := calls[0].Files["photo"]; !bytes.Equal(up.Data, data) {
					t.Errorf("uploaded %q, want the bytes Turn served", up.Data)
				}
				if n := h.turn.MediaFetches(); n != 1 {
					t.Errorf("media fetched %d times, want once", n)
				}
			})
		})
	}
}

// TestOutboundMediaUploadedOnce: identical media is uploaded once, then
// re-sent by Telegram's file_id, also when Turn links it anew; the same
// bytes sent as another kind of media are uploaded for that kind.
func TestOutboundMediaUploadedOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		data := []byte("\x89PNG\r\n\x1a\n a leaflet that is also shown as a picture")
		mediaMsg := func(kind string) []byte {
			b, _ := json.Marshal(map[string]any{
				"to": strconv.FormatInt(chatID, 10),
				"turn": map[string]any{"type": kind, kind: map[string]any{
					"link": h.turn.HostMedia(data, "image/png"), "mime_type": "image/png", "filename": "leaflet.png"}},
			})
			return b
		}
		steps := []struct {
			kind   string
			method string
			upload bool // else re-sent by the file_id of the first upload of that kind
		}{
			{"document", "sendDocument", true},
			{"document", "sendDocument", false},
			{"image", "sendPhoto", true},
			{"document", "sendDocument", false},
			{"image", "sendPhoto", false},
		}
		firstID := map[string]string{}
		for i, s := range steps {
			id := h.sendTurnOK(mediaMsg(s.kind))
			h.waitStatus(t, id, turn.StatusSent)
			calls := h.sendCalls(chatID)
			if len(calls) != i+1 {
				t.Fatalf("step %d: %d calls accepted", i, len(calls))
			}
			c := calls[i]
			field := mediaField[s.method]
			if c.Method != s.method {
				t.Fatalf("step %d: %s, want %s", i, c.Method, s.method)
			}
			up, uploaded := c.Files[field]
			switch {
			case s.upload && (!uploaded || !bytes.Equal(up.Data, data)):
				t.Errorf("step %d: not uploaded (params %v)", i, c.Params)
			case !s.upload && uploaded:
				t.Errorf("step %d: uploaded again instead of re-sent by file_id", i)
			case !s.upload && c.Params[field] != firstID[s.kind]:
				t.Errorf("step %d: %s=%q, want the file_id %q of the first upload", i, field, c.Params[field], firstID[s.kind])
			}
			if s.upload {
				sent := h.tg.Sent(chatID)
				m := sent[len(sent)-1]
				switch s.kind {
				case "document":
					firstID[s.kind] = m.Document.FileID
				case "image":
					firstID[s.kind] = m.Photo[len(m.Photo)-1].FileID
				}
			}
		}
		if n := h.turn.MediaFetches(); n != len(steps) {
			t.Errorf("%d media fetches, want one per message (%d)", n, len(steps))
		}
	})
}
