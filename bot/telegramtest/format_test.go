package telegramtest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
)

func ent(typ models.MessageEntityType, offset, length int) models.MessageEntity {
	return models.MessageEntity{Type: typ, Offset: offset, Length: length}
}

func TestParseModes(t *testing.T) {
	tests := []struct {
		name, mode, in string
		text           string
		ents           []models.MessageEntity
	}{
		{"html plain", "HTML", "hello", "hello", nil},
		{"html bold nested italic", "HTML", "<b>a <i>b</i></b> c", "a b c",
			[]models.MessageEntity{ent("bold", 0, 3), ent("italic", 2, 1)}},
		{"html synonyms", "html", "<strong>x</strong><em>y</em><ins>z</ins><del>w</del><strike>v</strike>", "xyzwv",
			[]models.MessageEntity{ent("bold", 0, 1), ent("italic", 1, 1), ent("underline", 2, 1), ent("strikethrough", 3, 1), ent("strikethrough", 4, 1)}},
		{"html escapes", "HTML", "a &lt; b &amp;&amp; c &gt; d &quot;q&quot; &#128512; &#x41;", `a < b && c > d "q" 😀 A`, nil},
		{"html link", "HTML", `<a href="https://example.com/?a=1&amp;b=2">site</a>`, "site",
			[]models.MessageEntity{{Type: "text_link", Offset: 0, Length: 4, URL: "https://example.com/?a=1&b=2"}}},
		{"html pre with language", "HTML", `<pre><code class="language-go">x := 1</code></pre>`, "x := 1",
			[]models.MessageEntity{{Type: "pre", Offset: 0, Length: 6, Language: "go"}}},
		{"html pre with bare code", "HTML", "<pre><code>x</code></pre>", "x", []models.MessageEntity{ent("pre", 0, 1)}},
		{"html code and pre apart", "HTML", "<code>a</code><pre>b</pre>", "ab", []models.MessageEntity{ent("code", 0, 1), ent("pre", 1, 1)}},
		{"html link without valid href is text", "HTML", `<a href="javascript:x">a</a><a>b</a>`, "ab", nil},
		{"html spoiler and emoji", "HTML", `<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, "st👍",
			[]models.MessageEntity{ent("spoiler", 0, 1), ent("spoiler", 1, 1), {Type: "custom_emoji", Offset: 2, Length: 2, CustomEmojiID: "5368324170671202286"}}},
		{"html offsets in utf-16", "HTML", "😀<b>x</b>", "😀x", []models.MessageEntity{ent("bold", 2, 1)}},
		{"html expandable quote", "HTML", "<blockquote expandable>q</blockquote>", "q", []models.MessageEntity{ent("expandable_blockquote", 0, 1)}},
		{"v2 escapes", "MarkdownV2", `1\. a\-b \(c\) \!`, "1. a-b (c) !", nil},
		{"v2 markup", "MarkdownV2", "*b* _i_ __u__ ~s~ ||p|| `c`", "b i u s p c",
			[]models.MessageEntity{ent("bold", 0, 1), ent("italic", 2, 1), ent("underline", 4, 1), ent("strikethrough", 6, 1), ent("spoiler", 8, 1), ent("code", 10, 1)}},
		{"v2 nested", "MarkdownV2", "*bold _it_*", "bold it", []models.MessageEntity{ent("bold", 0, 7), ent("italic", 5, 2)}},
		{"v2 link with escaped paren", "MarkdownV2", `[site](https://example.com/a\)b)`, "site",
			[]models.MessageEntity{{Type: "text_link", Offset: 0, Length: 4, URL: "https://example.com/a)b"}}},
		{"v2 pre", "MarkdownV2", "```go\nx := 1\n```", "x := 1\n", []models.MessageEntity{{Type: "pre", Offset: 0, Length: 7, Language: "go"}}},
		{"v2 code keeps reserved", "MarkdownV2", "`a.b-c`", "a.b-c", []models.MessageEntity{ent("code", 0, 5)}},
		{"v2 blockquote", "MarkdownV2", ">quoted\n>more\nafter", "quoted\nmore\nafter", []models.MessageEntity{ent("blockquote", 0, 11)}},
		{"v2 custom emoji", "MarkdownV2", "![👍](tg://emoji?id=5368324170671202286)", "👍",
			[]models.MessageEntity{{Type: "custom_emoji", Offset: 0, Length: 2, CustomEmojiID: "5368324170671202286"}}},
		{"markdown v1", "Markdown", "*b* _i_ `c` [l](https://example.com) a.b-c!", "b i c l a.b-c!",
			[]models.MessageEntity{ent("bold", 0, 1), ent("italic", 2, 1), ent("code", 4, 1), {Type: "text_link", Offset: 6, Length: 1, URL: "https://example.com"}}},
		{"markdown v1 escape", "Markdown", `snake\_case`, "snake_case", nil},
		{"entities ignored when parse_mode set", "HTML", "<b>x</b>", "x", []models.MessageEntity{ent("bold", 0, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, ents, aerr := formatText(tt.in, tt.mode, `[{"type":"italic","offset":0,"length":1}]`)
			if aerr != nil {
				t.Fatalf("formatText(%q, %s) = %v", tt.in, tt.mode, aerr)
			}
			if text != tt.text {
				t.Errorf("text = %q, want %q", text, tt.text)
			}
			if len(ents) != 0 || len(tt.ents) != 0 {
				if !reflect.DeepEqual(ents, tt.ents) {
					t.Errorf("entities = %+v, want %+v", ents, tt.ents)
				}
			}
		})
	}
}

func TestParseModeErrors(t *testing.T) {
	tests := []struct{ mode, in, want string }{
		{"HTML", "<b>bold", `Can't find end tag corresponding to start tag "b"`},
		{"HTML", "<b>x</i>", `Unmatched end tag at byte offset 4, expected "</b>", found "</i>"`},
		{"HTML", "x</b>", "Unexpected end tag at byte offset 1"},
		{"HTML", "<br>", `Unsupported start tag "br" at byte offset 0`},
		{"HTML", "a < b", `Unsupported start tag "" at byte offset 2`},
		{"HTML", "a > b", "character '>' at byte offset 2 must be escaped"},
		{"HTML", "Tom & Jerry", "character '&' at byte offset 4 must be escaped"},
		{"HTML", "&nbsp;", "character '&' at byte offset 0"},
		{"HTML", `<span class="x">s</span>`, `Tag "span" must have class "tg-spoiler"`},
		{"HTML", `<tg-emoji>e</tg-emoji>`, `Tag "tg-emoji" must have a numeric attribute "emoji-id"`},
		{"HTML", `<a href="x`, "Unclosed start tag at byte offset 0"},
		{"MarkdownV2", "Hello.", `Character '.' is reserved and must be escaped with the preceding '\'`},
		{"MarkdownV2", "a-b", `Character '-' is reserved`},
		{"MarkdownV2", "(x)", `Character '(' is reserved`},
		{"MarkdownV2", "#tag", `Character '#' is reserved`},
		{"MarkdownV2", "*bold", "Can't find end of Bold entity at byte offset 0"},
		{"MarkdownV2", "x _it", "Can't find end of Italic entity at byte offset 2"},
		{"MarkdownV2", "a|b", `Character '|' is reserved`},
		{"MarkdownV2", "[l](https://e.com", "Can't find end of a URL at byte offset 4"},
		{"MarkdownV2", "![e]", "Custom emoji entity must contain a tg://emoji URL"},
		{"Markdown", "*bold", "Can't find end of the entity starting at byte offset 0"},
		{"Markdown", "snake_case", "Can't find end of the entity starting at byte offset 5"},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.in, func(t *testing.T) {
			_, _, aerr := formatText(tt.in, tt.mode, "")
			if aerr == nil {
				t.Fatalf("formatText(%q, %s) accepted", tt.in, tt.mode)
			}
			prefix := "Bad Request: can't parse entities: "
			if aerr.code != 400 || !strings.HasPrefix(aerr.description, prefix) || !strings.Contains(aerr.description, tt.want) {
				t.Errorf("error = %d %q, want 400 %q...%q", aerr.code, aerr.description, prefix, tt.want)
			}
		})
	}
}
