package bot_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/bot/render"
	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// buttonsPayload is a Turn reply-button message with n buttons.
func buttonsPayload(chat int64, n int) []byte {
	var bs []string
	for i := range n {
		bs = append(bs, fmt.Sprintf(`{"type":"reply","reply":{"id":"b%d","title":"Choice %d"}}`, i, i))
	}
	return []byte(`{"to":"` + strconv.FormatInt(chat, 10) + `","turn":{"type":"interactive","interactive":{"type":"button",` +
		`"body":{"text":"Pick one"},"action":{"buttons":[` + strings.Join(bs, ",") + `]}}}}`)
}

// ctaPayload is a call-to-action message linking to link.
func ctaPayload(chat int64, link string) []byte {
	p, _ := json.Marshal(map[string]string{"display_text": "Open", "url": link})
	return []byte(`{"to":"` + strconv.FormatInt(chat, 10) + `","turn":{"type":"interactive","interactive":{"type":"cta_url",` +
		`"body":{"text":"Your results"},"action":{"name":"cta_url","parameters":` + string(p) + `}}}}`)
}

// TestTurnWebhookTelegramLimits: what Telegram would refuse is never
// accepted to die later. A keyboard over one message's limits is spread
// over messages (every button still answers, once); one too large to
// choose from, or a text needing more than render.MaxParts messages, is
// refused with 400 naming the field; a link Telegram refuses as a button
// is shown as text. The strict fake refuses what Telegram refuses, so a
// wrong rendering fails the send.
func TestTurnWebhookTelegramLimits(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		// Rates are not what this test is about: ten messages to one chat
		// go at once rather than at Telegram's one a second.
		h := newHarness(t, st, harnessOpts{
			limits:     &bot.Limits{PerSecond: 1000, ChatPerSecond: 1000, ChatBurst: 100},
			fakeLimits: &telegramtest.RateLimits{Disabled: true},
		})

		t.Run("150 buttons in two messages", func(t *testing.T) {
			const chat = 8101
			id := h.sendTurnOK(buttonsPayload(chat, 150))
			h.waitStatus(t, id, turn.StatusSent)
			sent := h.tg.Sent(chat)
			if len(sent) != 2 {
				t.Fatalf("%d messages, want 2", len(sent))
			}
			var keys []string
			for i, m := range sent {
				if m.ReplyMarkup == nil {
					t.Fatalf("message %d has no keyboard", i)
				}
				n := 0
				for _, row := range m.ReplyMarkup.InlineKeyboard {
					n += len(row)
					for _, b := range row {
						keys = append(keys, b.CallbackData)
					}
				}
				if want := []int{100, 50}[i]; n != want {
					t.Errorf("message %d carries %d buttons, want %d", i, n, want)
				}
			}
			if sent[0].Text != "Pick one" {
				t.Errorf("first message %q, want the question", sent[0].Text)
			}
			if s := h.statusesOf(id); len(s) != 1 {
				t.Errorf("statuses %v, want one sent for the whole message", s)
			}
			before := len(h.turn.Messages(numberID))
			q := h.tg.PressButton(botToken, chat, sent[1].ID, keys[120])
			got := h.waitTurnMessages(t, before+1)
			m := got[len(got)-1].Message
			if m.Interactive == nil || m.Interactive.ButtonReply == nil || m.Interactive.ButtonReply.ID != "b120" {
				t.Fatalf("Turn got %+v, want the reply b120", m)
			}
			h.answered(t, q)
			// The question is answered: a button of the first page now is not.
			q2 := h.tg.PressButton(botToken, chat, sent[0].ID, keys[3])
			if text := h.answered(t, q2); text != answerAlready {
				t.Errorf("a press on the other page answered %q, want %q", text, answerAlready)
			}
			settle()
			if n := len(h.turn.Messages(numberID)); n != before+1 {
				t.Errorf("Turn got %d replies, want 1", n-before)
			}
		})

		refusals := []struct {
			name  string
			body  []byte
			field string
		}{
			{"1000 buttons", buttonsPayload(8102, 1000), "turn"},
			{"301 buttons", buttonsPayload(8102, 301), "turn"},
			{"a text of 11 messages", textPayload(8102, strings.Repeat("A sentence of the reminder. ", 11*4096/28+1)), "turn"},
			{"a 1000-row list", func() []byte {
				var rows []string
				for i := range 1000 {
					rows = append(rows, fmt.Sprintf(`{"id":"r%d","title":"Row %d"}`, i, i))
				}
				return []byte(`{"to":"8102","turn":{"type":"interactive","interactive":{"type":"list","body":{"text":"Pick"},` +
					`"action":{"button":"Rows","sections":[{"title":"All","rows":[` + strings.Join(rows, ",") + `]}]}}}}`)
			}(), "turn"},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				resp, answer := h.sendTurn(r.body)
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", resp.StatusCode, answer)
				}
				var e struct {
					Errors map[string][]string `json:"errors"`
				}
				if err := json.Unmarshal(answer, &e); err != nil || len(e.Errors[r.field]) == 0 || !strings.Contains(e.Errors[r.field][0], "at most") {
					t.Errorf("answer %s does not name %q and the limit", answer, r.field)
				}
			})
		}
		settle()
		if n := h.sendAttempts(8102); n != 0 {
			t.Errorf("refused messages reached Telegram: %d calls", n)
		}
		for _, j := range h.jobs(store.KindOutbound, "") {
			if strings.Contains(j.Lane, "8102") {
				t.Errorf("a refused message was stored: %+v", j)
			}
		}

		t.Run("ten messages of text are sent", func(t *testing.T) {
			const chat = 8103
			id := h.sendTurnOK(textPayload(chat, strings.Repeat("A sentence of the reminder. ", 9*4096/28)))
			h.waitStatus(t, id, turn.StatusSent)
			if n := len(h.tg.Sent(chat)); n < 9 || n > render.MaxParts {
				t.Errorf("%d messages, want 9 or 10", n)
			}
		})

		links := []struct {
			link   string
			button bool
		}{
			{"https://clinic.example.org/results?id=7", true},
			{"http://localhost/x", false},
			{"https://clinic.example.org/a b", false},
		}
		for i, l := range links {
			t.Run("cta "+l.link, func(t *testing.T) {
				chat := int64(8110 + i)
				id := h.sendTurnOK(ctaPayload(chat, l.link))
				h.waitStatus(t, id, turn.StatusSent)
				sent := h.tg.Sent(chat)
				if len(sent) != 1 {
					t.Fatalf("%d messages, want 1", len(sent))
				}
				m := sent[0]
				if l.button {
					if m.ReplyMarkup == nil || m.ReplyMarkup.InlineKeyboard[0][0].URL != l.link {
						t.Errorf("message %+v, want a url button to %s", m, l.link)
					}
					return
				}
				if m.ReplyMarkup != nil || !strings.Contains(m.Text, l.link) {
					t.Errorf("message %q with markup %+v, want the link as text and no button", m.Text, m.ReplyMarkup)
				}
			})
		}
	})
}
