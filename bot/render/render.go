package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"sort"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/turn"
)

// keyboardOnlyText stands in for the text of a message that has buttons but
// no text at all: Telegram needs text to carry a keyboard.
const keyboardOnlyText = "👇"

// MaxParts is the most Telegram messages one Turn message may become. More
// would hold the chat for minutes (one message a second) and is never what
// a journey meant: such a message is refused with 400, not cut, so that
// nobody reads half of a health message believing it whole.
const MaxParts = 10

// RenderError says why a Turn message cannot be rendered: Reasons maps a
// payload field ("turn", "block", "body") to what is wrong with it.
type RenderError struct {
	Reasons map[string]string
}

func (e *RenderError) Error() string {
	keys := make([]string, 0, len(e.Reasons))
	for k := range e.Reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("render:")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " %s: %s", k, e.Reasons[k])
	}
	return b.String()
}

// Fields is the error in Turn's shape for a 400 answer: field -> [reason].
func (e *RenderError) Fields() map[string]any {
	out := make(map[string]any, len(e.Reasons))
	for k, v := range e.Reasons {
		out[k] = []string{v}
	}
	return out
}

// Render turns a Turn outbound message into the Telegram messages that show
// it, for the chat chatID of channel; turnID is the connector's id for the
// message, from which callback and media keys are derived (rendering the same
// message twice gives the same result). Turn's own rendering (out.Turn) is
// used first; when it is absent or yields nothing, the FLOIP block and its
// evaluated resources are. Kinds Telegram has no equivalent for are shown as
// text with a Note. A message with nothing at all to show is a *RenderError.
func Render(channel, turnID string, chatID int64, out *turn.Outbound) (Rendered, error) {
	if out == nil {
		return Rendered{}, &RenderError{Reasons: map[string]string{"body": "empty payload"}}
	}
	r := &renderer{channel: channel, turnID: turnID, chatID: chatID, out: out}
	r.res.Plan = Plan{TurnID: turnID, ChatID: chatID}
	problems := map[string]string{}
	if turnPresent(out.Turn) {
		if reason := r.fromTurn(out.Turn); reason != "" {
			problems["turn"] = reason
		}
	} else {
		problems["turn"] = "absent or empty"
	}
	if len(r.res.Plan.Parts) == 0 {
		if reason := r.fromBlock(problems["turn"]); reason != "" {
			problems["block"] = reason
		}
	}
	if len(r.res.Plan.Parts) == 0 {
		return Rendered{}, &RenderError{Reasons: problems}
	}
	field := "turn"
	if problems["turn"] != "" {
		field = "block"
	}
	if n := r.buttonCount(); n > maxKeyboards*maxKeyboardButtons {
		return Rendered{}, &RenderError{Reasons: map[string]string{field: fmt.Sprintf(
			"has %d buttons; Telegram shows %d per message, and at most %d are offered for one choice",
			n, maxKeyboardButtons, maxKeyboards*maxKeyboardButtons)}}
	}
	if n := len(r.res.Plan.Parts); n > MaxParts {
		return Rendered{}, &RenderError{Reasons: map[string]string{field: fmt.Sprintf(
			"needs %d Telegram messages (%d characters); at most %d are sent for one message",
			n, r.textLen(), MaxParts)}}
	}
	return r.res, nil
}

// buttonCount counts the plan's buttons.
func (r *renderer) buttonCount() int {
	n := 0
	for _, p := range r.res.Plan.Parts {
		for _, row := range p.Keyboard {
			n += len(row)
		}
	}
	return n
}

// textLen is the length of the plan's texts, in Telegram's UTF-16 units.
func (r *renderer) textLen() int {
	n := 0
	for _, p := range r.res.Plan.Parts {
		if p.Text != keyboardOnlyText {
			n += utf16Count(p.Text)
		}
	}
	return n
}

