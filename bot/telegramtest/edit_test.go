package telegramtest_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

func TestEditRules(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "from the user")) // message 1
	kb := inlineKeyboard("Yes", "y")
	sent := send(t, srv, map[string]string{"chat_id": "4242", "text": "Pick", "reply_markup": kb}).message(t) // message 2
	photo := callForm(t, srv, token, "sendPhoto", map[string]string{"chat_id": "4242"},
		map[string]telegramtest.Upload{"photo": {Filename: "p.png", Data: pngImage(t, 10, 10)}}).message(t)
	id := strconv.Itoa(sent.ID)

	tests := []struct {
		name   string
		method string
		fields map[string]string
		desc   string // "" when accepted
	}{
		{"same text and markup", "editMessageText", map[string]string{"message_id": id, "text": "Pick", "reply_markup": kb}, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same"},
		{"same markup", "editMessageReplyMarkup", map[string]string{"message_id": id, "reply_markup": kb}, "Bad Request: message is not modified: "},
		{"unknown message", "editMessageText", map[string]string{"message_id": "99", "text": "x"}, "Bad Request: message to edit not found"},
		{"message of another chat", "editMessageText", map[string]string{"chat_id": "1", "message_id": id, "text": "x"}, "Bad Request: message to edit not found"},
		{"the user's message", "editMessageText", map[string]string{"message_id": "1", "text": "x"}, "Bad Request: message can't be edited"},
		{"a photo's text", "editMessageText", map[string]string{"message_id": strconv.Itoa(photo.ID), "text": "x"}, "Bad Request: there is no text in the message to edit"},
		{"no message_id", "editMessageText", map[string]string{"text": "x"}, "Bad Request: message identifier is not specified"},
		{"empty text", "editMessageText", map[string]string{"message_id": id, "text": ""}, "Bad Request: message text is empty"},
		{"reply keyboard", "editMessageReplyMarkup", map[string]string{"message_id": id, "reply_markup": `{"keyboard":[["a"]]}`}, "Bad Request: inline keyboard expected"},
		{"bad button", "editMessageReplyMarkup", map[string]string{"message_id": id, "reply_markup": inlineKeyboard("B", strings.Repeat("d", 65))}, "Bad Request: BUTTON_DATA_INVALID"},
		{"new text keeps the keyboard if sent", "editMessageText", map[string]string{"message_id": id, "text": "Picked", "reply_markup": kb}, ""},
		{"markup removed", "editMessageReplyMarkup", map[string]string{"message_id": id}, ""},
		{"removed again", "editMessageReplyMarkup", map[string]string{"message_id": id}, "Bad Request: message is not modified: "},
		{"same text, entities differ", "editMessageText", map[string]string{"message_id": id, "text": "Picked", "entities": `[{"type":"bold","offset":0,"length":6}]`}, ""},
		{"delete", "deleteMessage", map[string]string{"message_id": id}, ""},
		{"delete again", "deleteMessage", map[string]string{"message_id": id}, "Bad Request: message to delete not found"},
		{"edit deleted", "editMessageText", map[string]string{"message_id": id, "text": "x"}, "Bad Request: message to edit not found"},
		{"delete the user's message", "deleteMessage", map[string]string{"message_id": "1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.fields["chat_id"]; !ok {
				tt.fields["chat_id"] = "4242"
			}
			a := callForm(t, srv, token, tt.method, tt.fields, nil)
			if tt.desc == "" {
				if !a.OK {
					t.Errorf("refused: %s", a.Description)
				}
				return
			}
			wantError(t, a, 400, tt.desc)
		})
	}
}

func TestEditWithClient(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv, token)
	kb := map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "Yes", "callback_data": "y"}}}}
	m, err := client.SendMessage(ctxT(t), &tgbot.SendMessageParams{ChatID: chat, Text: "Pick", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	edited, err := client.EditMessageText(ctxT(t), &tgbot.EditMessageTextParams{ChatID: chat, MessageID: m.ID, Text: "Picked: Yes"})
	if err != nil {
		t.Fatal(err)
	}
	if edited.Text != "Picked: Yes" || edited.ReplyMarkup != nil || edited.EditDate == 0 {
		t.Errorf("edited = %+v", edited)
	}
	now, ok := srv.Message(token, chat, m.ID)
	if !ok || now.Text != "Picked: Yes" || now.ReplyMarkup != nil {
		t.Errorf("Message = %+v", now)
	}
	if sent := srv.Sent(chat); len(sent) != 1 || sent[0].Text != "Pick" || sent[0].ReplyMarkup == nil {
		t.Errorf("Sent keeps messages as sent: %+v", sent)
	}
	_, err = client.EditMessageText(ctxT(t), &tgbot.EditMessageTextParams{ChatID: chat, MessageID: m.ID, Text: "Picked: Yes"})
	if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Errorf("unchanged edit: %v", err)
	}
}

