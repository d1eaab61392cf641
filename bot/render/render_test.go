package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

var updateOutbound = flag.Bool("update-outbound", false, "rewrite testdata/outbound/want/*.json from the current rendering")

// renderCases lists every Turn webhook payload in testdata/outbound with the
// outline of its rendering; testdata/outbound/want/<fixture>.json holds the
// exact result (texts, entities, keyboards as sent, callbacks, media, notes).
var renderCases = []struct {
	fixture   string
	kind      string
	methods   []string // one per part
	callbacks int
	notes     int
	err       bool
}{
	// The outbound examples of turn-channel-api.txt.
	{fixture: "text", kind: "text", methods: []string{MethodMessage}},
	{fixture: "content_card", kind: "text", methods: []string{MethodMessage}},
	{fixture: "template", kind: "template", methods: []string{MethodMessage}, callbacks: 2},
	{fixture: "template_without_definition", kind: "template", methods: []string{MethodMessage}, notes: 1},
	{fixture: "interactive_button", kind: "interactive/button", methods: []string{MethodMessage}, callbacks: 2},
	{fixture: "interactive_list", kind: "interactive/list", methods: []string{MethodMessage}, callbacks: 1},
	{fixture: "interactive_flow", kind: "interactive/flow", methods: []string{MethodMessage}, notes: 1},
	{fixture: "video", kind: "video", methods: []string{MethodVideo}},
	{fixture: "audio", kind: "audio", methods: []string{MethodAudio}},
	{fixture: "document", kind: "document", methods: []string{MethodDocument}},
	{fixture: "image", kind: "image", methods: []string{MethodPhoto}},
	// Beyond them.
	{fixture: "text_formatted", kind: "text", methods: []string{MethodMessage}},
	{fixture: "voice", kind: "audio", methods: []string{MethodVoice}},
	{fixture: "sticker", kind: "sticker", methods: []string{MethodSticker, MethodMessage}},
	{fixture: "template_full", kind: "template", methods: []string{MethodMessage}, callbacks: 2},
	{fixture: "button_image_header", kind: "interactive/button", methods: []string{MethodPhoto}, callbacks: 3},
	{fixture: "cta_url", kind: "interactive/cta_url", methods: []string{MethodMessage}},
	{fixture: "long_text", kind: "text", methods: []string{MethodMessage, MethodMessage}},
	{fixture: "long_caption", kind: "image", methods: []string{MethodPhoto, MethodMessage}},
	{fixture: "unknown_kind", kind: "location", methods: []string{MethodMessage}, notes: 1},
	{fixture: "unknown_kind_nothing", err: true},
	{fixture: "block_only", kind: "MobilePrimitives.SelectOneResponse", methods: []string{MethodMessage}, callbacks: 3, notes: 1},
	{fixture: "block_only_media", kind: "MobilePrimitives.Message", methods: []string{MethodPhoto}, notes: 1},
}

// renderView is a rendering as the golden files show it: keyboards as
// InlineKeyboard puts them on the wire.
type renderView struct {
	Plan struct {
		TurnID string     `json:"turn_id"`
		ChatID int64      `json:"chat_id"`
		Kind   string     `json:"kind"`
		Parts  []partView `json:"parts"`
	} `json:"plan"`
	Callbacks []callbackView   `json:"callbacks,omitempty"`
	Media     []MediaRef       `json:"media,omitempty"`
	Notes     []string         `json:"notes,omitempty"`
	Error     *renderErrorView `json:"error,omitempty"`
}

type partView struct {
	Method      string                 `json:"method"`
	Text        string                 `json:"text,omitempty"`
	Entities    []models.MessageEntity `json:"entities,omitempty"`
	Media       *MediaRef              `json:"media,omitempty"`
	ReplyMarkup json.RawMessage        `json:"reply_markup,omitempty"`
}

