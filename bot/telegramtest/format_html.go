package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// htmlTags are the tags of Telegram's HTML parse mode and what they mark.
var htmlTags = map[string]models.MessageEntityType{
	"b": models.MessageEntityTypeBold, "strong": models.MessageEntityTypeBold,
	"i": models.MessageEntityTypeItalic, "em": models.MessageEntityTypeItalic,
	"u": models.MessageEntityTypeUnderline, "ins": models.MessageEntityTypeUnderline,
	"s": models.MessageEntityTypeStrikethrough, "strike": models.MessageEntityTypeStrikethrough,
	"del":  models.MessageEntityTypeStrikethrough,
	"span": models.MessageEntityTypeSpoiler, "tg-spoiler": models.MessageEntityTypeSpoiler,
	"a":          models.MessageEntityTypeTextLink,
	"code":       models.MessageEntityTypeCode,
	"pre":        models.MessageEntityTypePre,
	"blockquote": models.MessageEntityTypeBlockquote,
	"tg-emoji":   models.MessageEntityTypeCustomEmoji,
}

type htmlTag struct {
	name     string
	entity   models.MessageEntity // Offset set at the start tag
	absorbed bool                 // a <code> right inside a <pre>: the pre is the entity
}

// parseHTML parses Telegram's HTML parse mode. Besides what Telegram itself
// refuses (unknown or unbalanced tags), it refuses a bare '<', '>' or '&'
// outside a tag, which the Bot API documentation says must be escaped.
func parseHTML(s string) (string, []models.MessageEntity, error) {
	var out textBuilder
	var stack []htmlTag
	var ents []models.MessageEntity
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if i+1 < len(s) && s[i+1] == '/' {
				end := strings.IndexByte(s[i:], '>')
				if end < 0 {
					return "", nil, fmt.Errorf("Unclosed end tag at byte offset %d", i)
				}
				name := strings.ToLower(strings.TrimSpace(s[i+2 : i+end]))
				if len(stack) == 0 {
					return "", nil, fmt.Errorf("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top.name {
					return "", nil, fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.name, name)
				}
				stack = stack[:len(stack)-1]
				e := top.entity
				e.Length = out.u16 - e.Offset
				// Like Telegram, a link without a valid href is plain text.
				if !top.absorbed && e.Length > 0 && (e.Type != models.MessageEntityTypeTextLink || validLinkURL(e.URL)) {
					ents = append(ents, e)
				}
				i += end + 1
				continue
			}
			tag, next, err := parseStartTag(s, i)
			if err != nil {
				return "", nil, err
			}
			tag.entity.Offset = out.u16
			if tag.name == "code" {
				// <pre><code class="language-go"> is one pre entity, with a language.
				class := tag.entity.Language
				tag.entity.Language = ""
				if n := len(stack); n > 0 && stack[n-1].name == "pre" && stack[n-1].entity.Offset == out.u16 {
					if lang, ok := strings.CutPrefix(class, "language-"); ok {
						stack[n-1].entity.Language = lang
					}
					tag.absorbed = true
				}
			}
			stack = append(stack, tag)
			i = next
		case '>':
			return "", nil, fmt.Errorf("character '>' at byte offset %d must be escaped as &gt;", i)
		case '&':
			r, n, ok := htmlEntity(s[i:])
			if !ok {
				return "", nil, fmt.Errorf("character '&' at byte offset %d must be escaped as &amp;", i)
			}
			out.writeRune(r)
			i += n
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			out.writeRune(r)
			i += n
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	sortEntities(ents)
	return out.String(), ents, nil
}

// parseStartTag reads the tag starting at s[i] == '<' and returns it with
// the offset just past its '>'. A <code>'s class is returned in
// entity.Language for the caller to resolve.
func parseStartTag(s string, i int) (htmlTag, int, error) {
	j := i + 1
	for j < len(s) && (isASCIIAlnum(s[j]) || s[j] == '-') {
		j++
	}
	name := strings.ToLower(s[i+1 : j])
	typ, ok := htmlTags[name]
	if !ok {
		return htmlTag{}, 0, fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, i)
	}
	attrs := map[string]string{}
	for {
		for j < len(s) && isHTMLSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return htmlTag{}, 0, fmt.Errorf("Unclosed start tag at byte offset %d", i)
		}
		if s[j] == '>' {
			j++
			break
		}
		k := j
		for k < len(s) && (isASCIIAlnum(s[k]) || s[k] == '-' || s[k] == '_') {
			k++
		}
		if k == j {
			return htmlTag{}, 0, fmt.Errorf("Empty attribute name in the tag \"%s\" at byte offset %d", name, j)
		}
		attr := strings.ToLower(s[j:k])
		j = k
		for j < len(s) && isHTMLSpace(s[j]) {
			j++
		}
		value := ""
		if j < len(s) && s[j] == '=' {
			j++
			for j < len(s) && isHTMLSpace(s[j]) {
				j++
			}
			if j >= len(s) {
				return htmlTag{}, 0, fmt.Errorf("Unclosed start tag at byte offset %d", i)
			}
			if q := s[j]; q == '"' || q == '\'' {
				end := strings.IndexByte(s[j+1:], q)
				if end < 0 {
					return htmlTag{}, 0, fmt.Errorf("Unclosed start tag at byte offset %d", i)
				}
				value = s[j+1 : j+1+end]
				j += end + 2
			} else {
				k := j
				for k < len(s) && !isHTMLSpace(s[k]) && s[k] != '>' {
					k++
				}
				value = s[j:k]
				j = k
			}
			value = unescapeHTML(value)
		}
		attrs[attr] = value
	}

	tag := htmlTag{name: name, entity: models.MessageEntity{Type: typ}}
	switch name {
	case "a":
		tag.entity.URL = attrs["href"]
	case "span":
		if attrs["class"] != "tg-spoiler" {
			return htmlTag{}, 0, fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", i)
		}
	case "tg-emoji":
		id := attrs["emoji-id"]
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			return htmlTag{}, 0, fmt.Errorf("Tag \"tg-emoji\" must have a numeric attribute \"emoji-id\" at byte offset %d", i)
		}
		tag.entity.CustomEmojiID = id
	case "code":
		tag.entity.Language = attrs["class"]
	case "blockquote":
		if _, ok := attrs["expandable"]; ok {
			tag.entity.Type = models.MessageEntityTypeExpandableBlockquote
		}
	}
	return tag, j, nil
}

// htmlEntity decodes the character reference at the start of s: the four
// named ones Telegram supports, or a numeric one.
func htmlEntity(s string) (rune, int, bool) {
	semi := strings.IndexByte(s, ';')
	if semi < 2 || semi > 10 {
		return 0, 0, false
	}
	name := s[1:semi]
	switch name {
	case "lt":
		return '<', semi + 1, true
	case "gt":
		return '>', semi + 1, true
	case "amp":
		return '&', semi + 1, true
	case "quot":
		return '"', semi + 1, true
	}
	if name[0] != '#' {
		return 0, 0, false
	}
	var (
		n   uint64
		err error
	)
	if len(name) > 1 && (name[1] == 'x' || name[1] == 'X') {
		n, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(name[1:], 10, 32)
	}
	r := rune(n)
	if err != nil || n == 0 || !utf8.ValidRune(r) {
		return 0, 0, false
	}
	return r, semi + 1, true
}

// unescapeHTML decodes character references in an attribute value, leaving
// anything else as written.
func unescapeHTML(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '&' {
			if r, n, ok := htmlEntity(s[i:]); ok {
				b.WriteRune(r)
				i += n
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
