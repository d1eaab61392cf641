package telegramtest_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

// Every refusal of sendMessage, with Telegram's error shape.
func TestSendMessageRejections(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	button := func(fields string) string { return `{"inline_keyboard":[[{"text":"B",` + fields + `}]]}` }
	tests := []struct {
		name   string
		fields map[string]string
		desc   string
	}{
		{"no chat_id", map[string]string{"text": "x"}, "Bad Request: chat_id is empty"},
		{"chat by username", map[string]string{"chat_id": "@someone", "text": "x"}, "Bad Request: chat not found"},
		{"no text", map[string]string{"chat_id": "1"}, "Bad Request: message text is empty"},
		{"blank text", map[string]string{"chat_id": "1", "text": " \n "}, "Bad Request: message text is empty"},
		{"4097 characters", map[string]string{"chat_id": "1", "text": strings.Repeat("a", 4097)}, "Bad Request: message is too long"},
		{"4096 characters counted in UTF-16", map[string]string{"chat_id": "1", "text": strings.Repeat("😀", 2048) + "a"}, "Bad Request: message is too long"},
		{"not UTF-8", map[string]string{"chat_id": "1", "text": "\xff"}, "Bad Request: strings must be encoded in UTF-8"},
		{"entities not JSON", map[string]string{"chat_id": "1", "text": "x", "entities": "bold"}, "Bad Request: can't parse entities: "},
		{"entities not an array", map[string]string{"chat_id": "1", "text": "x", "entities": `{"type":"bold","offset":0,"length":1}`}, "Bad Request: can't parse entities: "},
		{"entity type unknown", map[string]string{"chat_id": "1", "text": "x", "entities": `[{"type":"blink","offset":0,"length":1}]`}, "Bad Request: can't parse entities: "},
		{"entity offset negative", map[string]string{"chat_id": "1", "text": "x", "entities": `[{"type":"bold","offset":-1,"length":1}]`}, "Bad Request: can't parse entities: "},
		{"entity length zero", map[string]string{"chat_id": "1", "text": "x", "entities": `[{"type":"bold","offset":0,"length":0}]`}, "Bad Request: can't parse entities: "},
		{"entity past the end", map[string]string{"chat_id": "1", "text": "abc", "entities": `[{"type":"bold","offset":1,"length":3}]`}, "Bad Request: can't parse entities: "},
		{"entity past the end in UTF-16", map[string]string{"chat_id": "1", "text": "😀", "entities": `[{"type":"bold","offset":0,"length":3}]`}, "Bad Request: can't parse entities: "},
		{"text_link without url", map[string]string{"chat_id": "1", "text": "x", "entities": `[{"type":"text_link","offset":0,"length":1}]`}, "Bad Request: can't parse entities: "},
		{"custom_emoji without id", map[string]string{"chat_id": "1", "text": "x", "entities": `[{"type":"custom_emoji","offset":0,"length":1}]`}, "Bad Request: can't parse entities: "},
		{"pre language not a string", map[string]string{"chat_id": "1", "text": "x", "entities": `[{"type":"pre","offset":0,"length":1,"language":1}]`}, "Bad Request: can't parse entities: "},
		{"markup not JSON", map[string]string{"chat_id": "1", "text": "x", "reply_markup": "{"}, "Bad Request: can't parse reply keyboard markup JSON object"},
		{"markup not an object", map[string]string{"chat_id": "1", "text": "x", "reply_markup": "[]"}, "Bad Request: object expected as reply markup"},
		{"inline_keyboard not rows", map[string]string{"chat_id": "1", "text": "x", "reply_markup": `{"inline_keyboard":[{"text":"B","callback_data":"b"}]}`}, `Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays`},
		{"button without text", map[string]string{"chat_id": "1", "text": "x", "reply_markup": `{"inline_keyboard":[[{"callback_data":"b"}]]}`}, "Bad Request: can't parse inline keyboard button: "},
		{"button with empty text", map[string]string{"chat_id": "1", "text": "x", "reply_markup": `{"inline_keyboard":[[{"text":"","callback_data":"b"}]]}`}, "Bad Request: can't parse inline keyboard button: "},
		{"button without action", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"url":""`)}, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
		{"button with two actions", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"url":"https://example.com","callback_data":"b"`)}, "Bad Request: can't parse inline keyboard button: exactly one"},
		{"callback_data of 65 bytes", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"callback_data":"` + strings.Repeat("a", 65) + `"`)}, "Bad Request: BUTTON_DATA_INVALID"},
		{"callback_data of 33 two-byte characters", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"callback_data":"` + strings.Repeat("é", 33) + `"`)}, "Bad Request: BUTTON_DATA_INVALID"},
		{"empty copy_text", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"callback_data":"b","copy_text":{"text":""}`)}, "Bad Request: BUTTON_COPY_TEXT_INVALID"},
		{"copy_text too long", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"copy_text":{"text":"` + strings.Repeat("c", 257) + `"}`)}, "Bad Request: BUTTON_COPY_TEXT_INVALID"},
		{"button url not a URL", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"url":"not a url"`)}, "Bad Request: BUTTON_URL_INVALID"},
		{"button url to localhost", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"url":"http://localhost:8080/x"`)}, "Bad Request: BUTTON_URL_INVALID"},
		{"button url of another scheme", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"url":"ftp://example.com/x"`)}, "Bad Request: BUTTON_URL_INVALID"},
		{"web_app over http", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"web_app":{"url":"http://example.com"}`)}, "Bad Request: inline keyboard button Web App URL"},
		{"button url with a space", map[string]string{"chat_id": "1", "text": "x", "reply_markup": button(`"url":"https://example.com/a b"`)}, "Bad Request: BUTTON_URL_INVALID"},
		{"9 buttons in a row", map[string]string{"chat_id": "1", "text": "x", "reply_markup": `{"inline_keyboard":[[` + strings.Repeat(`{"text":"B","callback_data":"b"},`, 8) + `{"text":"B","callback_data":"b"}]]}`}, "Bad Request: reply markup is too long"},
		{"over 100 buttons", map[string]string{"chat_id": "1", "text": "x", "reply_markup": `{"inline_keyboard":[` + strings.Repeat(`[{"text":"B","callback_data":"b"}],`, 100) + `[{"text":"B","callback_data":"b"}]]}`}, "Bad Request: reply markup is too long"},
		{"reply keyboard not rows", map[string]string{"chat_id": "1", "text": "x", "reply_markup": `{"keyboard":["a"]}`}, `Bad Request: field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays`},
		{"reply keyboard button", map[string]string{"chat_id": "1", "text": "x", "reply_markup": `{"keyboard":[[7]]}`}, "Bad Request: can't parse keyboard button: "},
		{"remove_keyboard not boolean", map[string]string{"chat_id": "1", "text": "x", "reply_markup": `{"remove_keyboard":"yes"}`}, `Bad Request: field "remove_keyboard" of the reply markup must be of type Boolean`},
		{"reply to a missing message", map[string]string{"chat_id": "1", "text": "x", "reply_parameters": `{"message_id":99}`}, "Bad Request: message to be replied not found"},
		{"custom_emoji id not numeric", map[string]string{"chat_id": "1", "text": "x", "entities": `[{"type":"custom_emoji","offset":0,"length":1,"custom_emoji_id":"abc"}]`}, "Bad Request: can't parse entities: "},
		{"link preview options not an object", map[string]string{"chat_id": "1", "text": "x", "link_preview_options": "[]"}, "Bad Request: object expected as link preview options"},
		{"link preview options not JSON", map[string]string{"chat_id": "1", "text": "x", "link_preview_options": "off"}, "Bad Request: can't parse link preview options JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, send(t, srv, tt.fields), 400, tt.desc)
		})
	}
	if n := len(srv.Sent(1)); n != 0 {
		t.Errorf("refused messages were stored: %d", n)
	}
}