// turnPresent reports whether Turn sent a message object with anything in it.
func turnPresent(m *turn.Message) bool {
	if m == nil {
		return false
	}
	if m.Kind() != "" {
		return true
	}
	raw := bytes.TrimSpace(m.Raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null")) && !bytes.Equal(raw, []byte("{}"))
}

type renderer struct {
	channel   string
	turnID    string
	chatID    int64
	out       *turn.Outbound
	res       Rendered
	keyboards int
}

func (r *renderer) note(format string, args ...any) {
	r.res.Notes = append(r.res.Notes, fmt.Sprintf(format, args...))
}

func (r *renderer) newKeyboard() *keyboardBuilder {
	k := &keyboardBuilder{r: r, index: r.keyboards}
	r.keyboards++
	return k
}

// fromTurn renders Turn's own message; it returns why nothing was rendered.
func (r *renderer) fromTurn(m *turn.Message) string {
	kind := strings.ToLower(m.Kind())
	r.res.Plan.Kind = kind
	switch kind {
	case "text":
		if m.Text != nil {
			text, ents := formatWhatsApp(m.Text.Body)
			r.addText(text, ents, nil)
		}
		if len(r.res.Plan.Parts) == 0 {
			return "text.body is empty"
		}
		return ""
	case "image", "video", "audio", "document", "sticker":
		if media := map[string]*turn.OutMedia{
			"image": m.Image, "video": m.Video, "audio": m.Audio, "document": m.Document, "sticker": m.Sticker,
		}[kind]; media != nil {
			return r.media(kind, media)
		}
	case "template":
		if m.Template != nil {
			return r.template(m.Template)
		}
	case "interactive":
		if in := m.Interactive; in != nil {
			sub := strings.ToLower(in.Type)
			r.res.Plan.Kind = "interactive/" + sub
			switch sub {
			case "button":
				return r.buttons(in)
			case "list":
				return r.list(in)
			case "flow":
				return r.flow(in)
			case "cta_url":
				return r.ctaURL(in)
			}
			return r.anyText(r.res.Plan.Kind, m.Raw)
		}
	}
	if kind == "" {
		kind = "unknown"
		r.res.Plan.Kind = kind
	}
	return r.anyText(kind, m.Raw)
}

// media renders an image, video, audio, document or sticker message.
func (r *renderer) media(kind string, m *turn.OutMedia) string {
	text, ents := formatWhatsApp(m.Caption)
	if m.Link == "" {
		r.addText(text, ents, nil)
		if len(r.res.Plan.Parts) == 0 {
			return kind + ".link is missing"
		}
		r.note("%s without link: sent its caption only", kind)
		return ""
	}
	r.addMedia(mediaMethod(kind, m.Type()), m, text, ents, nil)
	return ""
}

// mediaMethod is the Telegram method sending media of a Turn kind. Ogg audio
// is a voice note (WhatsApp's push-to-talk); other audio is a music file.
func mediaMethod(kind, mimeType string) string {
	switch kind {
	case "image":
		return MethodPhoto
	case "video":
		return MethodVideo
	case "audio":
		if mt, _, err := mime.ParseMediaType(mimeType); err == nil && mt == "audio/ogg" {
			return MethodVoice
		}
		return MethodAudio
	case "sticker":
		return MethodSticker
	}
	return MethodDocument
}

// interactiveText is the header (bold), body and footer (italic) of an
// interactive message; a media header is left to headerMedia.
func interactiveText(in *turn.Interactive) *richText {
	t := &richText{}
	if h := in.Header; h != nil && (h.Type == "" || strings.EqualFold(h.Type, "text")) {
		t.wa("", h.Text, models.MessageEntityTypeBold)
	}
	if in.Body != nil {
		t.wa("\n", in.Body.Text, "")
	}
	if in.Footer != nil {
		t.wa("\n\n", in.Footer.Text, models.MessageEntityTypeItalic)
	}
	return t
}

// headerMedia returns the method and media of an image, video or document
// header, or nil.
func headerMedia(h *turn.InteractiveHeader) (string, *turn.OutMedia) {
	if h == nil {
		return "", nil
	}
	var m *turn.OutMedia
	kind := strings.ToLower(h.Type)
	switch kind {
	case "image":
		m = h.Image
	case "video":
		m = h.Video
	case "document":
		m = h.Document
	}
	if m == nil || m.Link == "" {
		return "", nil
	}
	return mediaMethod(kind, m.Type()), m
}

// interactiveParts sends an interactive message's text and keyboard, under
// its media header if it has one.
func (r *renderer) interactiveParts(in *turn.Interactive, t *richText, kb *keyboardBuilder) string {
	text, ents := t.result()
	if method, m := headerMedia(in.Header); m != nil {
		r.addMedia(method, m, text, ents, kb.rows)
		return ""
	}
	r.addText(text, ents, kb.rows)
	if len(r.res.Plan.Parts) == 0 {
		return "interactive message has no header, body, footer or buttons"
	}
	return ""
}

// buttons renders reply buttons: one keyboard row each.
func (r *renderer) buttons(in *turn.Interactive) string {
	t := interactiveText(in)
	kb := r.newKeyboard()
	if in.Action != nil {
		for _, b := range in.Action.Buttons {
			if b.Reply != nil {
				kb.reply("button_reply", b.Reply.ID, b.Reply.Title, "")
			}
		}
	}
	return r.interactiveParts(in, t, kb)
}

// list renders a list message: the rows are listed in the text (the
// descriptions have no room on a button) and offered as one button each.
func (r *renderer) list(in *turn.Interactive) string {
	t := interactiveText(in)
	kb := r.newKeyboard()
	if a := in.Action; a != nil {
		sep := "\n\n"
		add := func(s string, wrap models.MessageEntityType) {
			if strings.TrimSpace(s) != "" {
				t.plain(sep, s, wrap)
				sep = "\n"
			}
		}
		add(a.Button, models.MessageEntityTypeBold)
		for _, sec := range a.Sections {
			add(sec.Title, models.MessageEntityTypeItalic)
			for _, row := range sec.Rows {
				line := "• " + strings.TrimSpace(row.Title)
				if d := strings.TrimSpace(row.Description); d != "" {
					line += " — " + d
				}
				add(line, "")
				kb.reply("list_reply", row.ID, row.Title, row.Description)
			}
		}
	}
	return r.interactiveParts(in, t, kb)
}

// flow renders a WhatsApp Flow as its text and call to action: Telegram has
// no forms, so the person answers in the chat.
func (r *renderer) flow(in *turn.Interactive) string {
	t := interactiveText(in)
	if in.Action != nil && len(in.Action.Parameters) > 0 {
		var p struct {
			CTA string `json:"flow_cta"`
		}
		if json.Unmarshal(in.Action.Parameters, &p) == nil {
			t.plain("\n\n", p.CTA, models.MessageEntityTypeBold)
		}
	}
	reason := r.interactiveParts(in, t, r.newKeyboard())
	if reason == "" {
		r.note("flow is not native to Telegram: sent as text")
	}
	return reason
}

// ctaURL renders WhatsApp's call-to-action link as a url button.
func (r *renderer) ctaURL(in *turn.Interactive) string {
	t := interactiveText(in)
	kb := r.newKeyboard()
	if in.Action != nil && len(in.Action.Parameters) > 0 {
		var p struct {
			DisplayText string `json:"display_text"`
			URL         string `json:"url"`
		}
		if json.Unmarshal(in.Action.Parameters, &p) == nil {
			label := p.DisplayText
			if strings.TrimSpace(label) == "" {
				label = p.URL
			}
			if buttonURL(p.URL) {
				kb.link(label, p.URL)
			} else if strings.TrimSpace(p.URL) != "" {
				// Telegram would refuse the button and the message with it:
				// the person still reads where the journey points.
				t.plain("\n\n", p.URL, "")
				r.note("cta_url %q is not a link Telegram takes for a button: sent as text", p.URL)
			}
		}
	}
	return r.interactiveParts(in, t, kb)
}

// anyText renders a kind without a Telegram equivalent as whatever text it
// holds, so that nothing is dropped silently.
func (r *renderer) anyText(kind string, raw json.RawMessage) string {
	t := &richText{}
	for _, s := range jsonTexts(raw) {
		t.wa("\n", s, "")
	}
	text, ents := t.result()
	r.addText(text, ents, nil)
	if len(r.res.Plan.Parts) == 0 {
		return fmt.Sprintf("message of kind %q has no text to show", kind)
	}
	r.note("kind %q is not native to Telegram: sent the text found in it", kind)
	return ""
}

// textKeys are the JSON keys whose string values anyText shows. Media
// "link"s are left out on purpose: Turn signs them to expire in minutes.
var textKeys = map[string]bool{
	"body": true, "text": true, "caption": true, "title": true, "description": true,
	"header": true, "footer": true, "display_text": true, "content": true, "label": true,
	"name": true, "formatted_name": true, "address": true, "phone": true, "email": true, "url": true,
}

// jsonTexts returns, in document order and without repeats, the non-blank
// strings under textKeys anywhere in raw (arrays inherit their key).
func jsonTexts(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var out []string
	seen := map[string]bool{}
	var walk func(key string) bool
	walk = func(key string) bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			for dec.More() {
				k := key
				if v == '{' {
					kt, err := dec.Token()
					if err != nil {
						return false
					}
					k, _ = kt.(string)
				}
				if !walk(k) {
					return false
				}
			}
			_, err := dec.Token()
			return err == nil
		case string:
			if textKeys[key] && strings.TrimSpace(v) != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		return true
	}
	walk("")
	return out
}

