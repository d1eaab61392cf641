package render

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
)

func TestSplitText(t *testing.T) {
	type ents = []models.MessageEntity
	tests := []struct {
		name  string
		text  string
		ents  ents
		limit int
		want  []chunk
	}{
		{"fits, trimmed", "  hi there \n", ents{tgEnt(tgBold, 2, 2)}, 20, []chunk{{"hi there", ents{tgEnt(tgBold, 0, 2)}}}},
		{"blank text gives no chunk", " \n\n\t ", nil, 10, nil},
		{"empty text gives no chunk", "", nil, 10, nil},
		{
			"paragraph first", "aaaa\nbbbb\n\ncccc\ndddd", nil, 14,
			[]chunk{{"aaaa\nbbbb", nil}, {"cccc\ndddd", nil}},
		},
		{
			"blank line with spaces is a paragraph break", "aa bb\n  \ncc dd", nil, 8,
			[]chunk{{"aa bb", nil}, {"cc dd", nil}},
		},
		{
			"then line", "aaaa bbbb\ncccc dddd", nil, 12,
			[]chunk{{"aaaa bbbb", nil}, {"cccc dddd", nil}},
		},
		{"then word", "aaaa bbbb cccc", nil, 10, []chunk{{"aaaa bbbb", nil}, {"cccc", nil}}},
		{"then hard cut", "abcdefghij", nil, 4, []chunk{{"abcd", nil}, {"efgh", nil}, {"ij", nil}}},
		{
			// Each 😀 is a surrogate pair: a cut never falls inside one.
			"surrogate pairs stay whole", "😀😀😀", ents{tgEnt(tgBold, 2, 4)}, 3,
			[]chunk{{"😀", nil}, {"😀", ents{tgEnt(tgBold, 0, 2)}}, {"😀", ents{tgEnt(tgBold, 0, 2)}}},
		},
		{
			"entity crossing a cut is split", "aaaa bbbb", ents{tgEnt(tgBold, 2, 5)}, 4,
			[]chunk{{"aaaa", ents{tgEnt(tgBold, 2, 2)}}, {"bbbb", ents{tgEnt(tgBold, 0, 2)}}},
		},
		{
			"nested entities are clipped alike", "aa bb cc", ents{tgEnt(tgQuote, 0, 8), tgEnt(tgItalic, 3, 5)}, 5,
			[]chunk{{"aa bb", ents{tgEnt(tgQuote, 0, 5), tgEnt(tgItalic, 3, 2)}}, {"cc", ents{tgEnt(tgQuote, 0, 2), tgEnt(tgItalic, 0, 2)}}},
		},
		{
			"entity of whitespace dropped", "ab  \n\ncd", ents{tgEnt(tgItalic, 1, 6), tgEnt(tgBold, 2, 2)}, 4,
			[]chunk{{"ab", ents{tgEnt(tgItalic, 1, 1)}}, {"cd", ents{tgEnt(tgItalic, 0, 1)}}},
		},
		{"leading whitespace re-bases entities", "   hi", ents{tgEnt(tgBold, 3, 2)}, 10, []chunk{{"hi", ents{tgEnt(tgBold, 0, 2)}}}},
		{"offsets after emoji are UTF-16", "👍 ab cd", ents{tgEnt(tgCode, 6, 2)}, 5, []chunk{{"👍 ab", nil}, {"cd", ents{tgEnt(tgCode, 0, 2)}}}},
		{"limit below 2 is taken as 2", "abc", nil, 0, []chunk{{"ab", nil}, {"c", nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitText(tt.text, tt.ents, tt.limit)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitText(%q, %v, %d)\n got %+v\nwant %+v", tt.text, tt.ents, tt.limit, got, tt.want)
			}
		})
	}
}

// TestSplitTextTelegramLimits splits a long formatted text at the real
// limits: every chunk fits, and nothing but whitespace is lost.
func TestSplitTextTelegramLimits(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 20000; i++ {
		b.WriteString("Paragraph with *bold words* and _italic ones_ and an emoji 😀 in it.")
		if i%7 == 6 {
			b.WriteString("\n\n")
		} else {
			b.WriteString(" ")
		}
	}
	text, entities := formatWhatsApp(b.String())
	for _, limit := range []int{TextLimit, CaptionLimit} {
		chunks := splitText(text, entities, limit)
		if len(chunks) < 2 {
			t.Fatalf("limit %d: %d chunks for %d units", limit, len(chunks), utf16Count(text))
		}
		var joined []string
		for i, c := range chunks {
			if n := utf16Count(c.Text); n > limit || n == 0 {
				t.Errorf("limit %d: chunk %d has %d units", limit, i, n)
			}
			if i < len(chunks)-1 && !strings.Contains(text, c.Text+"\n\n") {
				t.Errorf("limit %d: chunk %d is not cut at a paragraph break", limit, i)
			}
			if err := checkTelegramEntities(c.Text, c.Entities); err != nil {
				t.Errorf("limit %d: chunk %d: %v", limit, i, err)
			}
			joined = append(joined, c.Text)
		}
		if strings.Join(strings.Fields(strings.Join(joined, " ")), " ") != strings.Join(strings.Fields(text), " ") {
			t.Errorf("limit %d: chunks do not add up to the text", limit)
		}
	}
}
