package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// mdOpen is an entity opened and not yet closed while parsing MarkdownV2.
type mdOpen struct {
	typ      models.MessageEntityType
	language string
	offset   int // UTF-16 offset in the output
	bytePos  int // byte offset in the input, for errors
	outLen   int // byte length of the output at the start
}

// mdNames are the entity names tdlib uses in "Can't find end of ..." errors.
var mdNames = map[models.MessageEntityType]string{
	models.MessageEntityTypeBold:          "Bold",
	models.MessageEntityTypeItalic:        "Italic",
	models.MessageEntityTypeUnderline:     "Underline",
	models.MessageEntityTypeStrikethrough: "Strikethrough",
	models.MessageEntityTypeSpoiler:       "Spoiler",
	models.MessageEntityTypeCode:          "Code",
	models.MessageEntityTypePre:           "Pre",
	models.MessageEntityTypeTextLink:      "TextUrl",
	models.MessageEntityTypeCustomEmoji:   "CustomEmoji",
}

func reservedError(c byte) error {
	return fmt.Errorf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
}

// parseMarkdownV2 parses Telegram's MarkdownV2, following tdlib: any ASCII
// character may be escaped with '\'; outside code, each of _*[]()~`>#+-=|{}.!
// must be escaped unless it is markup that is opened and closed.
func parseMarkdownV2(s string) (string, []models.MessageEntity, error) {
	at := func(j int) byte {
		if j < len(s) {
			return s[j]
		}
		return 0
	}
	var out textBuilder
	var stack []mdOpen
	var ents []models.MessageEntity
	quote := -1 // UTF-16 offset where an open blockquote starts
	closeQuote := func() {
		if quote >= 0 && out.u16 > quote {
			ents = append(ents, models.MessageEntity{Type: models.MessageEntityTypeBlockquote, Offset: quote, Length: out.u16 - quote})
		}
		quote = -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && at(i+1) > 0 && at(i+1) <= 126 {
			i++
			out.writeRune(rune(s[i]))
			continue
		}
		inCode := false
		if n := len(stack); n > 0 {
			inCode = stack[n-1].typ == models.MessageEntityTypeCode || stack[n-1].typ == models.MessageEntityTypePre
		}
		if c == '>' && !inCode && (i == 0 || s[i-1] == '\n') {
			if quote < 0 {
				quote = out.u16
			}
			continue
		}
		if c == '\n' && quote >= 0 && at(i+1) != '>' {
			closeQuote()
		}
		reserved := "_*[]()~`>#+-=|{}.!"
		if inCode {
			reserved = "`"
		}
		if !strings.ContainsRune(reserved, rune(c)) {
			r, n := utf8.DecodeRuneInString(s[i:])
			out.writeRune(r)
			i += n - 1
			continue
		}

		closes := false
		if n := len(stack); n > 0 {
			switch stack[n-1].typ {
			case models.MessageEntityTypeBold:
				closes = c == '*'
			case models.MessageEntityTypeItalic:
				closes = c == '_' && at(i+1) != '_'
			case models.MessageEntityTypeUnderline:
				closes = c == '_' && at(i+1) == '_'
			case models.MessageEntityTypeStrikethrough:
				closes = c == '~'
			case models.MessageEntityTypeSpoiler:
				closes = c == '|' && at(i+1) == '|'
			case models.MessageEntityTypeCode:
				closes = c == '`'
			case models.MessageEntityTypePre:
				closes = c == '`' && at(i+1) == '`' && at(i+2) == '`'
			case models.MessageEntityTypeTextLink, models.MessageEntityTypeCustomEmoji:
				closes = c == ']'
			}
		}

		if !closes {
			open := mdOpen{bytePos: i}
			switch c {
			case '_':
				open.typ = models.MessageEntityTypeItalic
				if at(i+1) == '_' {
					open.typ = models.MessageEntityTypeUnderline
					i++
				}
			case '*':
				open.typ = models.MessageEntityTypeBold
			case '~':
				open.typ = models.MessageEntityTypeStrikethrough
			case '|':
				if at(i+1) != '|' {
					return "", nil, reservedError(c)
				}
				open.typ = models.MessageEntityTypeSpoiler
				i++
			case '[':
				open.typ = models.MessageEntityTypeTextLink
			case '!':
				if at(i+1) != '[' {
					return "", nil, reservedError(c)
				}
				open.typ = models.MessageEntityTypeCustomEmoji
				i++
			case '`':
				if at(i+1) != '`' || at(i+2) != '`' {
					open.typ = models.MessageEntityTypeCode
					break
				}
				open.typ = models.MessageEntityTypePre
				i += 3
				end := i
				for end < len(s) && !isHTMLSpace(s[end]) && s[end] != '`' {
					end++
				}
				if end != i && end < len(s) && s[end] != '`' {
					open.language = s[i:end]
					i = end
				}
				// One line break right after the opening fence is not text.
				if at(i) == '\n' || at(i) == '\r' {
					if (at(i+1) == '\n' || at(i+1) == '\r') && at(i) != at(i+1) {
						i += 2
					} else {
						i++
					}
				}
				i--
			default:
				return "", nil, reservedError(c)
			}
			open.offset = out.u16
			open.outLen = out.b.Len()
			stack = append(stack, open)
			continue
		}

		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		e := models.MessageEntity{Type: top.typ, Offset: top.offset, Length: out.u16 - top.offset, Language: top.language}
		switch top.typ {
		case models.MessageEntityTypeUnderline, models.MessageEntityTypeSpoiler:
			i++
		case models.MessageEntityTypePre:
			i += 2
		case models.MessageEntityTypeTextLink:
			if at(i+1) != '(' {
				e.URL = out.String()[top.outLen:]
				break
			}
			url, next, err := markdownURL(s, i+2)
			if err != nil {
				return "", nil, err
			}
			e.URL, i = url, next
		case models.MessageEntityTypeCustomEmoji:
			if at(i+1) != '(' {
				return "", nil, fmt.Errorf("Custom emoji entity must contain a tg://emoji URL")
			}
			url, next, err := markdownURL(s, i+2)
			if err != nil {
				return "", nil, err
			}
			id, ok := strings.CutPrefix(url, "tg://emoji?id=")
			if _, err := strconv.ParseInt(id, 10, 64); !ok || err != nil {
				return "", nil, fmt.Errorf("Custom emoji URL must have an emoji identifier")
			}
			e.CustomEmojiID, i = id, next
		}
		if e.Length > 0 && (e.Type != models.MessageEntityTypeTextLink || validLinkURL(e.URL)) {
			ents = append(ents, e)
		}
	}
	if n := len(stack); n > 0 {
		return "", nil, fmt.Errorf("Can't find end of %s entity at byte offset %d", mdNames[stack[n-1].typ], stack[n-1].bytePos)
	}
	closeQuote()
	sortEntities(ents)
	return out.String(), ents, nil
}