// addText appends text as sendMessage parts split at Telegram's limit, the
// keyboard on the last one (and on messages of their own for what exceeds
// one keyboard's limits).
func (r *renderer) addText(text string, ents []models.MessageEntity, kb [][]Button) {
	chunks := splitText(text, ents, TextLimit)
	pages := keyboardPages(kb)
	if len(chunks) == 0 && len(pages) > 0 {
		chunks = []chunk{{Text: keyboardOnlyText}}
	}
	for i, c := range chunks {
		p := Part{Method: MethodMessage, Text: c.Text, Entities: c.Entities}
		if i == len(chunks)-1 && len(pages) > 0 {
			p.Keyboard = pages[0]
		}
		r.res.Plan.Parts = append(r.res.Plan.Parts, p)
	}
	r.addPages(pages)
}

// addPages sends the keyboards after the first on messages of their own.
func (r *renderer) addPages(pages [][][]Button) {
	for i := 1; i < len(pages); i++ {
		r.res.Plan.Parts = append(r.res.Plan.Parts, Part{Method: MethodMessage, Text: keyboardOnlyText, Keyboard: pages[i]})
	}
}

// addMedia appends a media part captioned with text when the caption fits;
// otherwise the media goes bare, followed by the text as messages carrying
// the keyboard (stickers take no caption at all).
func (r *renderer) addMedia(method string, m *turn.OutMedia, text string, ents []models.MessageEntity, kb [][]Button) {
	ref := MediaRef{
		Key:      fmt.Sprintf("%s-%d", r.turnID, len(r.res.Plan.Parts)),
		Link:     m.Link,
		MimeType: m.Type(),
		Filename: m.Filename,
	}
	r.res.Media = append(r.res.Media, ref)
	p := Part{Method: method, Media: &ref}
	chunks := splitText(text, ents, CaptionLimit)
	pages := keyboardPages(kb)
	if method != MethodSticker && len(chunks) <= 1 {
		if len(chunks) == 1 {
			p.Text, p.Entities = chunks[0].Text, chunks[0].Entities
		}
		if len(pages) > 0 {
			p.Keyboard = pages[0]
		}
		r.res.Plan.Parts = append(r.res.Plan.Parts, p)
		r.addPages(pages)
		return
	}
	if len(chunks) == 0 && len(pages) > 0 {
		// A sticker with buttons and no text: the sticker carries them.
		p.Keyboard = pages[0]
		r.res.Plan.Parts = append(r.res.Plan.Parts, p)
		r.addPages(pages)
		return
	}
	r.res.Plan.Parts = append(r.res.Plan.Parts, p)
	r.addText(text, ents, kb)
}

