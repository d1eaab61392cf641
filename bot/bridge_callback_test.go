package bot_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// Answers a press gets besides the silent acknowledgement of a first press.
const (
	answerAlready  = "You have already answered this."
	answerInactive = "This button is no longer active."
)

// sentKeyboard sends a Turn message to chat and returns its connector id,
// the Telegram message carrying the keyboard, and the keyboard's buttons.
func (h *harness) sentKeyboard(t *testing.T, body []byte, chat int64) (string, models.Message, []models.InlineKeyboardButton) {
	t.Helper()
	id := h.sendTurnOK(body)
	h.waitStatus(t, id, turn.StatusSent)
	for _, m := range h.tg.Sent(chat) {
		if m.ReplyMarkup == nil {
			continue
		}
		var buttons []models.InlineKeyboardButton
		for _, row := range m.ReplyMarkup.InlineKeyboard {
			buttons = append(buttons, row...)
		}
		return id, m, buttons
	}
	t.Fatalf("no message with a keyboard was sent to chat %d", chat)
	return "", models.Message{}, nil
}

// answered waits for the bot to answer a callback query, returning its text.
func (h *harness) answered(t *testing.T, queryID string) string {
	t.Helper()
	var text string
	eventually(t, "answerCallbackQuery", func() bool {
		var ok bool
		text, ok = h.tg.Answered(queryID)
		return ok
	})
	return text
}

