package render

import (
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/turn"
)

// waTemplate is a WhatsApp template definition as it travels somewhere in
// the FLOIP block's config (Turn's "turn" object names the template only).
type waTemplate struct {
	Name       string           `json:"name"`
	Components []waTemplateComp `json:"components"`
	language   string
}

type waTemplateComp struct {
	Type    string             `json:"type"`   // HEADER, BODY, FOOTER, BUTTONS (any case)
	Format  string             `json:"format"` // header: TEXT, IMAGE, VIDEO, DOCUMENT
	Text    string             `json:"text"`
	Buttons []waTemplateButton `json:"buttons"`
}

type waTemplateButton struct {
	Type        string `json:"type"` // QUICK_REPLY, URL, PHONE_NUMBER, ...
	Text        string `json:"text"`
	URL         string `json:"url"`
	PhoneNumber string `json:"phone_number"`
}

// template renders a template message from its definition, or, without
// one, as its name and parameters.
func (r *renderer) template(t *turn.Template) string {
	lang := ""
	if t.Language != nil {
		lang = t.Language.Code
	}
	def := findTemplate(r.out.Block, t.Name, lang)
	rt := &richText{}
	kb := r.newKeyboard()
	if def == nil {
		rt.plain("", t.Name, models.MessageEntityTypeBold)
		for _, c := range t.Components {
			if strings.EqualFold(c.Type, "header") || strings.EqualFold(c.Type, "body") {
				for _, p := range c.Parameters {
					rt.plain("\n", p.Text, "")
				}
			}
		}
		r.note("template %q has no definition in block.config: sent its name and parameters", t.Name)
	} else {
		r.templateFromDefinition(t, def, rt, kb)
	}
	text, ents := rt.result()
	if method, m := templateHeaderMedia(t); m != nil {
		r.addMedia(method, m, text, ents, kb.rows)
		return ""
	}
	r.addText(text, ents, kb.rows)
	if len(r.res.Plan.Parts) == 0 {
		return "template has no name, definition or parameters"
	}
	return ""
}

// templateFromDefinition writes the header (bold), body, footer (italic) and
// buttons of a defined template: quick replies and links become buttons,
// phone numbers and other kinds lines of text.
func (r *renderer) templateFromDefinition(t *turn.Template, def *waTemplate, rt *richText, kb *keyboardBuilder) {
	var header, body, footer *waTemplateComp
	var buttons []waTemplateButton
	for i := range def.Components {
		c := &def.Components[i]
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			header = c
		case "BODY":
			body = c
		case "FOOTER":
			footer = c
		case "BUTTONS":
			buttons = append(buttons, c.Buttons...)
		}
	}
	if header != nil {
		rt.wa("", fillPlaceholders(header.Text, templateParams(t, "header")), models.MessageEntityTypeBold)
	}
	if body != nil {
		rt.wa("\n", fillPlaceholders(body.Text, templateParams(t, "body")), "")
	}
	if footer != nil {
		rt.wa("\n\n", footer.Text, models.MessageEntityTypeItalic)
	}
	sep := "\n\n"
	line := func(parts ...string) {
		var kept []string
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				kept = append(kept, p)
			}
		}
		if len(kept) > 0 {
			rt.plain(sep, strings.Join(kept, ": "), "")
			sep = "\n"
		}
	}
	for i, b := range buttons {
		p := templateButtonParam(t, i)
		switch strings.ToUpper(b.Type) {
		case "QUICK_REPLY":
			kb.reply("button", p.Payload, b.Text, "")
		case "URL":
			link := fillPlaceholders(b.URL, []turn.TemplateParameter{p})
			if buttonURL(link) {
				kb.link(b.Text, link)
			} else {
				line(b.Text, link)
			}
		case "PHONE_NUMBER":
			line(b.Text, b.PhoneNumber)
		default:
			line(b.Text)
		}
	}
}

// findTemplate looks anywhere in the block's config for the definition of
// the template name, preferring one in language lang.
func findTemplate(block json.RawMessage, name, lang string) *waTemplate {
	var b struct {
		Config any `json:"config"`
	}
	if len(block) == 0 || json.Unmarshal(block, &b) != nil || name == "" {
		return nil
	}
	var found []*waTemplate
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if n, _ := v["name"].(string); strings.EqualFold(n, name) {
				if _, ok := v["components"].([]any); ok {
					if t := decodeTemplate(v); t != nil {
						found = append(found, t)
					}
				}
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			// Some configs carry the definition as a JSON string.
			if s := strings.TrimSpace(v); strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
				var inner any
				if json.Unmarshal([]byte(s), &inner) == nil {
					walk(inner)
				}
			}
		}
	}
	walk(b.Config)
	for _, t := range found {
		if lang != "" && strings.EqualFold(t.language, lang) {
			return t
		}
	}
	if len(found) > 0 {
		return found[0]
	}
	return nil
}

// decodeTemplate reads a definition, keeping what decodes when some field
// has an unexpected type.
func decodeTemplate(v map[string]any) *waTemplate {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var t waTemplate
	if !jsonTolerated(json.Unmarshal(raw, &t)) {
		return nil
	}
	switch l := v["language"].(type) {
	case string:
		t.language = l
	case map[string]any:
		t.language, _ = l["code"].(string)
	}
	return &t
}

var placeholderRE = regexp.MustCompile(`\{\{\s*(\d+)\s*\}\}`)

// fillPlaceholders replaces {{n}} with the text of the n-th parameter; a
// placeholder without a parameter is left as is.
func fillPlaceholders(s string, params []turn.TemplateParameter) string {
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.Atoi(placeholderRE.FindStringSubmatch(m)[1])
		if err != nil || n < 1 || n > len(params) || params[n-1].Text == "" {
			return m
		}
		return params[n-1].Text
	})
}

// templateParams returns the parameters of the template's component of type
// typ (header, body).
func templateParams(t *turn.Template, typ string) []turn.TemplateParameter {
	for _, c := range t.Components {
		if strings.EqualFold(c.Type, typ) {
			return c.Parameters
		}
	}
	return nil
}

// templateButtonParam returns the parameter given for the button at index
// (a quick reply's payload, a URL's suffix), or a zero parameter.
func templateButtonParam(t *turn.Template, index int) turn.TemplateParameter {
	for _, c := range t.Components {
		if strings.EqualFold(c.Type, "button") && len(c.Parameters) > 0 && componentIndex(c.Index) == index {
			return c.Parameters[0]
		}
	}
	return turn.TemplateParameter{}
}

// componentIndex reads a button component's index, a number or a string.
func componentIndex(raw json.RawMessage) int {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return n
		}
	}
	return -1
}

// templateHeaderMedia returns the media a template's header parameters give.
func templateHeaderMedia(t *turn.Template) (string, *turn.OutMedia) {
	for _, p := range templateParams(t, "header") {
		switch {
		case p.Image != nil && p.Image.Link != "":
			return MethodPhoto, p.Image
		case p.Video != nil && p.Video.Link != "":
			return MethodVideo, p.Video
		case p.Document != nil && p.Document.Link != "":
			return MethodDocument, p.Document
		}
	}
	return "", nil
}

// WebLink reports whether s can be a url button: Telegram refuses the whole
// message over a bad one.
func WebLink(s string) bool {
	if strings.Contains(s, "{{") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