// What Telegram accepts, and the message it answers with.
func TestSendMessageAccepted(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	tests := []struct {
		name     string
		fields   map[string]string
		text     string
		entities []models.MessageEntity
		keyboard bool
	}{
		{"4096 UTF-16 units", map[string]string{"text": strings.Repeat("😀", 2048)}, strings.Repeat("😀", 2048), nil, false},
		{"entities in UTF-16", map[string]string{"text": "😀 bold", "entities": `[{"type":"bold","offset":3,"length":4}]`}, "😀 bold",
			[]models.MessageEntity{{Type: "bold", Offset: 3, Length: 4}}, false},
		{"callback_data of 64 bytes", map[string]string{"text": "x", "reply_markup": inlineKeyboard("B", strings.Repeat("é", 32))}, "x", nil, true},
		{"every inline action", map[string]string{"text": "x", "reply_markup": `{"inline_keyboard":[
			[{"text":"u","url":"https://example.com"},{"text":"c","callback_data":"c"}],
			[{"text":"w","web_app":{"url":"https://example.com/app"}},{"text":"l","login_url":{"url":"https://example.com/login"}}],
			[{"text":"s","switch_inline_query":""},{"text":"s","switch_inline_query_current_chat":"q"},{"text":"s","switch_inline_query_chosen_chat":{"allow_user_chats":true}}],
			[{"text":"copy","copy_text":{"text":"code"}},{"text":"pay","pay":true},{"text":"g","callback_game":{}}]]}`}, "x", nil, true},
		{"urls without scheme", map[string]string{"text": "site", "entities": `[{"type":"text_link","offset":0,"length":4,"url":"www.example.com"}]`,
			"reply_markup": `{"inline_keyboard":[[{"text":"Go","url":"example.com/page"}]]}`}, "site",
			[]models.MessageEntity{{Type: "text_link", Offset: 0, Length: 4, URL: "www.example.com"}}, true},
		{"reply keyboard", map[string]string{"text": "x", "reply_markup": `{"keyboard":[["Yes",{"text":"No"}],[{"text":"Phone","request_contact":true}]],"resize_keyboard":true,"one_time_keyboard":true}`}, "x", nil, false},
		{"remove keyboard", map[string]string{"text": "x", "reply_markup": `{"remove_keyboard":true}`}, "x", nil, false},
		{"force reply", map[string]string{"text": "x", "reply_markup": `{"force_reply":true,"input_field_placeholder":"Answer"}`}, "x", nil, false},
		{"missing reply allowed", map[string]string{"text": "x", "reply_parameters": `{"message_id":99,"allow_sending_without_reply":true}`}, "x", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fields["chat_id"] = "4242"
			m := send(t, srv, tt.fields).message(t)
			if m.Text != tt.text {
				t.Errorf("text = %q, want %q", m.Text, tt.text)
			}
			if len(m.Entities) != len(tt.entities) || (len(tt.entities) > 0 && m.Entities[0] != tt.entities[0]) {
				t.Errorf("entities = %+v, want %+v", m.Entities, tt.entities)
			}
			if (m.ReplyMarkup != nil) != tt.keyboard {
				t.Errorf("reply_markup = %+v, want inline keyboard: %v", m.ReplyMarkup, tt.keyboard)
			}
			if m.From == nil || !m.From.IsBot || m.From.Username != "test_bot" || m.Chat.ID != chat || m.Chat.Type != "private" || m.Date == 0 {
				t.Errorf("message = %+v", m)
			}
		})
	}
}

