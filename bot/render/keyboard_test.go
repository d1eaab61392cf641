package render

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestInlineKeyboardJSON(t *testing.T) {
	tests := []struct {
		name string
		rows [][]Button
		want string
	}{
		{
			"callback buttons, no copy_text",
			[][]Button{{{Text: "Yes", Data: "k1"}, {Text: "No", Data: "k2"}}, {{Text: "Later", Data: "k3"}}},
			`{"inline_keyboard":[[{"text":"Yes","callback_data":"k1"},{"text":"No","callback_data":"k2"}],[{"text":"Later","callback_data":"k3"}]]}`,
		},
		{
			"url button",
			[][]Button{{urlButton("Open", "https://example.org/a?b=c")}, {{Text: "Ok", Data: "k"}}},
			`{"inline_keyboard":[[{"text":"Open","url":"https://example.org/a?b=c"}],[{"text":"Ok","callback_data":"k"}]]}`,
		},
		{"empty rows are dropped", [][]Button{{}, {{Text: "A", Data: "a"}}}, `{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(InlineKeyboard(tt.rows))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
	for _, rows := range [][][]Button{nil, {}, {{}}} {
		if kb := InlineKeyboard(rows); kb != nil {
			t.Errorf("InlineKeyboard(%v) = %v, want nil (no reply_markup)", rows, kb)
		}
	}
}

func TestCallbackKey(t *testing.T) {
	seen := map[string]bool{}
	for _, turnID := range []string{"", "a", "0d6f3b52-9a41-4c1e-8e7d-5b2a9c4f1e30", strings.Repeat("x", 500)} {
		for kb := 0; kb < 3; kb++ {
			for b := 0; b < 12; b++ {
				k := callbackKey(turnID, kb, b)
				if len(k) != 32 || strings.ContainsAny(k, ":+/=") {
					t.Fatalf("key %q: want 32 base64url characters", k)
				}
				if seen[k] {
					t.Fatalf("key %q repeats", k)
				}
				seen[k] = true
				if callbackKey(turnID, kb, b) != k {
					t.Fatal("key is not deterministic")
				}
			}
		}
	}
	// Separators keep ("a1", 0) and ("a", 10) apart.
	if callbackKey("a1", 0, 1) == callbackKey("a", 10, 1) {
		t.Error("keys of different messages collide")
	}
}

func TestButtonLabel(t *testing.T) {
	long := strings.Repeat("é", 100)
	tests := []struct{ in, want string }{
		{"Yes", "Yes"},
		{"  two\nlines\t here ", "two lines here"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{long, strings.Repeat("é", 63) + "…"},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		got := ButtonLabel(tt.in)
		if got != tt.want || utf8.RuneCountInString(got) > maxButtonLabel {
			t.Errorf("ButtonLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