// TestButtonRoundTrip: a press on a button sent for Turn reaches Turn as the
// reply WhatsApp would send (with Turn's own ids and the message it answers
// as context), is acknowledged, and replaces the keyboard with the choice;
// pressing again is answered politely and sends Turn nothing more.
func TestButtonRoundTrip(t *testing.T) {
	t.Parallel()
	listWithDescriptions := []byte(`{"to":"CHAT","version":"0.0.1-alpha","context":null,"turn":{"type":"interactive","interactive":{"type":"list",
		"body":{"text":"Which clinic suits you?"},"action":{"button":"Clinics","sections":[{"title":"Cape Town","rows":[
		{"id":"clinic-ct-1","title":"Bree Street","description":"Open 8-17"},
		{"id":"clinic-ct-2","title":"Long Street","description":"Open 9-18, Saturdays too"}]}]}}}}`)
	cases := []struct {
		name    string
		fixture string // a payload file, or "" for body
		body    []byte
		press   int // which button
		check   func(t *testing.T, m turn.InboundMessage)
		chosen  string
	}{
		{name: "spec quick reply buttons", fixture: "../turn/testdata/outbound/interactive_button.json", press: 1,
			check: buttonReply("QmxhY2sgVGVh", "Black Tea"), chosen: "Black Tea"},
		{name: "spec list", fixture: "../turn/testdata/outbound/interactive_list.json", press: 0,
			check: listReply("8J+YgCBPbmU=", "😀 One", ""), chosen: "😀 One"},
		{name: "list with descriptions", body: listWithDescriptions, press: 1,
			check: listReply("clinic-ct-2", "Long Street", "Open 9-18, Saturdays too"), chosen: "Long Street"},
		{name: "spec template quick reply", fixture: "../turn/testdata/outbound/template.json", press: 1,
			check: templateReply("No", "No"), chosen: "No"},
		{name: "template with payloads", fixture: "testdata/outbound/template_full.json", press: 0,
			check: templateReply("CONFIRM_4711", "Confirm"), chosen: "Confirm"},
		{name: "id longer than callback_data allows, on a photo", fixture: "testdata/outbound/button_image_header.json", press: 0,
			check:  buttonReply("b3JkZXI6Y29mZmVlOmxhcmdlOm9hdC1taWxrOmV4dHJhLXNob3Q6bm8tc3VnYXI6dGFrZWF3YXk6cGxlYXNlLWJlLXF1aWNr", "Coffee ☕"),
			chosen: "Coffee ☕"},
		{name: "FLOIP choices", fixture: "testdata/outbound/block_only.json", press: 1,
			check: buttonReply("okay", "Okay"), chosen: "Okay"},
	}
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				chat := int64(9700 + i)
				body := c.body
				if c.fixture != "" {
					body = h.outboundFixture(t, c.fixture, chat)
				} else {
					body = []byte(strings.Replace(string(body), "CHAT", strconv.FormatInt(chat, 10), 1))
				}
				id, msg, buttons := h.sentKeyboard(t, body, chat)
				if c.press >= len(buttons) {
					t.Fatalf("%d buttons", len(buttons))
				}
				key := buttons[c.press].CallbackData
				before := len(h.turn.Messages(numberID))
				sends := len(h.sendCalls(chat))

				q := h.tg.PressButton(botToken, chat, msg.ID, key)
				got := h.waitTurnMessages(t, before+1)
				m := got[len(got)-1].Message
				if m.From != strconv.FormatInt(chat, 10) || got[len(got)-1].Contact.ID != m.From {
					t.Errorf("from %q contact %q, want the chat", m.From, got[len(got)-1].Contact.ID)
				}
				if m.Context == nil || m.Context.ID != id {
					t.Errorf("context %+v, want the connector id %s of the message pressed", m.Context, id)
				}
				if !strings.HasPrefix(m.ID, "tg:") || m.Timestamp == "" {
					t.Errorf("id %q timestamp %q", m.ID, m.Timestamp)
				}
				c.check(t, m)
				if text := h.answered(t, q); text != "" {
					t.Errorf("first press answered %q, want a silent acknowledgement", text)
				}
				// The keyboard now shows the choice, and only it.
				eventually(t, "the keyboard to be replaced", func() bool { return len(h.editCalls(chat)) == 1 })
				wantKB := canonJSON(t, `{"inline_keyboard":[[{"text":"✅ `+c.chosen+`","callback_data":"`+key+`"}]]}`)
				if got := canonJSON(t, h.editCalls(chat)[0].Params["reply_markup"]); got != wantKB {
					t.Errorf("edited reply_markup %s, want %s", got, wantKB)
				}
				now, ok := h.tg.Message(botToken, chat, msg.ID)
				if !ok || now.ReplyMarkup == nil || len(now.ReplyMarkup.InlineKeyboard) != 1 ||
					len(now.ReplyMarkup.InlineKeyboard[0]) != 1 || now.ReplyMarkup.InlineKeyboard[0][0].Text != "✅ "+c.chosen {
					t.Errorf("message now %+v", now.ReplyMarkup)
				}

				// Pressing again (the choice, or another button of the old
				// keyboard on a client that has not refreshed) changes nothing.
				for _, again := range []string{key, buttons[(c.press+1)%len(buttons)].CallbackData} {
					q2 := h.tg.PressButton(botToken, chat, msg.ID, again)
					if text := h.answered(t, q2); text != answerAlready {
						t.Errorf("second press answered %q, want %q", text, answerAlready)
					}
				}
				settle()
				if n := len(h.turn.Messages(numberID)); n != before+1 {
					t.Errorf("Turn received %d messages for one choice", n-before)
				}
				if n := len(h.editCalls(chat)); n != 1 {
					t.Errorf("%d keyboard edits, want 1", n)
				}
				if n := len(h.sendCalls(chat)); n != sends {
					t.Errorf("%d messages sent to the chat for its presses", n-sends)
				}
			})
		}
	})
}

func buttonReply(id, title string) func(t *testing.T, m turn.InboundMessage) {
	return func(t *testing.T, m turn.InboundMessage) {
		t.Helper()
		want := &turn.InteractiveReply{Type: "button_reply", ButtonReply: &turn.ReplyItem{ID: id, Title: title}}
		if m.Type != turn.TypeInteractive || !sameJSON(m.Interactive, want) || m.Button != nil {
			t.Errorf("got %s %s, want interactive %s", m.Type, mustJSON(m.Interactive), mustJSON(want))
		}
	}
}

func listReply(id, title, description string) func(t *testing.T, m turn.InboundMessage) {
	return func(t *testing.T, m turn.InboundMessage) {
		t.Helper()
		want := &turn.InteractiveReply{Type: "list_reply", ListReply: &turn.ReplyItem{ID: id, Title: title, Description: description}}
		if m.Type != turn.TypeInteractive || !sameJSON(m.Interactive, want) || m.Button != nil {
			t.Errorf("got %s %s, want interactive %s", m.Type, mustJSON(m.Interactive), mustJSON(want))
		}
	}
}

