package turn

// Inbound is the body of POST /v1/numbers/{number}/messages: a message a
// person sent on the channel.
type Inbound struct {
	Contact Contact        `json:"contact"`
	Message InboundMessage `json:"message"`
}

// Contact identifies the person.
type Contact struct {
	ID      string  `json:"id"`
	Profile Profile `json:"profile"`
}

// Profile carries the person's display name.
type Profile struct {
	Name string `json:"name"`
}

// InboundMessage is one message from the person. Exactly one of the typed
// fields is set, matching Type.
type InboundMessage struct {
	Type        string            `json:"type"`
	From        string            `json:"from"`
	ID          string            `json:"id"`
	Timestamp   string            `json:"timestamp"` // unix seconds
	Text        *Text             `json:"text,omitempty"`
	Image       *Media            `json:"image,omitempty"`
	Video       *Media            `json:"video,omitempty"`
	Audio       *Media            `json:"audio,omitempty"`
	Document    *Media            `json:"document,omitempty"`
	Sticker     *Media            `json:"sticker,omitempty"`
	Button      *ButtonReply      `json:"button,omitempty"`
	Interactive *InteractiveReply `json:"interactive,omitempty"`
	Context     *InboundContext   `json:"context,omitempty"`
}

// Inbound message types.
const (
	TypeText        = "text"
	TypeImage       = "image"
	TypeVideo       = "video"
	TypeAudio       = "audio"
	TypeDocument    = "document"
	TypeSticker     = "sticker"
	TypeButton      = "button"
	TypeInteractive = "interactive"
)

// Text is a text body.
type Text struct {
	Body string `json:"body"`
}

// Media describes a file Turn can fetch from Link.
type Media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Link     string `json:"link,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Filename string `json:"filename,omitempty"`
	Caption  string `json:"caption,omitempty"`
}

// ButtonReply is a template quick-reply press (WhatsApp's "button" type).
type ButtonReply struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// InteractiveReply is a press of an interactive button or list row.
type InteractiveReply struct {
	Type        string     `json:"type"` // "button_reply" or "list_reply"
	ButtonReply *ReplyItem `json:"button_reply,omitempty"`
	ListReply   *ReplyItem `json:"list_reply,omitempty"`
}

// ReplyItem is the chosen button or row, with the id Turn gave it.
type ReplyItem struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// InboundContext points at the connector message the person replied to.
type InboundContext struct {
	ID   string `json:"id"`
	From string `json:"from,omitempty"`
}

// Status is the body of POST /v1/numbers/{number}/statuses.
type Status struct {
	Status StatusObject `json:"status"`
}

// StatusObject reports what became of a message the connector sent.
type StatusObject struct {
	ID          string `json:"id"`
	Status      string `json:"status"` // sent, delivered, read, failed
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id,omitempty"`
}

// Statuses.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)
