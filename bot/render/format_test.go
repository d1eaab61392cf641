package render

import (
	"reflect"
	"testing"

	"github.com/go-telegram/bot/models"
)

// tgEnt is a short way to write an expected entity.
func tgEnt(typ models.MessageEntityType, offset, length int) models.MessageEntity {
	return models.MessageEntity{Type: typ, Offset: offset, Length: length}
}

const (
	tgBold   = models.MessageEntityTypeBold
	tgItalic = models.MessageEntityTypeItalic
	tgStrike = models.MessageEntityTypeStrikethrough
	tgCode   = models.MessageEntityTypeCode
	tgPre    = models.MessageEntityTypePre
	tgQuote  = models.MessageEntityTypeBlockquote
)

func TestFormatWhatsApp(t *testing.T) {
	tests := []struct {
		name, in, text string
		ents           []models.MessageEntity
	}{
		{"plain", "hello world", "hello world", nil},
		{"bold", "*bold*", "bold", []models.MessageEntity{tgEnt(tgBold, 0, 4)}},
		{"italic", "an _italic_ word", "an italic word", []models.MessageEntity{tgEnt(tgItalic, 3, 6)}},
		{"strike", "~gone~", "gone", []models.MessageEntity{tgEnt(tgStrike, 0, 4)}},
		{"inline code", "run `go test` now", "run go test now", []models.MessageEntity{tgEnt(tgCode, 4, 7)}},
		{"bold spans words", "*hello world*", "hello world", []models.MessageEntity{tgEnt(tgBold, 0, 11)}},
		{"punctuation around", "(*x*), *y*!", "(x), y!", []models.MessageEntity{tgEnt(tgBold, 1, 1), tgEnt(tgBold, 5, 1)}},
		{"pre inline", "```pre```", "pre", []models.MessageEntity{tgEnt(tgPre, 0, 3)}},
		{
			"pre over lines keeps markup literal", "```\nline1\n*not bold*\n```",
			"\nline1\n*not bold*\n", []models.MessageEntity{tgEnt(tgPre, 1, 16)},
		},
		{"code keeps markup literal", "`*not bold*`", "*not bold*", []models.MessageEntity{tgEnt(tgCode, 0, 10)}},
		{"arithmetic stays literal", "2*3*4", "2*3*4", nil},
		{"snake case stays literal", "snake_case_name", "snake_case_name", nil},
		{"markers need to hug text", "a * b * c and _ x _", "a * b * c and _ x _", nil},
		{"marker glued to a word stays", "*x*y and x~y~", "*x*y and x~y~", nil},
		{"lone star", "*", "*", nil},
		{"double star", "**", "**", nil},
		{"empty pair", "a __ b", "a __ b", nil},
		{"no pairing across lines", "*multi\nline*", "*multi\nline*", nil},
		{"inner underscores stay", "_italic_text_", "italic_text", []models.MessageEntity{tgEnt(tgItalic, 0, 11)}},
		{"doubled markers", "**bold**", "bold", []models.MessageEntity{tgEnt(tgBold, 0, 4)}},
		{"unpaired fences", "``````", "``````", nil},
		{"unpaired fence", "```not closed *b*", "```not closed b", []models.MessageEntity{tgEnt(tgBold, 14, 1)}},
		{"whitespace-only fence", "``` ```", "``` ```", nil},
		{
			"nested bold italic", "*_bold italic_*", "bold italic",
			[]models.MessageEntity{tgEnt(tgBold, 0, 11), tgEnt(tgItalic, 0, 11)},
		},
		{
			"all three nested", "~*_all_*~", "all",
			[]models.MessageEntity{tgEnt(tgBold, 0, 3), tgEnt(tgItalic, 0, 3), tgEnt(tgStrike, 0, 3)},
		},
		{
			"nested inside", "*bold _both_ bold*", "bold both bold",
			[]models.MessageEntity{tgEnt(tgBold, 0, 14), tgEnt(tgItalic, 5, 4)},
		},
		{
			"crossing markers: inner opener stays literal", "*a _b* c_", "a _b c_",
			[]models.MessageEntity{tgEnt(tgBold, 0, 4)},
		},
		{"code inside bold", "*see `x`*", "see x", []models.MessageEntity{tgEnt(tgBold, 0, 5), tgEnt(tgCode, 4, 1)}},
		{"bullets", "* item\n- second\n1. third", "• item\n• second\n1. third", nil},
		{"indented bullet", "  - nested", "  • nested", nil},
		{"bullet with bold", "- *a* b", "• a b", []models.MessageEntity{tgEnt(tgBold, 2, 1)}},
		{"dash without space", "-5 degrees", "-5 degrees", nil},
		{
			"quote lines merge", "> quoted *text*\n> second line\nafter",
			"quoted text\nsecond line\nafter", []models.MessageEntity{tgEnt(tgQuote, 0, 23), tgEnt(tgBold, 7, 4)},
		},
		{
			"separate quotes", "> one\nmid\n> two", "one\nmid\ntwo",
			[]models.MessageEntity{tgEnt(tgQuote, 0, 3), tgEnt(tgQuote, 8, 3)},
		},
		{"quote needs a space", ">no space", ">no space", nil},
		{"quoted bullet", "> - item", "• item", []models.MessageEntity{tgEnt(tgQuote, 0, 6)}},
		{
			"pre inside quote", "> ```a\nb``` c", "a\nb c",
			[]models.MessageEntity{tgEnt(tgQuote, 0, 5), tgEnt(tgPre, 0, 3)},
		},
		// Offsets and lengths are UTF-16 code units: 😀 and 👍 take two.
		{"emoji before", "😀 *héllo* 👍", "😀 héllo 👍", []models.MessageEntity{tgEnt(tgBold, 3, 5)}},
		{"emoji inside", "*😀*", "😀", []models.MessageEntity{tgEnt(tgBold, 0, 2)}},
		{"skin tone", "👍🏽 _x_ `y`", "👍🏽 x y", []models.MessageEntity{tgEnt(tgItalic, 5, 1), tgEnt(tgCode, 7, 1)}},
		{"astral in code", "`𝔸𝔹` *b*", "𝔸𝔹 b", []models.MessageEntity{tgEnt(tgCode, 0, 4), tgEnt(tgBold, 5, 1)}},
		{"crlf", "*a*\r\nb", "a\nb", []models.MessageEntity{tgEnt(tgBold, 0, 1)}},
		{"invalid utf-8", "bad \xff *b*", "bad \uFFFD b", []models.MessageEntity{tgEnt(tgBold, 6, 1)}},
		{"links untouched", "see https://example.org/a_b_c", "see https://example.org/a_b_c", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, ents := formatWhatsApp(tt.in)
			if text != tt.text || !reflect.DeepEqual(ents, tt.ents) {
				t.Errorf("formatWhatsApp(%q)\n got %q %+v\nwant %q %+v", tt.in, text, ents, tt.text, tt.ents)
			}
			if err := checkTelegramEntities(text, ents); err != nil {
				t.Error(err)
			}
		})
	}
}