func TestButtonPressAndAnswer(t *testing.T) {
	srv := newServer(t)
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "Lee", "hi"))
	m := send(t, srv, map[string]string{"chat_id": "4242", "text": "Pick", "reply_markup": inlineKeyboard("Yes", "y")}).message(t)

	id := srv.PressButton(token, chat, m.ID, "y")
	ups := getUpdates(t, srv, map[string]string{"offset": "-1"})
	if len(ups) != 1 || ups[0].CallbackQuery == nil {
		t.Fatalf("updates = %+v", ups)
	}
	q := ups[0].CallbackQuery
	if q.ID != id || q.Data != "y" || q.From.ID != chat || q.From.FirstName != "Ann" || q.Message.Message == nil ||
		q.Message.Message.ID != m.ID || q.Message.Message.ReplyMarkup == nil || q.Message.Message.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "y" {
		t.Fatalf("callback query = %+v, message %+v", q, q.Message.Message)
	}
	a := callForm(t, srv, token, "getUpdates", nil, nil)
	if !strings.Contains(string(a.Result), `"reply_markup":{"inline_keyboard":[[{`) || strings.Contains(string(a.Result), "copy_text") {
		t.Errorf("the message in the update repeats the keyboard as sent: %s", a.Result)
	}

	if _, ok := srv.Answered(id); ok {
		t.Error("answered before answerCallbackQuery")
	}
	client := newClient(t, srv, token)
	tooLong := strings.Repeat("a", 201)
	if _, err := client.AnswerCallbackQuery(ctxT(t), &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: tooLong}); err == nil || !strings.Contains(err.Error(), "MESSAGE_TOO_LONG") {
		t.Errorf("201 characters: %v", err)
	}
	if _, err := newClient(t, srv, otherToken).AnswerCallbackQuery(ctxT(t), &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id}); err == nil ||
		!strings.Contains(err.Error(), "query is too old and response timeout expired or query ID is invalid") {
		t.Errorf("another bot answered: %v", err)
	}
	if ok, err := client.AnswerCallbackQuery(ctxT(t), &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: "Got it"}); err != nil || !ok {
		t.Fatalf("answer: %v %v", ok, err)
	}
	if text, ok := srv.Answered(id); !ok || text != "Got it" {
		t.Errorf("Answered = %q, %v", text, ok)
	}
	for name, qid := range map[string]string{"twice": id, "unknown": "123"} {
		_, err := client.AnswerCallbackQuery(ctxT(t), &tgbot.AnswerCallbackQueryParams{CallbackQueryID: qid})
		if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "query is too old and response timeout expired or query ID is invalid") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPressButtonNeedsABotMessage(t *testing.T) {
	srv := newServer(t)
	srv.PushUpdate(token, telegramtest.UserMessage(chat, "Ann", "", models.Message{Text: "mine"}))
	defer func() {
		if recover() == nil {
			t.Error("PressButton on the user's own message did not panic")
		}
	}()
	srv.PressButton(token, chat, 1, "x")
}

// PressButtonTitled presses what a person would: the newest bot message
// that, as it is now, has a callback button with the title.
func TestPressButtonTitled(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "hi")) // message 1
	kb := func(buttons string) string { return `{"inline_keyboard":[[` + buttons + `]]}` }
	sendKB := func(markup string) int {
		return send(t, srv, map[string]string{"chat_id": "4242", "text": "Pick", "reply_markup": markup}).message(t).ID
	}
	older := sendKB(kb(`{"text":"Tea","callback_data":"t1"},{"text":"Milk","callback_data":"m1"}`))
	newer := sendKB(kb(`{"text":"Tea","callback_data":"t2"}`))
	edited := sendKB(kb(`{"text":"Coffee","callback_data":"c3"}`))
	sendKB(kb(`{"text":"Site","url":"https://example.com"}`))
	deleted := sendKB(kb(`{"text":"Juice","callback_data":"j5"}`))
	for _, a := range []answer{
		callForm(t, srv, token, "editMessageReplyMarkup", map[string]string{"chat_id": "4242", "message_id": strconv.Itoa(edited)}, nil),
		callForm(t, srv, token, "deleteMessage", map[string]string{"chat_id": "4242", "message_id": strconv.Itoa(deleted)}, nil),
	} {
		if !a.OK {
			t.Fatalf("setting up: %s", a.Description)
		}
	}
	send(t, srv, map[string]string{"chat_id": "4242", "text": "no buttons"})
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "Tea")) // the user's own text is no button

	tests := []struct {
		name, token string
		chat        int64
		title       string
		message     int    // 0: no press
		data        string // the callback data pressed
	}{
		{"newest message having the title", token, chat, "Tea", newer, "t2"},
		{"older message when only it has the title", token, chat, "Milk", older, "m1"},
		{"buttons edited away", token, chat, "Coffee", 0, ""},
		{"a link button has no callback", token, chat, "Site", 0, ""},
		{"deleted message", token, chat, "Juice", 0, ""},
		{"title matched exactly", token, chat, "tea", 0, ""},
		{"another chat", token, chat + 1, "Tea", 0, ""},
		{"another bot", otherToken, chat, "Tea", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := srv.PressButtonTitled(tt.token, tt.chat, tt.title)
			if tt.message == 0 {
				if err == nil || !strings.Contains(err.Error(), strconv.Quote(tt.title)) {
					t.Fatalf("PressButtonTitled(%q) = %+v, %v; want an error naming the title", tt.title, p, err)
				}
				return
			}
			if err != nil || p.MessageID != tt.message || p.Data != tt.data || p.QueryID == "" {
				t.Fatalf("PressButtonTitled(%q) = %+v, %v; want message %d, data %q", tt.title, p, err, tt.message, tt.data)
			}
			ups := getUpdates(t, srv, map[string]string{"offset": "-1"})
			if len(ups) != 1 || ups[0].CallbackQuery == nil {
				t.Fatalf("updates = %+v", ups)
			}
			q := ups[0].CallbackQuery
			if q.ID != p.QueryID || q.Data != tt.data || q.Message.Message == nil || q.Message.Message.ID != tt.message {
				t.Errorf("callback query = %+v, want the press %+v", q, p)
			}
		})
	}
}
