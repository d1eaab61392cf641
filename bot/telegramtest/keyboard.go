package telegramtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

const (
	maxCallbackData = 64  // bytes
	maxCopyText     = 256 // characters
	maxButtons      = 100 // per keyboard
	maxInlineRow    = 8   // buttons per row of an inline keyboard
)

// markupKind is which of Telegram's four reply_markup objects was sent.
type markupKind int

const (
	markupNone markupKind = iota
	markupInline
	markupKeyboard
	markupRemove
	markupForceReply
)

// replyMarkup is a validated reply_markup. inline is the inline keyboard as
// sent, {"inline_keyboard":[...]}, which is what a message keeps.
type replyMarkup struct {
	kind   markupKind
	inline json.RawMessage
}

// parseReplyMarkup validates reply_markup: a JSON object that is an
// InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove or
// ForceReply in its real shape.
func parseReplyMarkup(raw string) (replyMarkup, *apiError) {
	if strings.TrimSpace(raw) == "" {
		return replyMarkup{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return replyMarkup{}, badRequest("can't parse reply keyboard markup JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return replyMarkup{}, badRequest("object expected as reply markup")
	}
	for _, field := range []string{"resize_keyboard", "one_time_keyboard", "is_persistent", "selective", "remove_keyboard", "force_reply"} {
		if x, ok := obj[field]; ok {
			if _, isBool := x.(bool); !isBool {
				return replyMarkup{}, badRequest("field %q of the reply markup must be of type Boolean", field)
			}
		}
	}
	var m replyMarkup
	switch {
	case obj["inline_keyboard"] != nil:
		rows, aerr := keyboardRows(obj["inline_keyboard"], "inline_keyboard", "InlineKeyboardMarkup", checkInlineButton, maxInlineRow)
		if aerr != nil {
			return m, aerr
		}
		if rows > 0 {
			m.kind = markupInline
			m.inline, _ = json.Marshal(map[string]any{"inline_keyboard": obj["inline_keyboard"]})
		}
	case obj["keyboard"] != nil:
		rows, aerr := keyboardRows(obj["keyboard"], "keyboard", "ReplyKeyboardMarkup", checkKeyboardButton, 0)
		if aerr != nil {
			return m, aerr
		}
		if rows > 0 {
			m.kind = markupKeyboard
		}
	case obj["remove_keyboard"] == true:
		m.kind = markupRemove
	case obj["force_reply"] == true:
		m.kind = markupForceReply
	}
	return m, nil
}

// keyboardRows checks an array of arrays of buttons (at most maxRow per
// row when maxRow > 0) and returns its number of non-empty rows.
func keyboardRows(v any, field, typ string, check func(any) *apiError, maxRow int) (int, *apiError) {
	rows, ok := v.([]any)
	if !ok {
		return 0, badRequest("field %q of the %s must be an Array", field, typ)
	}
	buttons, nonEmpty := 0, 0
	for _, row := range rows {
		cells, ok := row.([]any)
		if !ok {
			return 0, badRequest("field %q of the %s must be an Array of Arrays", field, typ)
		}
		for _, b := range cells {
			if aerr := check(b); aerr != nil {
				return 0, aerr
			}
		}
		if maxRow > 0 && len(cells) > maxRow {
			// Telegram refuses a wider row; the wording is the one it uses
			// for too many buttons.
			return 0, badRequest("reply markup is too long")
		}
		buttons += len(cells)
		if len(cells) > 0 {
			nonEmpty++
		}
	}
	if buttons > maxButtons {
		return 0, badRequest("reply markup is too long")
	}
	return nonEmpty, nil
}

// inlineActions are an InlineKeyboardButton's optional fields, of which
// exactly one must be used.
var inlineActions = []string{
	"url", "callback_data", "web_app", "login_url", "switch_inline_query",
	"switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
	"copy_text", "callback_game", "pay",
}

func buttonError(format string, args ...any) *apiError {
	return badRequest("can't parse inline keyboard button: %s", fmt.Sprintf(format, args...))
}

func checkInlineButton(v any) *apiError {
	b, ok := v.(map[string]any)
	if !ok {
		return buttonError("InlineKeyboardButton must be an Object")
	}
	text, ok := b["text"].(string)
	if !ok {
		return buttonError(`Field "text" must be of type String`)
	}
	if strings.TrimSpace(text) == "" {
		return buttonError("button text must be non-empty")
	}
	var used []string
	for _, field := range inlineActions {
		x, present := b[field]
		if !present || x == nil {
			continue
		}
		switch field {
		case "url":
			s, ok := x.(string)
			if !ok {
				return buttonError(`Field "url" must be of type String`)
			}
			if s == "" {
				continue
			}
			if !validLinkURL(s) {
				return badRequest("BUTTON_URL_INVALID")
			}
		case "callback_data":
			s, ok := x.(string)
			if !ok {
				return buttonError(`Field "callback_data" must be of type String`)
			}
			if s == "" {
				continue
			}
			if len(s) > maxCallbackData {
				return badRequest("BUTTON_DATA_INVALID")
			}
		case "switch_inline_query", "switch_inline_query_current_chat":
			if _, ok := x.(string); !ok {
				return buttonError("Field %q must be of type String", field)
			}
		case "pay":
			p, ok := x.(bool)
			if !ok {
				return buttonError(`Field "pay" must be of type Boolean`)
			}
			if !p {
				continue
			}
		case "copy_text":
			obj, ok := x.(map[string]any)
			if !ok {
				return buttonError(`Field "copy_text" must be of type Object`)
			}
			s, ok := obj["text"].(string)
			if !ok || s == "" || utf8.RuneCountInString(s) > maxCopyText {
				return badRequest("BUTTON_COPY_TEXT_INVALID")
			}
		case "web_app", "login_url":
			obj, ok := x.(map[string]any)
			if !ok {
				return buttonError("Field %q must be of type Object", field)
			}
			u, _ := obj["url"].(string)
			if field == "web_app" && !strings.HasPrefix(strings.ToLower(u), "https://") {
				return badRequest("inline keyboard button Web App URL '%s' is invalid: Only HTTPS links are allowed", u)
			}
			if !validLinkURL(u) {
				return badRequest("BUTTON_URL_INVALID")
			}
		default: // switch_inline_query_chosen_chat, callback_game
			if _, ok := x.(map[string]any); !ok {
				return buttonError("Field %q must be of type Object", field)
			}
		}
		used = append(used, field)
	}
	switch len(used) {
	case 0:
		return buttonError("Text buttons are unallowed in the inline keyboard")
	case 1:
		return nil
	default:
		return buttonError("exactly one of the optional fields must be used, got %s", strings.Join(used, ", "))
	}
}

func checkKeyboardButton(v any) *apiError {
	switch b := v.(type) {
	case string:
		if strings.TrimSpace(b) == "" {
			return badRequest("can't parse keyboard button: button text must be non-empty")
		}
		return nil
	case map[string]any:
		text, ok := b["text"].(string)
		if !ok {
			return badRequest(`can't parse keyboard button: Field "text" must be of type String`)
		}
		if strings.TrimSpace(text) == "" {
			return badRequest("can't parse keyboard button: button text must be non-empty")
		}
		return nil
	}
	return badRequest("can't parse keyboard button: KeyboardButton must be a String or an Object")
}