// markdownURL reads the URL of [text](url) from s[i:] up to the ')' and
// returns it with the index of that ')'.
func markdownURL(s string, i int) (string, int, error) {
	begin := i
	var b strings.Builder
	for i < len(s) && s[i] != ')' {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] > 0 && s[i+1] <= 126 {
			b.WriteByte(s[i+1])
			i += 2
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	if i >= len(s) {
		return "", 0, fmt.Errorf("Can't find end of a URL at byte offset %d", begin)
	}
	return b.String(), i, nil
}

// parseMarkdown parses the legacy Markdown mode: _italic_, *bold*, `code`,
// ```pre``` and [text](url), not nested; '\' escapes only _ * ` [.
func parseMarkdown(s string) (string, []models.MessageEntity, error) {
	var out textBuilder
	var ents []models.MessageEntity
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' && i+1 < len(s) && strings.IndexByte("_*`[", s[i+1]) >= 0 {
			out.writeRune(rune(s[i+1]))
			i += 2
			continue
		}
		if strings.IndexByte("_*`[", c) < 0 {
			r, n := utf8.DecodeRuneInString(s[i:])
			out.writeRune(r)
			i += n
			continue
		}
		begin := i
		end := string(c)
		e := models.MessageEntity{}
		switch c {
		case '_':
			e.Type = models.MessageEntityTypeItalic
		case '*':
			e.Type = models.MessageEntityTypeBold
		case '[':
			e.Type = models.MessageEntityTypeTextLink
			end = "]"
		case '`':
			e.Type = models.MessageEntityTypeCode
		}
		i++
		if c == '`' && strings.HasPrefix(s[i:], "``") {
			e.Type = models.MessageEntityTypePre
			end = "```"
			i += 2
			if nl := strings.IndexAny(s[i:], "\n`"); nl > 0 && s[i+nl] == '\n' && !strings.ContainsAny(s[i:i+nl], " \t") {
				e.Language = s[i : i+nl]
				i += nl
			}
			if strings.HasPrefix(s[i:], "\n") {
				i++
			}
		}
		e.Offset = out.u16
		startLen := out.b.Len()
		stop := strings.Index(s[i:], end)
		if stop < 0 {
			return "", nil, fmt.Errorf("Can't find end of the entity starting at byte offset %d", begin)
		}
		out.writeString(s[i : i+stop])
		i += stop + len(end)
		e.Length = out.u16 - e.Offset
		if e.Type == models.MessageEntityTypeTextLink {
			if strings.HasPrefix(s[i:], "(") {
				close := strings.IndexByte(s[i:], ')')
				if close < 0 {
					return "", nil, fmt.Errorf("Can't find end of a URL at byte offset %d", i+1)
				}
				e.URL = s[i+1 : i+close]
				i += close + 1
			} else {
				e.URL = out.String()[startLen:]
			}
			if !validLinkURL(e.URL) {
				continue
			}
		}
		if e.Length > 0 {
			ents = append(ents, e)
		}
	}
	sortEntities(ents)
	return out.String(), ents, nil
}
