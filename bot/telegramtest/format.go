package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

const (
	maxTextLength    = 4096 // UTF-16 code units
	maxCaptionLength = 1024
)

// utf16Len is a string's length in UTF-16 code units, the unit of Telegram's
// text limits and entity offsets.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// textEntities checks a text or caption and its entities (or
// caption_entities) and returns the entities Telegram stores. parse_mode is
// refused before any method runs (see refuseParseMode).
func textEntities(text, entities string) ([]models.MessageEntity, *apiError) {
	if !utf8.ValidString(text) {
		return nil, badRequest("strings must be encoded in UTF-8")
	}
	return parseEntities(text, entities)
}

// refuseParseMode answers a call carrying parse_mode, whatever the method.
// The service formats with entities only, by design, so a parse_mode
// reaching the fake is a bug to fail loudly, and the fake need not parse
// HTML or Markdown.
func refuseParseMode(params map[string]string) *apiError {
	if params["parse_mode"] == "" {
		return nil
	}
	return badRequest("parse_mode %q refused: telegramtest takes formatting as entities or caption_entities only, as the service sends it", params["parse_mode"])
}

// checkText applies the message text limits.
func checkText(text string) *apiError {
	if strings.TrimSpace(text) == "" {
		return badRequest("message text is empty")
	}
	if utf16Len(text) > maxTextLength {
		return badRequest("message is too long")
	}
	return nil
}

func checkCaption(caption string) *apiError {
	if utf16Len(caption) > maxCaptionLength {
		return badRequest("message caption is too long")
	}
	return nil
}

var entityTypes = map[string]bool{
	"mention": true, "hashtag": true, "cashtag": true, "bot_command": true, "url": true,
	"email": true, "phone_number": true, "bold": true, "italic": true, "underline": true,
	"strikethrough": true, "spoiler": true, "blockquote": true, "expandable_blockquote": true,
	"code": true, "pre": true, "text_link": true, "text_mention": true, "custom_emoji": true,
	"bank_card_number": true,
}

// parseEntities validates an entities (or caption_entities) field against
// its text: a JSON array of MessageEntity within the text's UTF-16 length.
func parseEntities(text, raw string) ([]models.MessageEntity, *apiError) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return nil, nil
	}
	fail := func(format string, args ...any) ([]models.MessageEntity, *apiError) {
		return nil, badRequest("can't parse entities: %s", fmt.Sprintf(format, args...))
	}
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return fail("expected a JSON array of MessageEntity")
	}
	size := utf16Len(text)
	out := make([]models.MessageEntity, 0, len(list))
	for i, item := range list {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(item, &fields); err != nil || fields == nil {
			return fail("MessageEntity %d must be an Object", i)
		}
		var typ string
		if err := json.Unmarshal(fields["type"], &typ); err != nil || typ == "" {
			return fail(`field "type" of MessageEntity %d must be of type String`, i)
		}
		if !entityTypes[typ] {
			return fail("unsupported type %q of MessageEntity %d", typ, i)
		}
		offset, ok := jsonInt(fields["offset"])
		if !ok {
			return fail(`field "offset" of MessageEntity %d must be of type Number`, i)
		}
		length, ok := jsonInt(fields["length"])
		if !ok {
			return fail(`field "length" of MessageEntity %d must be of type Number`, i)
		}
		if offset < 0 || length <= 0 || offset+length > size {
			return fail("MessageEntity %d (offset %d, length %d) is outside the text of %d UTF-16 code units", i, offset, length, size)
		}
		e := models.MessageEntity{Type: models.MessageEntityType(typ), Offset: offset, Length: length}
		switch typ {
		case "text_link":
			if json.Unmarshal(fields["url"], &e.URL) != nil || !validLinkURL(e.URL) {
				return fail("text_link MessageEntity %d needs a valid url", i)
			}
		case "text_mention":
			var u models.User
			if json.Unmarshal(fields["user"], &u) != nil || u.ID == 0 {
				return fail("text_mention MessageEntity %d needs a user with an id", i)
			}
			e.User = &u
		case "custom_emoji":
			if json.Unmarshal(fields["custom_emoji_id"], &e.CustomEmojiID) != nil || !isDigits(e.CustomEmojiID) {
				return fail("custom_emoji MessageEntity %d needs a custom_emoji_id", i)
			}
		case "pre":
			if lang, ok := fields["language"]; ok && json.Unmarshal(lang, &e.Language) != nil {
				return fail(`field "language" of MessageEntity %d must be of type String`, i)
			}
		}
		out = append(out, e)
	}
	sortEntities(out)
	return out, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// jsonInt reads a JSON integer (Telegram also takes one as a string).
func jsonInt(raw json.RawMessage) (int, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		raw = []byte(s)
	}
	var n int
	if json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	return n, true
}

// validLinkURL accepts roughly what Telegram takes as a link: tg:// and
// ton:// links, and http(s) URLs, the scheme optional, whose host is an IP
// address or a dotted name (no localhost, no bare words).
func validLinkURL(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	lower := strings.ToLower(s)
	for _, scheme := range []string{"tg://", "ton://"} {
		if strings.HasPrefix(lower, scheme) {
			return len(s) > len(scheme)
		}
	}
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
	case strings.Contains(lower, "://"):
		return false
	default:
		s = "http://" + s
	}
	u, err := url.Parse(s)
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

// sortEntities orders entities as Telegram returns them: by offset, outer
// before inner.
func sortEntities(ents []models.MessageEntity) {
	sort.SliceStable(ents, func(i, j int) bool {
		if ents[i].Offset != ents[j].Offset {
			return ents[i].Offset < ents[j].Offset
		}
		return ents[i].Length > ents[j].Length
	})
}