func templateReply(payload, text string) func(t *testing.T, m turn.InboundMessage) {
	return func(t *testing.T, m turn.InboundMessage) {
		t.Helper()
		want := &turn.ButtonReply{Payload: payload, Text: text}
		if m.Type != turn.TypeButton || !sameJSON(m.Button, want) || m.Interactive != nil {
			t.Errorf("got %s %s, want button %s", m.Type, mustJSON(m.Button), mustJSON(want))
		}
	}
}

func sameJSON(a, b any) bool { return string(mustJSON(a)) == string(mustJSON(b)) }

// editCalls are the accepted editMessageReplyMarkup calls in a chat.
func (h *harness) editCalls(chat int64) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range h.tg.CallsTo("editMessageReplyMarkup") {
		if c.Status == 200 && c.Params["chat_id"] == strconv.FormatInt(chat, 10) {
			out = append(out, c)
		}
	}
	return out
}

// TestButtonPressRefused: a press whose key the connector never gave (an
// old client, a forged callback_data) is answered politely and sends Turn
// nothing; the real keyboard still works afterwards.
func TestButtonPressRefused(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		id, msg, buttons := h.sentKeyboard(t, h.outboundFixture(t, "../turn/testdata/outbound/interactive_button.json", chatID), chatID)
		for _, c := range []struct {
			name string
			data string
		}{
			{"unknown key", "not-a-key-the-connector-gave"},
			{"one-byte key", "x"},
			{"Turn's own id instead of the key", "QmxhY2sgQ29mZmVl"},
		} {
			t.Run(c.name, func(t *testing.T) {
				q := h.tg.PressButton(botToken, chatID, msg.ID, c.data)
				if text := h.answered(t, q); text != answerInactive {
					t.Errorf("answered %q, want %q", text, answerInactive)
				}
			})
		}
		settle()
		if n := len(h.turn.Messages(numberID)); n != 0 {
			t.Fatalf("Turn received %d messages for refused presses: %+v", n, h.turn.Messages(numberID))
		}
		if n := len(h.tg.CallsTo("editMessageReplyMarkup")); n != 0 {
			t.Errorf("%d keyboards edited for refused presses", n)
		}
		q := h.tg.PressButton(botToken, chatID, msg.ID, buttons[0].CallbackData)
		got := h.waitTurnMessages(t, 1)
		buttonReply("QmxhY2sgQ29mZmVl", "Black Coffee")(t, got[0].Message)
		if got[0].Message.Context == nil || got[0].Message.Context.ID != id {
			t.Errorf("context %+v, want %s", got[0].Message.Context, id)
		}
		if text := h.answered(t, q); text != "" {
			t.Errorf("answered %q", text)
		}
	})
}

// TestButtonPressFromAnotherChat: a key pressed in a chat it was not sent
// to is refused politely, sends Turn nothing, and leaves the keyboard usable
// in its own chat.
func TestButtonPressFromAnotherChat(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		other := chatID + 1
		id, msg, buttons := h.sentKeyboard(t, h.outboundFixture(t, "../turn/testdata/outbound/interactive_button.json", chatID), chatID)
		_, otherMsg, _ := h.sentKeyboard(t, textPayloadWithButton(other), other)
		q := h.tg.PressButton(botToken, other, otherMsg.ID, buttons[0].CallbackData)
		if text := h.answered(t, q); text != answerInactive {
			t.Errorf("answered %q, want %q", text, answerInactive)
		}
		settle()
		if n := len(h.turn.Messages(numberID)); n != 0 {
			t.Fatalf("Turn received %d messages for a press from another chat", n)
		}
		if n := len(h.tg.CallsTo("editMessageReplyMarkup")); n != 0 {
			t.Errorf("%d keyboards edited for a refused press", n)
		}
		q = h.tg.PressButton(botToken, chatID, msg.ID, buttons[0].CallbackData)
		got := h.waitTurnMessages(t, 1)
		buttonReply("QmxhY2sgQ29mZmVl", "Black Coffee")(t, got[0].Message)
		if got[0].Message.Context == nil || got[0].Message.Context.ID != id {
			t.Errorf("context %+v, want %s", got[0].Message.Context, id)
		}
		if text := h.answered(t, q); text != "" {
			t.Errorf("answered %q", text)
		}
	})
}

// textPayloadWithButton is a one-button Turn message to chat.
func textPayloadWithButton(chat int64) []byte {
	return []byte(`{"to":"` + strconv.FormatInt(chat, 10) + `","turn":{"type":"interactive","interactive":{"type":"button",` +
		`"body":{"text":"Ready?"},"action":{"buttons":[{"type":"reply","reply":{"id":"ready","title":"Ready"}}]}}}}`)
}

