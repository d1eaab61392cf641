package turn

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const fixtureDir = "testdata/outbound"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// blockConfig is the part of a FLOIP block the tests look into.
type blockConfig struct {
	Type   string `json:"type"`
	Config struct {
		Prompt   string `json:"prompt"`
		Template struct {
			Name       string `json:"name"`
			Language   string `json:"language"`
			Components []struct {
				Type    string `json:"type"`
				Text    string `json:"text"`
				Buttons []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"buttons"`
			} `json:"components"`
		} `json:"template"`
	} `json:"config"`
}

func TestDecodeOutboundFixtures(t *testing.T) {
	tests := map[string]struct {
		kind    string // want Turn.Kind(); "" means no turn object
		context bool   // want a non-nil Context
		waiting bool
		check   func(t *testing.T, o *Outbound)
	}{
		"text.json": {kind: "text", context: true, check: func(t *testing.T, o *Outbound) {
			eq(t, "text body", o.Turn.Text.Body, "the evaluated message")
			eq(t, "block type", blockOf(t, o).Type, "MobilePrimitives.Message")
			if !strings.Contains(string(o.EvaluatedResources), "Hi Jane") {
				t.Errorf("evaluated_resources not kept: %s", o.EvaluatedResources)
			}
		}},
		"content_card.json": {kind: "text", check: func(t *testing.T, o *Outbound) {
			eq(t, "text body", o.Turn.Text.Body, "the evaluated message")
			if !strings.Contains(string(o.Block), `"content_card"`) {
				t.Errorf("card details missing from block: %s", o.Block)
			}
		}},
		"template.json": {kind: "template", context: true, waiting: true, check: func(t *testing.T, o *Outbound) {
			m := o.Turn
			eq(t, "type", m.Type, "") // the published example has no type
			eq(t, "name", m.Template.Name, "hello_template")
			eq(t, "namespace", m.Template.Namespace, "message_template_namespace_10")
			eq(t, "language", m.Template.Language.Code, "en")
			eq(t, "component", m.Template.Components[0].Type, "body")
			eq(t, "parameter", m.Template.Components[0].Parameters[0].Text, "Jane")
			def := blockOf(t, o).Config.Template
			eq(t, "definition name", def.Name, "hello_template")
			if len(def.Components) != 4 {
				t.Fatalf("definition components = %d, want 4", len(def.Components))
			}
			eq(t, "body text", def.Components[1].Text, "Hello {{1}}, welcome")
			eq(t, "second button", def.Components[3].Buttons[1].Text, "No")
		}},
		"interactive_button.json": {kind: "interactive", context: true, waiting: true, check: func(t *testing.T, o *Outbound) {
			it := o.Turn.Interactive
			eq(t, "interactive type", it.Type, "button")
			eq(t, "body", it.Body.Text, "Please select an order")
			if len(it.Action.Buttons) != 2 {
				t.Fatalf("buttons = %d, want 2", len(it.Action.Buttons))
			}
			eq(t, "button id", it.Action.Buttons[0].Reply.ID, "QmxhY2sgQ29mZmVl")
			eq(t, "button title", it.Action.Buttons[1].Reply.Title, "Black Tea")
			eq(t, "block type", blockOf(t, o).Type, "MobilePrimitives.SelectOneResponse")
		}},
		"interactive_list.json": {kind: "interactive", waiting: true, check: func(t *testing.T, o *Outbound) {
			it := o.Turn.Interactive
			eq(t, "interactive type", it.Type, "list")
			eq(t, "menu label", it.Action.Button, "Option")
			eq(t, "row id", it.Action.Sections[0].Rows[0].ID, "8J+YgCBPbmU=")
			eq(t, "row title", it.Action.Sections[0].Rows[0].Title, "😀 One")
		}},
		"interactive_flow.json": {kind: "interactive", context: true, waiting: true, check: func(t *testing.T, o *Outbound) {
			it := o.Turn.Interactive
			eq(t, "interactive type", it.Type, "flow")
			eq(t, "action", it.Action.Name, "flow")
			eq(t, "header", it.Header.Text, "Make a booking")
			eq(t, "footer", it.Footer.Text, "This is a demo. No real booking will be made.")
			var p struct {
				FlowID  string `json:"flow_id"`
				FlowCTA string `json:"flow_cta"`
			}
			if err := json.Unmarshal(it.Action.Parameters, &p); err != nil {
				t.Fatal(err)
			}
			eq(t, "flow id", p.FlowID, "1271481943527749")
			eq(t, "flow cta", p.FlowCTA, "Make a booking!")
		}},
		"video.json": {kind: "video", context: true, check: func(t *testing.T, o *Outbound) {
			v := o.Turn.Video
			eq(t, "mime", v.MimeType, "video/mp4")
			eq(t, "caption", v.Caption, "hello world")
			eq(t, "link", v.Link, "https://whatsapp.turn.io/uploads/2024/09/24/26954/9fa7b372-faf5-483f-a82a-61c0129d50fe")
		}},
		"audio.json": {kind: "audio", check: func(t *testing.T, o *Outbound) {
			eq(t, "mime", o.Turn.Audio.Type(), "audio/mp3")
			eq(t, "link", o.Turn.Audio.Link, "https://whatsapp.turn.io/uploads/2024/09/24/27038/2f9f3c3f-f965-46d4-9298-1fc66193babd")
		}},
		"document.json": {kind: "document", context: true, check: func(t *testing.T, o *Outbound) {
			d := o.Turn.Document
			eq(t, "mime", d.MimeType, "application/pdf")
			eq(t, "filename", d.Filename, "the-filename.pdf")
			eq(t, "caption", d.Caption, "hello world")
		}},
		"image.json": {kind: "image", check: func(t *testing.T, o *Outbound) {
			eq(t, "mime", o.Turn.Image.MimeType, "image/jpeg")
			eq(t, "caption", o.Turn.Image.Caption, "hello world")
		}},
		"unknown_fields.json": {kind: "text", context: true, check: func(t *testing.T, o *Outbound) {
			eq(t, "text body", o.Turn.Text.Body, "Your appointment is *tomorrow* at 10:00.")
			if !strings.Contains(string(o.Turn.Raw), "x_future") {
				t.Errorf("Raw lost unknown fields: %s", o.Turn.Raw)
			}
		}},
		"unknown_type.json": {kind: "location", check: func(t *testing.T, o *Outbound) {
			m := o.Turn
			if m.Text != nil || m.Image != nil || m.Interactive != nil || m.Template != nil {
				t.Errorf("unknown type filled typed fields: %+v", m)
			}
			if !strings.Contains(string(m.Raw), `"latitude"`) {
				t.Errorf("Raw lost the location: %s", m.Raw)
			}
		}},
		"unknown_interactive.json": {kind: "interactive", check: func(t *testing.T, o *Outbound) {
			it := o.Turn.Interactive
			eq(t, "interactive type", it.Type, "cta_url")
			eq(t, "action", it.Action.Name, "cta_url")
			eq(t, "header mime from \"mime\"", it.Header.Image.MimeType, "image/png")
			if !strings.Contains(string(it.Action.Parameters), "https://example.org/clinic") {
				t.Errorf("parameters lost: %s", it.Action.Parameters)
			}
		}},
		"mime_drift.json": {kind: "video", check: func(t *testing.T, o *Outbound) {
			eq(t, "mime_type from mime", o.Turn.Video.MimeType, "video/mp4")
			eq(t, "Type()", o.Turn.Video.Type(), "video/mp4")
			if o.Resources != nil || o.EvaluatedResources != nil {
				t.Errorf("null resources not treated as absent: %s %s", o.Resources, o.EvaluatedResources)
			}
		}},
		"version_drift.json": {kind: "sticker", check: func(t *testing.T, o *Outbound) {
			eq(t, "version", o.Version, "0.2.0")
			eq(t, "mime", o.Turn.Sticker.MimeType, "image/webp")
			if o.Block != nil {
				t.Errorf("null block not treated as absent: %s", o.Block)
			}
		}},
		"no_turn.json": {waiting: true, check: func(t *testing.T, o *Outbound) {
			eq(t, "block type", blockOf(t, o).Type, "MobilePrimitives.NumericResponse")
		}},
	}

	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := tests[filepath.Base(f)]; !ok {
			t.Errorf("fixture %s has no expectations in this test", f)
		}
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			o, err := DecodeOutbound(readFixture(t, name))
			if err != nil {
				t.Fatalf("DecodeOutbound: %v", err)
			}
			eq(t, "to", o.To, "5512784653")
			if o.Version == "" {
				t.Error("version missing")
			}
			if got := o.Context != nil; got != tt.context {
				t.Errorf("context present = %v, want %v (%s)", got, tt.context, o.Context)
			}
			if o.WaitingForUserInput != tt.waiting {
				t.Errorf("waiting_for_user_input = %v, want %v", o.WaitingForUserInput, tt.waiting)
			}
			if tt.kind == "" {
				if o.Turn != nil {
					t.Fatalf("turn = %+v, want nil", o.Turn)
				}
			} else {
				if o.Turn == nil {
					t.Fatal("turn missing")
				}
				eq(t, "kind", o.Turn.Kind(), tt.kind)
				if len(o.Turn.Raw) == 0 {
					t.Error("Raw not kept")
				}
			}
			tt.check(t, o)
		})
	}
}

func TestDecodeOutboundInvalid(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]any
	}{
		{"empty", ``, map[string]any{"body": []string{"is not valid JSON"}}},
		{"not json", `to=5512784653`, map[string]any{"body": []string{"is not valid JSON"}}},
		{"truncated", `{"to": "5512784653", "turn": {`, map[string]any{"body": []string{"is not valid JSON"}}},
		{"array", `[{"to": "5512784653"}]`, map[string]any{"body": []string{"is not valid JSON"}}},
		{"null", `null`, map[string]any{"body": []string{"is not valid JSON"}}},
		{"string", `"5512784653"`, map[string]any{"body": []string{"is not valid JSON"}}},
		{"no to", `{"version": "0.0.1-alpha", "turn": {"type": "text", "text": {"body": "hi"}}}`, map[string]any{"to": []string{"can't be blank"}}},
		{"empty to", `{"to": ""}`, map[string]any{"to": []string{"can't be blank"}}},
		{"blank to", `{"to": " \t"}`, map[string]any{"to": []string{"can't be blank"}}},
		{"null to", `{"to": null}`, map[string]any{"to": []string{"can't be blank"}}},
		{"numeric to", `{"to": 5512784653}`, map[string]any{"to": []string{"is invalid"}}},
		{"turn not an object", `{"to": "1", "turn": "text"}`, map[string]any{"turn": []string{"is invalid"}}},
		{"turn array", `{"to": "1", "turn": [{"type": "text"}]}`, map[string]any{"turn": []string{"is invalid"}}},
		{"mistyped body", `{"to": "1", "turn": {"type": "text", "text": {"body": 5}}}`,
			map[string]any{"turn": map[string]any{"text": map[string]any{"body": []string{"is invalid"}}}}},
		{"mistyped version", `{"to": "1", "version": {"major": 0}}`, map[string]any{"version": []string{"is invalid"}}},
		{"several at once", `{"turn": 1}`, map[string]any{"to": []string{"can't be blank"}, "turn": []string{"is invalid"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := DecodeOutbound([]byte(tt.body))
			if o != nil {
				t.Errorf("got payload %+v with error", o)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if !reflect.DeepEqual(ve.Errors, tt.want) {
				t.Fatalf("errors = %#v, want %#v", ve.Errors, tt.want)
			}
		})
	}
}

func TestDecodeOutboundTolerance(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, o *Outbound)
	}{
		{"numeric version", `{"to": "1", "version": 2}`, func(t *testing.T, o *Outbound) { eq(t, "version", o.Version, "2") }},
		{"null everything", `{"to": "1", "version": null, "block": null, "context": null, "resources": null, "evaluated_resources": null, "turn": null, "waiting_for_user_input": null}`,
			func(t *testing.T, o *Outbound) {
				if o.Block != nil || o.Context != nil || o.Resources != nil || o.EvaluatedResources != nil || o.Turn != nil {
					t.Errorf("nulls not absent: %+v", o)
				}
			}},
		{"non-boolean waiting hint ignored", `{"to": "1", "waiting_for_user_input": "yes"}`,
			func(t *testing.T, o *Outbound) {
				if o.WaitingForUserInput {
					t.Error("waiting_for_user_input set from a string")
				}
			}},
		{"mime_type wins over mime", `{"to": "1", "turn": {"type": "image", "image": {"link": "https://x/y", "mime_type": "image/png", "mime": "image/jpeg"}}}`,
			func(t *testing.T, o *Outbound) { eq(t, "mime", o.Turn.Image.MimeType, "image/png") }},
		{"template parameter media mime", `{"to": "1", "turn": {"template": {"name": "t", "components": [{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x/y", "mime": "image/png"}}]}]}}}`,
			func(t *testing.T, o *Outbound) {
				eq(t, "kind", o.Turn.Kind(), "template")
				eq(t, "mime", o.Turn.Template.Components[0].Parameters[0].Image.MimeType, "image/png")
			}},
		{"empty turn object", `{"to": "1", "turn": {}}`, func(t *testing.T, o *Outbound) { eq(t, "kind", o.Turn.Kind(), "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := DecodeOutbound([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeOutbound: %v", err)
			}
			tt.check(t, o)
		})
	}
}

func TestValidationErrorText(t *testing.T) {
	err := &ValidationError{Errors: map[string]any{
		"to":   []string{"can't be blank"},
		"turn": map[string]any{"text": map[string]any{"body": []string{"is invalid"}}},
	}}
	want := "turn: invalid payload: to can't be blank; turn.text.body is invalid"
	if got := err.Error(); got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func FuzzDecodeOutbound(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{``, `null`, `{}`, `{"to":""}`, `{"to":"1","turn":{"text":{"body":5}}}`, `{"to":"1","turn":[]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := DecodeOutbound(body)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("error %v is not a non-empty *ValidationError", err)
			}
			if o != nil {
				t.Fatal("payload returned with an error")
			}
			_ = err.Error()
			return
		}
		if strings.TrimSpace(o.To) == "" {
			t.Fatalf("accepted payload without a recipient: %q", body)
		}
		if o.Turn != nil {
			_ = o.Turn.Kind()
		}
		if _, err := json.Marshal(o); err != nil {
			t.Fatalf("decoded payload does not encode: %v", err)
		}
	})
}

func blockOf(t *testing.T, o *Outbound) blockConfig {
	t.Helper()
	var b blockConfig
	if err := json.Unmarshal(o.Block, &b); err != nil {
		t.Fatalf("block: %v", err)
	}
	return b
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
