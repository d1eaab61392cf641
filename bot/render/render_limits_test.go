package render

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/turn"
)

func TestKeyboardPages(t *testing.T) {
	row := func(n int) []Button {
		out := make([]Button, n)
		for i := range out {
			out[i] = Button{Text: fmt.Sprint(i), Data: fmt.Sprint(i)}
		}
		return out
	}
	column := func(n int) [][]Button {
		var rows [][]Button
		for range n {
			rows = append(rows, row(1))
		}
		return rows
	}
	tests := []struct {
		name string
		rows [][]Button
		want [][]int // per page, the width of each row
	}{
		{"none", nil, nil},
		{"three buttons", column(3), [][]int{{1, 1, 1}}},
		{"a row of 20 wraps at 8", [][]Button{row(20)}, [][]int{{8, 8, 4}}},
		{"100 is one keyboard", column(100), [][]int{repeat(1, 100)}},
		{"101 is two", column(101), [][]int{repeat(1, 100), {1}}},
		{"250 is three", column(250), [][]int{repeat(1, 100), repeat(1, 100), repeat(1, 50)}},
		{"a wide row split across pages", append(column(96), row(8)), [][]int{append(repeat(1, 96), 4), {4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := keyboardPages(tt.rows)
			var got [][]int
			total, in := 0, 0
			for _, p := range pages {
				var widths []int
				n := 0
				for _, r := range p {
					widths = append(widths, len(r))
					n += len(r)
					if len(r) > maxRowButtons {
						t.Errorf("a row of %d buttons", len(r))
					}
				}
				if n > maxKeyboardButtons {
					t.Errorf("a keyboard of %d buttons", n)
				}
				total += n
				got = append(got, widths)
			}
			for _, r := range tt.rows {
				in += len(r)
			}
			if total != in {
				t.Errorf("%d buttons in, %d out", in, total)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("pages %v, want %v", got, tt.want)
			}
		})
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// listOf is a list message of n rows.
func listOf(n int) *turn.Outbound {
	var rows []turn.Row
	for i := range n {
		rows = append(rows, turn.Row{ID: fmt.Sprintf("r%d", i), Title: fmt.Sprintf("Row %d", i)})
	}
	return &turn.Outbound{Turn: &turn.Message{Interactive: &turn.Interactive{Type: "list", Body: &turn.Text2{Text: "Pick one"},
		Action: &turn.Action{Button: "Choose", Sections: []turn.Section{{Title: "All", Rows: rows}}}}}}
}

func buttonsOf(n int) *turn.Outbound {
	var bs []turn.ActionButton
	for i := range n {
		bs = append(bs, turn.ActionButton{Type: "reply", Reply: &turn.ButtonTitle{ID: fmt.Sprint(i), Title: fmt.Sprintf("B%d", i)}})
	}
	return &turn.Outbound{Turn: &turn.Message{Interactive: &turn.Interactive{Type: "button", Body: &turn.Text2{Text: "Pick"},
		Action: &turn.Action{Buttons: bs}}}}
}

func textOf(n int) *turn.Outbound {
	return &turn.Outbound{Turn: &turn.Message{Type: "text", Text: &turn.Text{Body: strings.Repeat("word ", n/5)}}}
}

// TestRenderLimits: what exceeds one Telegram message's limits is spread
// over several when all of it still reaches the person, and refused (with
// the field named) when it would take more than MaxParts messages.
func TestRenderLimits(t *testing.T) {
	tests := []struct {
		name     string
		out      *turn.Outbound
		parts    int    // 0: refused
		keyboard []int  // buttons per part carrying a keyboard
		field    string // of the refusal
	}{
		{"3 buttons", buttonsOf(3), 1, []int{3}, ""},
		{"100 buttons fit one keyboard", buttonsOf(100), 1, []int{100}, ""},
		{"150 buttons take two messages", buttonsOf(150), 2, []int{100, 50}, ""},
		{"a list of 250 rows: the text lists them, three keyboards offer them", listOf(250), 3, []int{100, 100, 50}, ""},
		{"301 buttons are refused", buttonsOf(301), 0, nil, "turn"},
		{"1000 buttons are refused", buttonsOf(1000), 0, nil, "turn"},
		{"a list of 1000 rows is refused", listOf(1000), 0, nil, "turn"},
		{"a text of 10 messages", textOf(10 * 4000), 10, nil, ""},
		{"a text of 11 messages is refused", textOf(11 * 4096), 0, nil, "turn"},
		{"1 MiB of text is refused", textOf(1 << 20), 0, nil, "turn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := Render(testChannel, testTurnID, 9, tt.out)
			if tt.parts == 0 {
				var re *RenderError
				if !errors.As(err, &re) || re.Reasons[tt.field] == "" {
					t.Fatalf("Render = %v, want a refusal naming %q", err, tt.field)
				}
				if !strings.Contains(re.Reasons[tt.field], "at most") {
					t.Errorf("reason %q does not say the limit", re.Reasons[tt.field])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkRendered(t, rd, 9)
			if len(rd.Plan.Parts) != tt.parts {
				t.Fatalf("%d parts, want %d", len(rd.Plan.Parts), tt.parts)
			}
			var kb []int
			for _, p := range rd.Plan.Parts {
				n := 0
				for _, r := range p.Keyboard {
					n += len(r)
				}
				if n > 0 {
					kb = append(kb, n)
				}
			}
			if fmt.Sprint(kb) != fmt.Sprint(tt.keyboard) {
				t.Errorf("keyboards %v, want %v", kb, tt.keyboard)
			}
			// One callback per reply button, one group: the first press on
			// any page answers.
			for _, c := range rd.Callbacks {
				if c.Group != rd.Callbacks[0].Group {
					t.Fatalf("callbacks in groups %q and %q", c.Group, rd.Callbacks[0].Group)
				}
			}
		})
	}
}
