package turn

import "encoding/json"

// Outbound is the payload Turn posts to the connector's webhook when a journey
// says something. Unknown fields are ignored; Block, Context and resources
// are kept raw because their shape is FLOIP's and announced to drift.
type Outbound struct {
	To                  string          `json:"to"`
	Version             string          `json:"version"`
	Block               json.RawMessage `json:"block,omitempty"`
	Context             json.RawMessage `json:"context,omitempty"`
	Resources           json.RawMessage `json:"resources,omitempty"`
	EvaluatedResources  json.RawMessage `json:"evaluated_resources,omitempty"`
	Turn                *Message        `json:"turn,omitempty"`
	WaitingForUserInput bool            `json:"waiting_for_user_input,omitempty"`
}

// Message is Turn's own rendering of the step (the "turn" object), in
// WhatsApp's message shape. Type may be empty (the published template
// example has none): Kind works it out.
type Message struct {
	Type        string          `json:"type"`
	Text        *Text           `json:"text,omitempty"`
	Image       *OutMedia       `json:"image,omitempty"`
	Video       *OutMedia       `json:"video,omitempty"`
	Audio       *OutMedia       `json:"audio,omitempty"`
	Document    *OutMedia       `json:"document,omitempty"`
	Sticker     *OutMedia       `json:"sticker,omitempty"`
	Template    *Template       `json:"template,omitempty"`
	Interactive *Interactive    `json:"interactive,omitempty"`
	Raw         json.RawMessage `json:"-"` // the object as received, for unknown kinds
}

// UnmarshalJSON keeps the raw object next to the decoded fields.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*m = Message(p)
	m.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Kind is the message's type, inferred from its fields when Type is empty.
func (m *Message) Kind() string {
	if m.Type != "" {
		return m.Type
	}
	switch {
	case m.Template != nil:
		return "template"
	case m.Interactive != nil:
		return "interactive"
	case m.Text != nil:
		return "text"
	case m.Image != nil:
		return "image"
	case m.Video != nil:
		return "video"
	case m.Audio != nil:
		return "audio"
	case m.Document != nil:
		return "document"
	case m.Sticker != nil:
		return "sticker"
	}
	return ""
}

// OutMedia is a media attachment; Link is a signed URL valid for about two
// minutes. Both "mime_type" and "mime" are accepted.
type OutMedia struct {
	Link     string `json:"link"`
	ID       string `json:"id,omitempty"`
	MimeType string `json:"mime_type,omitempty"`
	Mime     string `json:"mime,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Type returns the MIME type under either of its names.
func (m *OutMedia) Type() string {
	if m.MimeType != "" {
		return m.MimeType
	}
	return m.Mime
}

// Template is a WhatsApp template reference; its definition (body text,
// buttons) travels in the FLOIP block's config, not here.
type Template struct {
	Name       string              `json:"name"`
	Namespace  string              `json:"namespace,omitempty"`
	Language   *TemplateLanguage   `json:"language,omitempty"`
	Components []TemplateComponent `json:"components,omitempty"`
}

// TemplateLanguage is the template's language.
type TemplateLanguage struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

// TemplateComponent carries parameters for one part of the template.
type TemplateComponent struct {
	Type       string              `json:"type"` // header, body, footer, button
	SubType    string              `json:"sub_type,omitempty"`
	Index      json.RawMessage     `json:"index,omitempty"` // number or string
	Parameters []TemplateParameter `json:"parameters,omitempty"`
}

// TemplateParameter is one {{n}} value.
type TemplateParameter struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	Payload  string    `json:"payload,omitempty"`
	Image    *OutMedia `json:"image,omitempty"`
	Video    *OutMedia `json:"video,omitempty"`
	Document *OutMedia `json:"document,omitempty"`
}

// Interactive is a button, list or flow message.
type Interactive struct {
	Type   string             `json:"type"` // button, list, flow, ...
	Header *InteractiveHeader `json:"header,omitempty"`
	Body   *Text2             `json:"body,omitempty"`
	Footer *Text2             `json:"footer,omitempty"`
	Action *Action            `json:"action,omitempty"`
}

// Text2 is the {"text": "..."} shape of interactive bodies and footers.
type Text2 struct {
	Text string `json:"text"`
}

// InteractiveHeader is a text or media header.
type InteractiveHeader struct {
	Type     string    `json:"type"` // text, image, video, document
	Text     string    `json:"text,omitempty"`
	Image    *OutMedia `json:"image,omitempty"`
	Video    *OutMedia `json:"video,omitempty"`
	Document *OutMedia `json:"document,omitempty"`
}

// Action holds buttons, list sections, or a flow's parameters.
type Action struct {
	Button     string          `json:"button,omitempty"` // list's menu label
	Buttons    []ActionButton  `json:"buttons,omitempty"`
	Sections   []Section       `json:"sections,omitempty"`
	Name       string          `json:"name,omitempty"` // "flow", "cta_url", ...
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// ActionButton is one quick-reply button.
type ActionButton struct {
	Type  string       `json:"type"`
	Reply *ButtonTitle `json:"reply,omitempty"`
}

// ButtonTitle is a reply button's id and label.
type ButtonTitle struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Section is a titled group of list rows.
type Section struct {
	Title string `json:"title,omitempty"`
	Rows  []Row  `json:"rows"`
}

// Row is one list choice.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ReplyBody is what the connector answers to Turn's webhook.
type ReplyBody struct {
	Messages []ReplyID `json:"messages"`
}

// ReplyID is the connector's id for an accepted message.
type ReplyID struct {
	ID string `json:"id"`
}
