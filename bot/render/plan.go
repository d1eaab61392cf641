package render

import (
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/store"
)

// Plan is a Turn message rendered for Telegram: the parts are sent in order,
// one Telegram call each, and Turn hears "sent" once the last is accepted.
// Plans are rendered when Turn's webhook is accepted and stored as the
// outbound job's payload (JSON), so a bad payload is refused up front and a
// crash resumes at the first part not yet accepted.
type Plan struct {
	TurnID string `json:"turn_id"` // connector message id given to Turn
	ChatID int64  `json:"chat_id"`
	Kind   string `json:"kind"` // Turn's message kind, for logs and metrics
	Parts  []Part `json:"parts"`
}

// Telegram send methods a Part may use.
const (
	MethodMessage  = "sendMessage"
	MethodPhoto    = "sendPhoto"
	MethodVideo    = "sendVideo"
	MethodAudio    = "sendAudio"
	MethodVoice    = "sendVoice"
	MethodDocument = "sendDocument"
	MethodSticker  = "sendSticker"
)

// Part is one Telegram message. For sendMessage, Text is the message text
// (1-4096 UTF-16 units); for media methods it is the caption (0-1024).
// Entities format Text (offsets in UTF-16 code units), so no parse mode is
// ever used and no input can cause a parse error.
type Part struct {
	Method   string                 `json:"method"`
	Text     string                 `json:"text,omitempty"`
	Entities []models.MessageEntity `json:"entities,omitempty"`
	Media    *MediaRef              `json:"media,omitempty"`
	Keyboard [][]Button             `json:"keyboard,omitempty"`
}

// MediaRef is a file Turn linked to. Turn's links expire after about two
// minutes, so a KindFetch job downloads Link into the store under Key as soon
// as the message is accepted; the sender reads it from there.
type MediaRef struct {
	Key      string `json:"key"`
	Link     string `json:"link"`
	MimeType string `json:"mime_type,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Button is one inline keyboard button; Data is the callback key stored in
// the store's callbacks (at most 64 bytes, whatever Turn's ids are).
type Button struct {
	Text string `json:"text"`
	Data string `json:"data"`
}

// Rendered is what rendering a Turn outbound message yields: the plan to
// store and send, the callbacks its keyboards need, and the media to fetch.
type Rendered struct {
	Plan      Plan
	Callbacks []store.Callback
	Media     []MediaRef
	// Notes explain degraded renderings (a flow shown as text, an unknown
	// kind, a template without definition); the caller logs them.
	Notes []string
}
