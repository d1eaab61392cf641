package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/turn"
)

// BenchmarkFormatWhatsApp converts WhatsApp formatting to text and entities.
func BenchmarkFormatWhatsApp(b *testing.B) {
	inputs := map[string]string{
		"plain":     "Thank you for your message. We will get back to you within one working day.",
		"formatted": "*Welcome* to _Turn_ 👋🏽\n\n> Reply with a number\n> or a word\n\n- `1` for *help*\n* 2 for ~nothing~\n\nPrice: 2*3*4 snake_case_name\n```\ncode *stays*\n```",
		"long":      strings.Repeat("Here is *some bold* and _some italic_ text with a link https://example.org/path?q=1 and an emoji 🎉. ", 40),
	}
	for _, name := range []string{"plain", "formatted", "long"} {
		in := inputs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				formatWhatsApp(in)
			}
		})
	}
}

// benchOutbound are the Turn webhook fixtures the rendering benchmarks run.
var benchOutbound = []string{"text", "text_formatted", "interactive_button", "interactive_list", "template", "image", "long_text", "block_only"}

func readOutbound(b *testing.B, name string) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "outbound", name+".json"))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkRender renders a decoded Turn message into its Telegram plan.
func BenchmarkRender(b *testing.B) {
	for _, name := range benchOutbound {
		out, err := turn.DecodeOutbound(readOutbound(b, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render("bench", "5f0c2d9e-3b1a-4c8e-9f2d-7a6b5c4d3e2f", 412587349, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSplitText splits a formatted text over Telegram's 4096 limit.
func BenchmarkSplitText(b *testing.B) {
	text, entities := formatWhatsApp(strings.Repeat("Here is *some bold* and _some italic_ text with an emoji 🎉. ", 200))
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if len(splitText(text, entities, 4096)) < 2 {
			b.Fatal("expected several chunks")
		}
	}
}