// richText builds one message text from formatted pieces.
type richText struct {
	b    strings.Builder
	n    int // length in UTF-16 code units
	ents []models.MessageEntity
}

// add appends a piece trimmed of surrounding whitespace, preceded by sep
// unless it is the first, and wholly covered by an entity of type wrap when
// wrap is set. Blank pieces are skipped.
func (t *richText) add(sep, text string, ents []models.MessageEntity, wrap models.MessageEntityType) {
	text, ents = trimFormatted(text, ents)
	if text == "" {
		return
	}
	if t.n > 0 {
		t.b.WriteString(sep)
		t.n += utf16Count(sep)
	}
	if wrap != "" {
		t.ents = append(t.ents, models.MessageEntity{Type: wrap, Offset: t.n, Length: utf16Count(text)})
	}
	for _, e := range ents {
		e.Offset += t.n
		t.ents = append(t.ents, e)
	}
	t.b.WriteString(text)
	t.n += utf16Count(text)
}

// wa appends WhatsApp-formatted text.
func (t *richText) wa(sep, s string, wrap models.MessageEntityType) {
	text, ents := formatWhatsApp(s)
	t.add(sep, text, ents, wrap)
}

// plain appends text shown as is (titles, labels, parameters).
func (t *richText) plain(sep, s string, wrap models.MessageEntityType) {
	t.add(sep, s, nil, wrap)
}

func (t *richText) result() (string, []models.MessageEntity) {
	s := t.b.String()
	return s, normalizeEntities(s, t.ents)
}

// floipBlock is the part of a FLOIP block the fallback reads.
type floipBlock struct {
	Type   string `json:"type"`
	Config struct {
		Prompt  json.RawMessage `json:"prompt"`
		Choices json.RawMessage `json:"choices"`
	} `json:"config"`
}

// floipResource is a FLOIP resource: one value per language, content type and
// set of modes.
type floipResource struct {
	UUID   string `json:"uuid"`
	Values []struct {
		ContentType string          `json:"content_type"`
		MimeType    string          `json:"mime_type"`
		Modes       []string        `json:"modes"`
		Value       json.RawMessage `json:"value"`
	} `json:"values"`
}

