package render

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/turn-telegram/turn-telegram/store"
)

// urlButtonPrefix marks a url button in Button.Data. Callback keys are
// base64url and never contain ':', so the two cannot be confused, and Plan's
// JSON keeps its shape.
const urlButtonPrefix = "url:"

// Telegram's limits on an inline keyboard: it refuses the whole message
// ("reply markup is too long") over them.
const (
	maxKeyboardButtons = 100
	maxRowButtons      = 8
)

// maxKeyboards is the most keyboards one message's buttons may fill: a
// choice over more than three screens of buttons is not one a person can
// make, so it is refused rather than sent as a wall of messages.
const maxKeyboards = 3

// keyboardPages cuts a keyboard into keyboards within Telegram's limits, in
// order: rows of more than maxRowButtons are wrapped, and every
// maxKeyboardButtons buttons start a new keyboard, sent on a message of its
// own. All the buttons of a message share one callback group, so the
// first press on any page answers the question.
func keyboardPages(rows [][]Button) [][][]Button {
	var pages [][][]Button
	var page [][]Button
	n := 0
	for _, row := range rows {
		for len(row) > 0 {
			w := min(len(row), maxRowButtons, maxKeyboardButtons-n)
			page = append(page, row[:w])
			row, n = row[w:], n+w
			if n == maxKeyboardButtons {
				pages, page, n = append(pages, page), nil, 0
			}
		}
	}
	if len(page) > 0 {
		pages = append(pages, page)
	}
	return pages
}

// maxButtonLabel is where button labels are cut: Telegram shows about this
// much, and Turn's titles are normally far shorter.
const maxButtonLabel = 64

// urlButton is a button opening link instead of sending a callback.
func urlButton(text, link string) Button {
	return Button{Text: ButtonLabel(text), Data: urlButtonPrefix + link}
}

// inlineKeyboardMarkup and inlineKeyboardButton are the wire shape of a
// keyboard. models.InlineKeyboardButton is not used because it always
// serialises "copy_text":{"text":""}, which the Bot API rejects.
type inlineKeyboardMarkup struct {
	InlineKeyboard [][]inlineKeyboardButton `json:"inline_keyboard"`
}

type inlineKeyboardButton struct {
	Text         string `json:"text"`
	URL          string `json:"url,omitempty"`
	CallbackData string `json:"callback_data,omitempty"`
}

// InlineKeyboard returns the reply_markup for a Part's keyboard: a value that
// serialises to {"inline_keyboard":[[{"text":..,"callback_data":..}]]} (or
// "url" for url buttons), and nil when there are no buttons.
func InlineKeyboard(rows [][]Button) any {
	var kb inlineKeyboardMarkup
	for _, row := range rows {
		var out []inlineKeyboardButton
		for _, b := range row {
			if link, ok := strings.CutPrefix(b.Data, urlButtonPrefix); ok {
				out = append(out, inlineKeyboardButton{Text: b.Text, URL: link})
			} else {
				out = append(out, inlineKeyboardButton{Text: b.Text, CallbackData: b.Data})
			}
		}
		if len(out) > 0 {
			kb.InlineKeyboard = append(kb.InlineKeyboard, out)
		}
	}
	if len(kb.InlineKeyboard) == 0 {
		return nil
	}
	return kb
}

// callbackKey is the callback_data of a button: derived only from the message
// and the button's position, so a re-render of the same message yields the
// same keys, and 32 ASCII bytes whatever Turn's ids are (Telegram allows 64).
func callbackKey(turnID string, keyboard, button int) string {
	h := sha256.Sum256([]byte(turnID + "\x00" + strconv.Itoa(keyboard) + "\x00" + strconv.Itoa(button)))
	return base64.RawURLEncoding.EncodeToString(h[:24])
}

// ButtonLabel puts a title on one line and cuts an absurdly long one.
func ButtonLabel(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if utf8.RuneCountInString(s) <= maxButtonLabel {
		return s
	}
	return string([]rune(s)[:maxButtonLabel-1]) + "…"
}

// keyboardBuilder collects one message's keyboard, one button per row, and
// the callbacks its buttons need.
type keyboardBuilder struct {
	r     *renderer
	index int // which keyboard of the message
	n     int // buttons so far
	rows  [][]Button
}

// reply adds a callback button: pressing it sends Turn a reply of kind reply
// ("button_reply", "list_reply" or "button") with id, title, description.
func (k *keyboardBuilder) reply(reply, id, title, description string) {
	label := ButtonLabel(title)
	if label == "" {
		label = ButtonLabel(id)
	}
	if label == "" {
		return // nothing to show and nothing to answer
	}
	// Turn needs both an id and a title; either stands in for the other.
	if strings.TrimSpace(title) == "" {
		title = id
	}
	if id == "" {
		id = title
	}
	key := callbackKey(k.r.turnID, k.index, k.n)
	k.n++
	k.rows = append(k.rows, []Button{{Text: label, Data: key}})
	k.r.res.Callbacks = append(k.r.res.Callbacks, store.Callback{
		Channel:     k.r.channel,
		Key:         key,
		Group:       k.r.turnID,
		ChatID:      k.r.chatID,
		TurnID:      k.r.turnID,
		Reply:       reply,
		ReplyID:     id,
		Title:       title,
		Description: description,
	})
}

// buttonURL reports whether Telegram takes link for a url button: an http
// or https URL without whitespace whose host is an IP address or a domain
// with a dot ("localhost" and bare names are refused, and a refused button
// fails the whole message).
func buttonURL(link string) bool {
	if !WebLink(link) || strings.IndexFunc(link, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return false
	}
	u, err := url.Parse(link)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		return true
	}
	dot := strings.LastIndexByte(host, '.')
	return dot > 0 && dot < len(host)-1
}

// link adds a url button.
func (k *keyboardBuilder) link(title, link string) {
	k.n++
	k.rows = append(k.rows, []Button{urlButton(title, link)})
}
