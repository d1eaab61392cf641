package render

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// checkTelegramEntities reports the first way in which ents are not acceptable to
// Telegram for text: invalid UTF-8, an entity empty, out of bounds, cutting
// a surrogate pair or of whitespace only, entities overlapping without one
// containing the other, nested blockquotes, or anything inside code.
func checkTelegramEntities(text string, ents []models.MessageEntity) error {
	if !utf8.ValidString(text) {
		return fmt.Errorf("text is not valid UTF-8: %q", text)
	}
	runes := []rune(text)
	bound := map[int]int{0: 0} // UTF-16 offset -> rune index, at rune boundaries
	u := 0
	for i, r := range runes {
		u += utf16Len(r)
		bound[u] = i + 1
	}
	for _, e := range ents {
		s, okS := bound[e.Offset]
		end, okE := bound[e.Offset+e.Length]
		switch {
		case e.Length <= 0:
			return fmt.Errorf("%+v: empty", e)
		case e.Offset < 0 || e.Offset+e.Length > u:
			return fmt.Errorf("%+v: outside the text (%d units)", e, u)
		case !okS || !okE:
			return fmt.Errorf("%+v: cuts a surrogate pair", e)
		case strings.TrimFunc(string(runes[s:end]), unicode.IsSpace) == "":
			return fmt.Errorf("%+v: only whitespace", e)
		}
	}
	// Nesting, in O(n log n) so that big fuzz inputs stay fast: sorted by
	// offset (outer first), each entity must end within its enclosing one.
	sorted := append([]models.MessageEntity(nil), ents...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Offset != sorted[j].Offset {
			return sorted[i].Offset < sorted[j].Offset
		}
		return sorted[i].Length > sorted[j].Length
	})
	var open []models.MessageEntity
	quotes := 0
	for _, e := range sorted {
		for len(open) > 0 && open[len(open)-1].Offset+open[len(open)-1].Length <= e.Offset {
			if open[len(open)-1].Type == models.MessageEntityTypeBlockquote {
				quotes--
			}
			open = open[:len(open)-1]
		}
		if len(open) > 0 {
			top := open[len(open)-1]
			same := top.Offset == e.Offset && top.Length == e.Length
			switch {
			case e.Offset+e.Length > top.Offset+top.Length:
				return fmt.Errorf("%+v and %+v overlap partially", top, e)
			case !same && (top.Type == models.MessageEntityTypeCode || top.Type == models.MessageEntityTypePre):
				return fmt.Errorf("%+v contains %+v", top, e)
			}
		}
		if e.Type == models.MessageEntityTypeBlockquote {
			if quotes > 0 {
				return fmt.Errorf("%+v: nested blockquotes", e)
			}
			quotes++
		}
		open = append(open, e)
	}
	return nil
}

// waMarkupless removes what formatWhatsApp may remove or replace (markers,
// quote prefixes, bullets) and all whitespace, so input and output compare.
func waMarkupless(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune("*_~`>-•", r) {
			return -1
		}
		return r
	}, s)
}

func FuzzFormatWhatsApp(f *testing.F) {
	for _, s := range []string{
		"*bold* _italic_ ~strike~ `code` ```pre\nblock```",
		"> quote *a*\n> more _b_\n- item\n* item\n1. item",
		"2*3*4 snake_case_name * lone",
		"*_bold italic_* ~*_all_*~ *a _b* c_",
		"😀 *héllo* 👍🏽 _x_ `y`",
		"> ```a\nb``` c\n```",
		"``````` ** __ ~~ `` *\n*",
		"\xff\xfe *bad utf8*\r\n> crlf",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, ents := formatWhatsApp(s)
		if err := checkTelegramEntities(text, ents); err != nil {
			t.Fatalf("formatWhatsApp(%q) = %q: %v", s, text, err)
		}
		if got, want := waMarkupless(text), waMarkupless(strings.ToValidUTF8(s, "\uFFFD")); got != want {
			t.Fatalf("formatWhatsApp(%q) = %q: lost or added text: %q, want %q", s, text, got, want)
		}
		if text2, ents2 := formatWhatsApp(s); text2 != text || fmt.Sprint(ents2) != fmt.Sprint(ents) {
			t.Fatalf("formatWhatsApp(%q) is not deterministic", s)
		}
	})
}

func FuzzSplitText(f *testing.F) {
	f.Add("*bold* words\n\nparagraph _two_ is here\nline three", uint16(12))
	f.Add("😀😀😀 *😀😀* 😀", uint16(1))
	f.Add("```\nlong code block that must be cut\n```\n> quote line one\n> two", uint16(7))
	f.Add("  \n\n  ", uint16(3))
	f.Add(strings.Repeat("word ", 300), uint16(4096))
	f.Fuzz(func(t *testing.T, s string, l uint16) {
		limit := 2 + int(l)%300
		if l >= 4096 {
			limit = int(l)
		}
		text, ents := formatWhatsApp(s)
		chunks := splitText(text, ents, limit)
		cover := newEntityCoverage(text, ents)
		rest := text // what is left of the text after the chunks so far
		restOff := 0 // UTF-16 offset of rest in text
		for i, c := range chunks {
			n := utf16Count(c.Text)
			if n < 1 || n > limit {
				t.Fatalf("chunk %d of %q (limit %d) has %d units: %q", i, text, limit, n, c.Text)
			}
			if strings.TrimFunc(c.Text, unicode.IsSpace) != c.Text {
				t.Fatalf("chunk %d of %q is not trimmed: %q", i, text, c.Text)
			}
			if err := checkTelegramEntities(c.Text, c.Entities); err != nil {
				t.Fatalf("chunk %d of %q (limit %d): %v", i, text, limit, err)
			}
			at := strings.Index(rest, c.Text)
			if at < 0 || strings.TrimFunc(rest[:at], unicode.IsSpace) != "" {
				t.Fatalf("chunk %d %q does not follow the previous one in %q after whitespace", i, c.Text, text)
			}
			start := restOff + utf16Count(rest[:at])
			for _, e := range c.Entities {
				if !cover.covers(e.Type, start+e.Offset, start+e.Offset+e.Length) {
					t.Fatalf("chunk %d entity %+v (chunk at %d) is not part of an entity of %+v", i, e, start, ents)
				}
			}
			restOff = start + n
			rest = rest[at+len(c.Text):]
		}
		if strings.TrimFunc(rest, unicode.IsSpace) != "" {
			t.Fatalf("text after the last chunk is lost: %q", rest)
		}
	})
}

// entityCoverage answers whether a range of a text lies within entities of a type.
type entityCoverage map[models.MessageEntityType][]int // prefix sums of covered units

func newEntityCoverage(text string, ents []models.MessageEntity) entityCoverage {
	n := utf16Count(text)
	diff := map[models.MessageEntityType][]int{}
	for _, e := range ents {
		d := diff[e.Type]
		if d == nil {
			d = make([]int, n+1)
			diff[e.Type] = d
		}
		d[e.Offset]++
		d[e.Offset+e.Length]--
	}
	c := entityCoverage{}
	for typ, d := range diff {
		sums := make([]int, n+1)
		depth := 0
		for i := 0; i < n; i++ {
			depth += d[i]
			sums[i+1] = sums[i]
			if depth > 0 {
				sums[i+1]++
			}
		}
		c[typ] = sums
	}
	return c
}

func (c entityCoverage) covers(typ models.MessageEntityType, from, to int) bool {
	sums := c[typ]
	return sums != nil && to < len(sums) && sums[to]-sums[from] == to-from
}
