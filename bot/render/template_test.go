package render

import (
	"encoding/json"
	"testing"

	"github.com/turn-telegram/turn-telegram/turn"
)

func TestFillPlaceholders(t *testing.T) {
	params := []turn.TemplateParameter{{Type: "text", Text: "Jane"}, {Type: "currency"}, {Type: "text", Text: "{{1}}"}}
	tests := []struct{ in, want string }{
		{"Hello {{1}}", "Hello Jane"},
		{"{{ 1 }} and {{1}}", "Jane and Jane"},
		{"empty {{2}} stays", "empty {{2}} stays"},
		{"missing {{4}} and {{0}} stay", "missing {{4}} and {{0}} stay"},
		{"values are not filled again: {{3}}", "values are not filled again: {{1}}"},
		{"named {{name}} stays", "named {{name}} stays"},
		{"huge {{99999999999999999999}} stays", "huge {{99999999999999999999}} stays"},
	}
	for _, tt := range tests {
		if got := fillPlaceholders(tt.in, params); got != tt.want {
			t.Errorf("fillPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFindTemplate(t *testing.T) {
	// def is a definition of "Greet" in language lang (JSON), body "Hi <label>".
	def := func(lang, label string) string {
		return `{"name":"Greet","language":` + lang + `,"components":[{"type":"body","text":"Hi ` + label + `"}]}`
	}
	tests := []struct {
		name, block, lang, want string // want: the body text found, "" for none
	}{
		{"at the top of config", `{"config":` + def(`"en"`, "en") + `}`, "en", "Hi en"},
		{"deep in config", `{"config":{"a":[1,{"b":{"c":` + def(`"en"`, "en") + `}}]}}`, "en", "Hi en"},
		{"as a JSON string", `{"config":{"definition":` + jsonQuote(def(`"en"`, "en")) + `}}`, "en", "Hi en"},
		{"language preferred", `{"config":[` + def(`{"code":"fr"}`, "fr") + `,` + def(`{"code":"en"}`, "en") + `]}`, "en", "Hi en"},
		{"first when no language matches", `{"config":[` + def(`"fr"`, "fr") + `,` + def(`"de"`, "de") + `]}`, "pt", "Hi fr"},
		{"outside config is not looked at", `{"template":` + def(`"en"`, "en") + `,"config":{}}`, "en", ""},
		{"name must match", `{"config":{"name":"other","components":[]}}`, "en", ""},
		{"components needed", `{"config":{"name":"greet"}}`, "en", ""},
		{"no block", ``, "en", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findTemplate(json.RawMessage(tt.block), "greet", tt.lang)
			body := ""
			if got != nil && len(got.Components) > 0 {
				body = got.Components[0].Text
			}
			if body != tt.want {
				t.Errorf("found %q, want %q", body, tt.want)
			}
		})
	}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestTemplateButtons covers the button kinds of a definition: an invalid
// or unfilled URL becomes a line of text (Telegram refuses the whole message
// over a bad url button), other kinds keep their label.
func TestTemplateButtons(t *testing.T) {
	block := `{"config":{"name":"t","components":[{"type":"BODY","text":"Body"},{"type":"BUTTONS","buttons":[
		{"type":"URL","text":"Site","url":"https://example.org/{{1}}"},
		{"type":"URL","text":"Local","url":"ftp://example.org/x"},
		{"type":"COPY_CODE","text":"Copy offer code"},
		{"type":"QUICK_REPLY","text":"Stop"}]}]}}`
	out := &turn.Outbound{To: "7", Block: json.RawMessage(block), Turn: &turn.Message{Template: &turn.Template{Name: "t",
		Components: []turn.TemplateComponent{{Type: "button", SubType: "quick_reply", Index: json.RawMessage(`3`),
			Parameters: []turn.TemplateParameter{{Type: "payload", Payload: "STOP"}}}}}}}
	rd, err := Render(testChannel, testTurnID, 7, out)
	if err != nil {
		t.Fatal(err)
	}
	p := rd.Plan.Parts[0]
	if want := "Body\n\nSite: https://example.org/{{1}}\nLocal: ftp://example.org/x\nCopy offer code"; p.Text != want {
		t.Errorf("text %q, want %q", p.Text, want)
	}
	if len(p.Keyboard) != 1 || p.Keyboard[0][0].Text != "Stop" || len(rd.Callbacks) != 1 ||
		rd.Callbacks[0].ReplyID != "STOP" || rd.Callbacks[0].Reply != "button" {
		t.Errorf("keyboard %+v, callbacks %+v: want one Stop button answering payload STOP", p.Keyboard, rd.Callbacks)
	}
}