type callbackView struct {
	Channel     string `json:"channel"`
	Key         string `json:"key"`
	Group       string `json:"group"`
	ChatID      int64  `json:"chat_id"`
	TurnID      string `json:"turn_id"`
	Reply       string `json:"reply"`
	ReplyID     string `json:"reply_id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type renderErrorView struct {
	Message string         `json:"message"`
	Fields  map[string]any `json:"fields"`
}

const (
	testChannel = "chan-1"
	testTurnID  = "0d6f3b52-9a41-4c1e-8e7d-5b2a9c4f1e30"
)

func loadOutbound(t *testing.T, fixture string) (*turn.Outbound, int64) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "testdata", "outbound", fixture+".json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := turn.DecodeOutbound(body)
	if err != nil {
		t.Fatalf("%s is not a valid Turn payload: %v", fixture, err)
	}
	chatID, err := strconv.ParseInt(out.To, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return out, chatID
}

func viewOf(t *testing.T, rd Rendered, err error) renderView {
	t.Helper()
	var v renderView
	if err != nil {
		var re *RenderError
		if !errors.As(err, &re) {
			t.Fatalf("error %v is not a *RenderError", err)
		}
		v.Error = &renderErrorView{Message: err.Error(), Fields: re.Fields()}
		return v
	}
	v.Plan.TurnID, v.Plan.ChatID, v.Plan.Kind = rd.Plan.TurnID, rd.Plan.ChatID, rd.Plan.Kind
	for _, p := range rd.Plan.Parts {
		pv := partView{Method: p.Method, Text: p.Text, Entities: p.Entities, Media: p.Media}
		if kb := InlineKeyboard(p.Keyboard); kb != nil {
			b, err := json.Marshal(kb)
			if err != nil {
				t.Fatal(err)
			}
			pv.ReplyMarkup = b
		}
		v.Plan.Parts = append(v.Plan.Parts, pv)
	}
	for _, c := range rd.Callbacks {
		v.Callbacks = append(v.Callbacks, callbackView{c.Channel, c.Key, c.Group, c.ChatID, c.TurnID, c.Reply, c.ReplyID, c.Title, c.Description})
	}
	v.Media, v.Notes = rd.Media, rd.Notes
	return v
}

func TestRenderFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "outbound", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range renderCases {
		listed[c.fixture] = true
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !listed[name] {
			t.Errorf("fixture %s is not in renderCases", name)
		}
	}
	for _, tc := range renderCases {
		t.Run(tc.fixture, func(t *testing.T) {
			out, chatID := loadOutbound(t, tc.fixture)
			rd, err := Render(testChannel, testTurnID, chatID, out)
			got, jerr := json.MarshalIndent(viewOf(t, rd, err), "", "  ")
			if jerr != nil {
				t.Fatal(jerr)
			}
			got = append(got, '\n')
			wantFile := filepath.Join("..", "testdata", "outbound", "want", tc.fixture+".json")
			if *updateOutbound {
				if err := os.WriteFile(wantFile, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(wantFile)
			if rerr != nil {
				t.Fatalf("%v (run with -update-outbound to create it, then review it)", rerr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendering differs from %s:\n%s", wantFile, got)
			}

			if tc.err {
				if err == nil {
					t.Fatal("rendered, want a *RenderError")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkRendered(t, rd, chatID)
			var methods []string
			for _, p := range rd.Plan.Parts {
				methods = append(methods, p.Method)
			}
			if rd.Plan.Kind != tc.kind || !reflect.DeepEqual(methods, tc.methods) ||
				len(rd.Callbacks) != tc.callbacks || len(rd.Notes) != tc.notes {
				t.Errorf("kind %q, methods %v, %d callbacks, %d notes; want %q, %v, %d, %d",
					rd.Plan.Kind, methods, len(rd.Callbacks), len(rd.Notes), tc.kind, tc.methods, tc.callbacks, tc.notes)
			}
			again, err := Render(testChannel, testTurnID, chatID, out)
			if err != nil || !reflect.DeepEqual(again, rd) {
				t.Error("rendering the same message twice differs")
			}
		})
	}
}

// checkRendered asserts what every rendering must satisfy for Telegram and
// for the store, whatever the message.
func checkRendered(t *testing.T, rd Rendered, chatID int64) {
	t.Helper()
	if rd.Plan.TurnID != testTurnID || rd.Plan.ChatID != chatID || len(rd.Plan.Parts) == 0 {
		t.Fatalf("plan %+v: wrong ids or no parts", rd.Plan)
	}
	buttons := map[string]bool{}
	var media []MediaRef
	for i, p := range rd.Plan.Parts {
		limit := TextLimit
		if p.Method != MethodMessage {
			limit = CaptionLimit
			if p.Media == nil {
				t.Errorf("part %d: %s without media", i, p.Method)
			} else {
				media = append(media, *p.Media)
			}
		}
		if n := utf16Count(p.Text); n > limit || (p.Method == MethodMessage && n == 0) {
			t.Errorf("part %d: %s text of %d UTF-16 units", i, p.Method, n)
		}
		if p.Method == MethodSticker && p.Text != "" {
			t.Errorf("part %d: a sticker takes no caption", i)
		}
		if err := checkTelegramEntities(p.Text, p.Entities); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
		// Keyboards come last: once one is sent, every later part is a
		// keyboard of its own (what exceeds one keyboard's limits).
		if len(p.Keyboard) == 0 && i > 0 && len(rd.Plan.Parts[i-1].Keyboard) > 0 {
			t.Errorf("part %d without a keyboard follows one with a keyboard", i)
		}
		if len(p.Keyboard) > 0 && i > 0 && len(rd.Plan.Parts[i-1].Keyboard) > 0 && p.Text != keyboardOnlyText {
			t.Errorf("part %d: a further keyboard carries text %q", i, p.Text)
		}
		if n := len(p.Keyboard); n > 0 {
			buttons := 0
			for _, row := range p.Keyboard {
				buttons += len(row)
				if len(row) > maxRowButtons {
					t.Errorf("part %d: a row of %d buttons", i, len(row))
				}
			}
			if buttons > maxKeyboardButtons {
				t.Errorf("part %d: %d buttons", i, buttons)
			}
		}
		for _, row := range p.Keyboard {
			for _, b := range row {
				if b.Text == "" || utf8.RuneCountInString(b.Text) > maxButtonLabel {
					t.Errorf("button label %q", b.Text)
				}
				if !strings.HasPrefix(b.Data, urlButtonPrefix) {
					buttons[b.Data] = true
				}
			}
		}
		if kb := InlineKeyboard(p.Keyboard); kb != nil {
			b, _ := json.Marshal(kb)
			if bytes.Contains(b, []byte("copy_text")) {
				t.Errorf("keyboard %s carries copy_text", b)
			}
		}
	}
	if !reflect.DeepEqual(media, rd.Media) {
		t.Errorf("Rendered.Media %+v, parts carry %+v", rd.Media, media)
	}
	if len(buttons) != len(rd.Callbacks) {
		t.Errorf("%d callback buttons, %d callbacks", len(buttons), len(rd.Callbacks))
	}
	for _, c := range rd.Callbacks {
		want := store.Callback{Channel: testChannel, Key: c.Key, Group: testTurnID, ChatID: chatID, TurnID: testTurnID,
			Reply: c.Reply, ReplyID: c.ReplyID, Title: c.Title, Description: c.Description}
		if c != want || !buttons[c.Key] || len(c.Key) > 32 || c.ReplyID == "" {
			t.Errorf("callback %+v: wrong ids, no button, or key over 32 bytes", c)
		}
	}
	// Plans are stored as JSON: they must come back the same.
	b, err := json.Marshal(rd.Plan)
	if err != nil {
		t.Fatal(err)
	}
	var back Plan
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, rd.Plan) {
		t.Errorf("plan does not survive JSON: %v", err)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name   string
		out    *turn.Outbound
		fields map[string]any
	}{
		{"nil payload", nil, map[string]any{"body": []string{"empty payload"}}},
		{"nothing at all", &turn.Outbound{To: "1"}, map[string]any{"turn": []string{"absent or empty"}, "block": []string{"absent"}}},
		{
			"empty text, block without prompt",
			&turn.Outbound{To: "1", Turn: &turn.Message{Type: "text", Text: &turn.Text{}}, Block: json.RawMessage(`{"type":"Core.Log","config":{}}`)},
			map[string]any{"turn": []string{"text.body is empty"}, "block": []string{"no prompt text, media or choices found"}},
		},
		{
			"media without link or caption",
			&turn.Outbound{To: "1", Turn: &turn.Message{Type: "image", Image: &turn.OutMedia{}}},
			map[string]any{"turn": []string{"image.link is missing"}, "block": []string{"absent"}},
		},
		{
			"block that is not an object",
			&turn.Outbound{To: "1", Block: json.RawMessage(`[1]`)},
			map[string]any{"turn": []string{"absent or empty"}, "block": []string{"not a FLOIP block"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(testChannel, testTurnID, 1, tt.out)
			var re *RenderError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RenderError", err)
			}
			if !reflect.DeepEqual(re.Fields(), tt.fields) {
				t.Errorf("Fields() = %v, want %v", re.Fields(), tt.fields)
			}
		})
	}
}

// TestRenderCaptionOverflowKeepsKeyboardLast: a media header whose text does
// not fit a caption goes bare, and the text that follows carries the buttons.
func TestRenderCaptionOverflowKeepsKeyboardLast(t *testing.T) {
	body := strings.Repeat("Choose carefully. ", 70) // 1260 units
	out := &turn.Outbound{To: "5", Turn: &turn.Message{Type: "interactive", Interactive: &turn.Interactive{
		Type:   "button",
		Header: &turn.InteractiveHeader{Type: "video", Video: &turn.OutMedia{Link: "https://example.org/v.mp4", MimeType: "video/mp4"}},
		Body:   &turn.Text2{Text: body},
		Action: &turn.Action{Buttons: []turn.ActionButton{{Type: "reply", Reply: &turn.ButtonTitle{ID: "ok", Title: "OK"}}}},
	}}}
	rd, err := Render(testChannel, testTurnID, 5, out)
	if err != nil {
		t.Fatal(err)
	}
	checkRendered(t, rd, 5)
	parts := rd.Plan.Parts
	if len(parts) != 2 || parts[0].Method != MethodVideo || parts[0].Text != "" || parts[0].Keyboard != nil ||
		parts[1].Method != MethodMessage || parts[1].Text != strings.TrimSpace(body) || len(parts[1].Keyboard) != 1 {
		t.Errorf("parts %+v: want a bare video, then the text with the keyboard", parts)
	}
}

// TestRenderTemplateMediaHeader: a template whose header parameter is an
// image is sent as that image, captioned with the template's text.
func TestRenderTemplateMediaHeader(t *testing.T) {
	block := `{"config":{"name":"promo","components":[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"Hi {{1}}"}]}}`
	img := &turn.OutMedia{Link: "https://example.org/p.jpg", MimeType: "image/jpeg"}
	out := &turn.Outbound{To: "5", Block: json.RawMessage(block), Turn: &turn.Message{Template: &turn.Template{Name: "promo",
		Components: []turn.TemplateComponent{
			{Type: "header", Parameters: []turn.TemplateParameter{{Type: "image", Image: img}}},
			{Type: "body", Parameters: []turn.TemplateParameter{{Type: "text", Text: "Jane"}}},
		}}}}
	rd, err := Render(testChannel, testTurnID, 5, out)
	if err != nil {
		t.Fatal(err)
	}
	checkRendered(t, rd, 5)
	want := []Part{{Method: MethodPhoto, Text: "Hi Jane", Media: &MediaRef{Key: testTurnID + "-0", Link: img.Link, MimeType: "image/jpeg"}}}
	if !reflect.DeepEqual(rd.Plan.Parts, want) {
		t.Errorf("parts %+v, want %+v", rd.Plan.Parts, want)
	}
}

func TestRenderEdges(t *testing.T) {
	link := "https://example.org/f"
	tests := []struct {
		name    string
		out     *turn.Outbound
		texts   []string // method:text per part
		buttons []string // labels, in order
		notes   int
	}{
		{
			"upper-case type", &turn.Outbound{Turn: &turn.Message{Type: "TEXT", Text: &turn.Text{Body: "hi"}}},
			[]string{"sendMessage:hi"}, nil, 0,
		},
		{
			"media without link sends its caption",
			&turn.Outbound{Turn: &turn.Message{Type: "document", Document: &turn.OutMedia{Caption: "the caption"}}},
			[]string{"sendMessage:the caption"}, nil, 1,
		},
		{
			"buttons without any text still carry a keyboard",
			&turn.Outbound{Turn: &turn.Message{Interactive: &turn.Interactive{Type: "button", Action: &turn.Action{
				Buttons: []turn.ActionButton{{Reply: &turn.ButtonTitle{ID: "1", Title: "One"}}, {Reply: &turn.ButtonTitle{ID: "2"}}, {Reply: &turn.ButtonTitle{}}}}}}},
			[]string{"sendMessage:" + keyboardOnlyText}, []string{"One", "2"}, 0,
		},
		{
			"empty turn object falls back to the block",
			&turn.Outbound{Turn: &turn.Message{Raw: json.RawMessage(`{}`)},
				Block:     json.RawMessage(`{"type":"MobilePrimitives.OpenResponse","config":{"prompt":"p"}}`),
				Resources: json.RawMessage(`[{"uuid":"p","values":[{"content_type":"TEXT","modes":["TEXT"],"value":"Your name?"}]}]`)},
			[]string{"sendMessage:Your name?"}, nil, 1,
		},
		{
			"FLOIP choices as an array, resource fields of unexpected types",
			&turn.Outbound{
				Block: json.RawMessage(`{"type":"MobilePrimitives.SelectOneResponse","config":{"prompt":"p","choices":[{"name":"y","prompt":"cy"},{"name":"n","prompt":7}]}}`),
				EvaluatedResources: json.RawMessage(`[{"uuid":"p","values":[{"content_type":"TEXT","modes":"SMS","value":"Sure?"}]},
					{"uuid":"cy","values":[{"content_type":"text","modes":["RICH_MESSAGING"],"value":"Yes"}]}]`)},
			[]string{"sendMessage:Sure?"}, []string{"Yes", "n"}, 1,
		},
		{
			"interactive kind unknown to the connector",
			&turn.Outbound{Turn: &turn.Message{Raw: json.RawMessage(`{"type":"interactive","interactive":{"type":"product","body":{"text":"Look"}}}`),
				Interactive: &turn.Interactive{Type: "product", Body: &turn.Text2{Text: "Look"}}}},
			[]string{"sendMessage:Look"}, nil, 1,
		},
		{
			"list row without id answers its title",
			&turn.Outbound{Turn: &turn.Message{Interactive: &turn.Interactive{Type: "list", Body: &turn.Text2{Text: "Pick"}, Action: &turn.Action{
				Sections: []turn.Section{{Title: "Fruit", Rows: []turn.Row{{Title: "Apple", Description: "red"}}}}}}}},
			[]string{"sendMessage:Pick\n\nFruit\n• Apple — red"}, []string{"Apple"}, 0,
		},
		{
			"cta_url with a bad link shows it as text",
			&turn.Outbound{Turn: &turn.Message{Interactive: &turn.Interactive{Type: "cta_url", Body: &turn.Text2{Text: "Go"},
				Action: &turn.Action{Name: "cta_url", Parameters: json.RawMessage(`{"display_text":"Site","url":"javascript:alert(1)"}`)}}}},
			[]string{"sendMessage:Go\n\njavascript:alert(1)"}, nil, 1,
		},
		{
			"cta_url to a name without a dot, which Telegram refuses, shows it as text",
			&turn.Outbound{Turn: &turn.Message{Interactive: &turn.Interactive{Type: "cta_url", Body: &turn.Text2{Text: "Go"},
				Action: &turn.Action{Name: "cta_url", Parameters: json.RawMessage(`{"display_text":"Site","url":"http://localhost/x"}`)}}}},
			[]string{"sendMessage:Go\n\nhttp://localhost/x"}, nil, 1,
		},
		{
			"cta_url with a space shows it as text",
			&turn.Outbound{Turn: &turn.Message{Interactive: &turn.Interactive{Type: "cta_url", Body: &turn.Text2{Text: "Go"},
				Action: &turn.Action{Name: "cta_url", Parameters: json.RawMessage(`{"display_text":"Site","url":"https://example.org/a b"}`)}}}},
			[]string{"sendMessage:Go\n\nhttps://example.org/a b"}, nil, 1,
		},
		{
			"cta_url to an address is a button",
			&turn.Outbound{Turn: &turn.Message{Interactive: &turn.Interactive{Type: "cta_url", Body: &turn.Text2{Text: "Go"},
				Action: &turn.Action{Name: "cta_url", Parameters: json.RawMessage(`{"display_text":"Site","url":"https://203.0.113.7/x"}`)}}}},
			[]string{"sendMessage:Go"}, []string{"Site"}, 0,
		},
		{
			"sticker without caption",
			&turn.Outbound{Turn: &turn.Message{Type: "sticker", Sticker: &turn.OutMedia{Link: link}}},
			[]string{"sendSticker:"}, nil, 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := Render(testChannel, testTurnID, 9, tt.out)
			if err != nil {
				t.Fatal(err)
			}
			checkRendered(t, rd, 9)
			var texts, buttons []string
			for _, p := range rd.Plan.Parts {
				texts = append(texts, p.Method+":"+p.Text)
				for _, row := range p.Keyboard {
					for _, b := range row {
						buttons = append(buttons, b.Text)
					}
				}
			}
			if !reflect.DeepEqual(texts, tt.texts) || !reflect.DeepEqual(buttons, tt.buttons) || len(rd.Notes) != tt.notes {
				t.Errorf("parts %q, buttons %q, notes %q; want %q, %q and %d notes", texts, buttons, rd.Notes, tt.texts, tt.buttons, tt.notes)
			}
			for _, c := range rd.Callbacks {
				if c.ReplyID == "" || c.Title == "" {
					t.Errorf("callback %+v without reply id or title", c)
				}
			}
		})
	}
}