// fromBlock renders the FLOIP block when Turn's message gave nothing (for
// turnProblem): the prompt resource's text (and media), and the choices of a
// select block as buttons. It returns why nothing was rendered.
func (r *renderer) fromBlock(turnProblem string) string {
	if raw := bytes.TrimSpace(r.out.Block); len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "absent"
	}
	var b floipBlock
	if raw := bytes.TrimSpace(r.out.Block); raw[0] != '{' || !jsonTolerated(json.Unmarshal(raw, &b)) {
		return "not a FLOIP block"
	}
	kind := b.Type
	if kind == "" {
		kind = "block"
	}
	r.res.Plan.Kind = kind
	res := floipResources(r.out.EvaluatedResources)
	if len(res) == 0 {
		res = floipResources(r.out.Resources) // unevaluated, better than nothing
	}
	t := &richText{}
	text, media := res.resolve(rawString(b.Config.Prompt))
	t.wa("", text, "")
	kb := r.newKeyboard()
	for _, c := range floipChoices(b.Config.Choices) {
		title, _ := res.resolve(c.prompt)
		if strings.TrimSpace(title) == "" {
			title = c.name
		}
		kb.reply("button_reply", c.name, title, "")
	}
	text, ents := t.result()
	if media != nil {
		r.addMedia(media.method, &media.OutMedia, text, ents, kb.rows)
	} else {
		r.addText(text, ents, kb.rows)
	}
	if len(r.res.Plan.Parts) == 0 {
		return "no prompt text, media or choices found"
	}
	r.note("rendered from FLOIP block %s (turn: %s)", kind, turnProblem)
	return ""
}

type floipResourceSet map[string]floipResource

func floipResources(raw json.RawMessage) floipResourceSet {
	var list []floipResource
	if !jsonTolerated(json.Unmarshal(raw, &list)) {
		return nil
	}
	set := floipResourceSet{}
	for _, r := range list {
		if _, dup := set[r.UUID]; !dup && r.UUID != "" {
			set[r.UUID] = r
		}
	}
	return set
}

// floipMedia is a media value of a resource.
type floipMedia struct {
	turn.OutMedia
	method string
}

// resolve returns a resource's text, preferring the rich-messaging mode over
// plain text, and its first image, video or audio value.
func (s floipResourceSet) resolve(uuid string) (string, *floipMedia) {
	res, ok := s[uuid]
	if !ok {
		return "", nil
	}
	text, rank := "", 3
	var media *floipMedia
	for _, v := range res.Values {
		value := rawString(v.Value)
		if strings.TrimSpace(value) == "" {
			continue
		}
		ct := strings.ToUpper(v.ContentType)
		switch ct {
		case "TEXT":
			vr := 2
			for _, m := range v.Modes {
				switch strings.ToUpper(m) {
				case "RICH_MESSAGING":
					vr = 0
				case "TEXT":
					vr = min(vr, 1)
				}
			}
			if vr < rank {
				text, rank = value, vr
			}
		case "IMAGE", "VIDEO", "AUDIO":
			if media == nil && WebLink(value) {
				kind := strings.ToLower(ct)
				media = &floipMedia{
					OutMedia: turn.OutMedia{Link: value, MimeType: v.MimeType},
					method:   mediaMethod(kind, v.MimeType),
				}
			}
		}
	}
	return text, media
}

// floipChoice is a select block's choice: its name, sent back as the reply
// id, and the resource holding its label.
type floipChoice struct {
	name, prompt string
}

// floipChoices reads choices in either FLOIP shape: an object mapping names
// to resource uuids (kept in document order), or an array of
// {"name", "prompt"}.
func floipChoices(raw json.RawMessage) []floipChoice {
	var list []struct {
		Name   string          `json:"name"`
		Prompt json.RawMessage `json:"prompt"`
	}
	if json.Unmarshal(raw, &list) == nil {
		var out []floipChoice
		for _, c := range list {
			out = append(out, floipChoice{c.Name, rawString(c.Prompt)})
		}
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []floipChoice
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return out
		}
		name, _ := kt.(string)
		out = append(out, floipChoice{name, rawString(v)})
	}
	return out
}

// jsonTolerated reports whether a decoding error leaves a usable result: a
// field of an unexpected type (FLOIP drifts) only leaves that field empty.
func jsonTolerated(err error) bool {
	var typeErr *json.UnmarshalTypeError
	return err == nil || errors.As(err, &typeErr)
}

// rawString is a JSON string's value, or "" for anything else.
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