func TestMessageIDsPerChat(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "Lee", "hello")) // message 1 of the chat
	var ids []int
	for _, c := range []int64{chat, chat, -100, chat, -100} {
		ids = append(ids, send(t, srv, map[string]string{"chat_id": strconv.FormatInt(c, 10), "text": "x"}).message(t).ID)
	}
	if want := []int{2, 3, 1, 4, 2}; !slices.Equal(ids, want) {
		t.Errorf("message ids = %v, want %v", ids, want)
	}
	// Other bots have their own dialog with the same user.
	a := callForm(t, srv, otherToken, "sendMessage", map[string]string{"chat_id": "4242", "text": "x"}, nil)
	if id := a.message(t).ID; id != 1 {
		t.Errorf("other bot's first message id = %d, want 1", id)
	}
	sent := srv.SentBy(token, chat)
	if len(sent) != 3 || sent[0].Chat.FirstName != "Ann" {
		t.Errorf("SentBy = %+v", sent)
	}
	if n := len(srv.Sent(chat)); n != 4 {
		t.Errorf("Sent(chat) counts every bot: %d, want 4", n)
	}
	if g := srv.Sent(-100); len(g) != 2 || g[0].Chat.Type != "group" {
		t.Errorf("group messages = %+v", g)
	}
	// A reply carries the message replied to.
	m := send(t, srv, map[string]string{"chat_id": "4242", "text": "re", "reply_parameters": `{"message_id":1}`}).message(t)
	if m.ReplyToMessage == nil || m.ReplyToMessage.Text != "hello" {
		t.Errorf("reply_to_message = %+v", m.ReplyToMessage)
	}
}