// TestCallbackUpdateDeliveredTwice: Telegram redelivering the same press
// (same update_id) reaches Turn once and is answered once.
func TestCallbackUpdateDeliveredTwice(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		fs := &faultyStore{Store: st}
		h := newHarness(t, fs, harnessOpts{unpaced: true})
		_, msg, buttons := h.sentKeyboard(t, h.outboundFixture(t, "../turn/testdata/outbound/interactive_button.json", chatID), chatID)
		q := h.tg.PressButton(botToken, chatID, msg.ID, buttons[0].CallbackData)
		var raw []byte
		eventually(t, "the press to be stored", func() bool {
			for _, j := range fs.enqueuedJobs(store.KindUpdate) {
				if strings.Contains(string(j.Payload), `"callback_query"`) {
					raw = j.Payload
					return true
				}
			}
			return false
		})
		var upd struct {
			UpdateID      int64 `json:"update_id"`
			CallbackQuery struct {
				ID string `json:"id"`
			} `json:"callback_query"`
		}
		if err := json.Unmarshal(raw, &upd); err != nil || upd.CallbackQuery.ID != q {
			t.Fatalf("stored update %s is not the press %s: %v", raw, q, err)
		}
		// Telegram delivers it again, as after a lost answer.
		if resp := h.postTelegram(raw, h.ch.WebhookSecret()); resp.StatusCode != 200 {
			t.Fatalf("redelivery answered %d", resp.StatusCode)
		}
		got := h.waitTurnMessages(t, 1)
		buttonReply("QmxhY2sgQ29mZmVl", "Black Coffee")(t, got[0].Message)
		h.answered(t, q)
		settle()
		if n := len(h.turn.Messages(numberID)); n != 1 {
			t.Errorf("Turn received %d messages for one press delivered twice", n)
		}
		answers := 0
		for _, c := range h.tg.CallsTo("answerCallbackQuery") {
			if c.Params["callback_query_id"] == q {
				answers++
			}
		}
		if answers != 1 {
			t.Errorf("%d answerCallbackQuery calls for one press, want 1", answers)
		}
		if js := h.jobs(store.KindUpdate, ""); len(js) != 1 {
			t.Errorf("%d update jobs stored for one update_id, want 1", len(js))
		}
	})
}

// TestReplyCarriesContext: a person's Telegram reply to a message sent for
// Turn carries, as context.id, the connector id Turn was given for it,
// whichever of its Telegram messages is replied to.
func TestReplyCarriesContext(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		short := h.sendTurnOK(textPayload(chatID, "How are you feeling today?"))
		long := h.sendTurnOK(textPayload(chatID, strings.Repeat("Please read all of this carefully. ", 150)))
		h.waitStatus(t, short, turn.StatusSent)
		h.waitStatus(t, long, turn.StatusSent)
		sent := h.tg.Sent(chatID)
		if len(sent) != 3 {
			t.Fatalf("%d messages sent, want 1 + 2 parts", len(sent))
		}
		cases := []struct {
			name    string
			replyTo models.Message
			want    string
		}{
			{"single message", sent[0], short},
			{"first part of a split message", sent[1], long},
			{"last part of a split message", sent[2], long},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				orig, ok := h.tg.Message(botToken, chatID, c.replyTo.ID)
				if !ok {
					t.Fatal("no such message")
				}
				h.tg.PushUpdate(botToken, telegramtest.UserMessage(chatID, "Ada", "", models.Message{
					Text: "replying", ReplyToMessage: &orig,
				}))
				got := h.waitTurnMessages(t, i+1)
				m := got[i].Message
				if m.Context == nil || m.Context.ID != c.want {
					t.Errorf("context %+v, want id %s", m.Context, c.want)
				}
				if m.Text == nil || m.Text.Body != "replying" {
					t.Errorf("text %+v", m.Text)
				}
			})
		}
		// A message that replies to nothing has no context.
		h.personWrites(t, chatID, "no reply")
		if m := h.turn.Messages(numberID); m[len(m)-1].Message.Context != nil {
			t.Errorf("context %+v on a plain message", m[len(m)-1].Message.Context)
		}
	})
}