func TestChatStates(t *testing.T) {
	srv := newServer(t)
	srv.Block(1)
	srv.Deactivate(2)
	srv.ChatNotFound(3)
	srv.Block(-4)
	tests := []struct {
		chat int64
		code int
		desc string
	}{
		{1, 403, "Forbidden: bot was blocked by the user"},
		{2, 403, "Forbidden: user is deactivated"},
		{3, 400, "Bad Request: chat not found"},
		{-4, 403, "Forbidden: bot was kicked from the group chat"},
	}
	client := newClient(t, srv, token)
	for _, tt := range tests {
		t.Run(strconv.FormatInt(tt.chat, 10), func(t *testing.T) {
			id := strconv.FormatInt(tt.chat, 10)
			wantError(t, send(t, srv, map[string]string{"chat_id": id, "text": "x"}), tt.code, tt.desc)
			wantError(t, callForm(t, srv, token, "sendChatAction", map[string]string{"chat_id": id, "action": "typing"}, nil), tt.code, tt.desc)
			_, err := client.SendMessage(ctxT(t), &tgbot.SendMessageParams{ChatID: tt.chat, Text: "x"})
			want := tgbot.ErrorForbidden
			if tt.code == 400 {
				want = tgbot.ErrorBadRequest
			}
			if !errors.Is(err, want) || !strings.Contains(err.Error(), tt.desc[strings.Index(tt.desc, ": ")+2:]) {
				t.Errorf("client err = %v", err)
			}
		})
	}
	srv.Unblock(1)
	if a := send(t, srv, map[string]string{"chat_id": "1", "text": "x"}); !a.OK {
		t.Errorf("after Unblock: %s", a.Description)
	}
}

// go-telegram/bot serialises every InlineKeyboardButton with
// "copy_text":{"text":""}; the fake refuses it, as the Bot API defines it.
func TestGoTelegramDefaultButtonRefused(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv, token)
	_, err := client.SendMessage(ctxT(t), &tgbot.SendMessageParams{
		ChatID: chat,
		Text:   "Pick one",
		ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
			{{Text: "Yes", CallbackData: "yes"}},
		}},
	})
	if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "BUTTON_COPY_TEXT_INVALID") {
		t.Fatalf("err = %v, want Bad Request: BUTTON_COPY_TEXT_INVALID", err)
	}
	calls := srv.CallsTo("sendMessage")
	if len(calls) != 1 || !strings.Contains(calls[0].Params["reply_markup"], `"copy_text":{"text":""}`) {
		t.Fatalf("recorded reply_markup = %+v", calls)
	}

	// The same keyboard without the empty copy_text goes through.
	m, err := client.SendMessage(ctxT(t), &tgbot.SendMessageParams{
		ChatID:      chat,
		Text:        "Pick one",
		ReplyMarkup: map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "Yes", "callback_data": "yes"}}}},
		Entities:    []models.MessageEntity{{Type: models.MessageEntityTypeBold, Offset: 0, Length: 4}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ReplyMarkup == nil || m.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "yes" || len(m.Entities) != 1 {
		t.Errorf("message = %+v", m)
	}
	if _, err := srv.WaitSent(ctxT(t), chat, 1); err != nil {
		t.Error(err)
	}
}

func TestSendChatAction(t *testing.T) {
	srv := newServer(t)
	ok, err := newClient(t, srv, token).SendChatAction(ctxT(t), &tgbot.SendChatActionParams{ChatID: chat, Action: models.ChatActionTyping})
	if err != nil || !ok {
		t.Fatalf("sendChatAction = %v, %v", ok, err)
	}
	wantError(t, callForm(t, srv, token, "sendChatAction", map[string]string{"chat_id": "1", "action": "dancing"}, nil), 400, "Bad Request: wrong parameter action in request")
}

func TestSetMyCommands(t *testing.T) {
	srv := newServer(t)
	client := newClient(t, srv, token)
	cmds := []models.BotCommand{{Command: "start", Description: "Start over"}, {Command: "help_me", Description: "Help"}}
	if ok, err := client.SetMyCommands(ctxT(t), &tgbot.SetMyCommandsParams{Commands: cmds}); err != nil || !ok {
		t.Fatalf("setMyCommands = %v, %v", ok, err)
	}
	if got := srv.Commands(token); len(got) != 2 || got[1].Command != "help_me" {
		t.Errorf("Commands = %+v", got)
	}
	for name, bad := range map[string]string{
		"upper case":    `[{"command":"Start","description":"x"}]`,
		"too long":      `[{"command":"` + strings.Repeat("a", 33) + `","description":"x"}]`,
		"no desc":       `[{"command":"start","description":""}]`,
		"not an array":  `{"command":"start"}`,
		"slash command": `[{"command":"/start","description":"x"}]`,
	} {
		if a := callForm(t, srv, token, "setMyCommands", map[string]string{"commands": bad}, nil); a.OK || a.ErrorCode != 400 {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
}
