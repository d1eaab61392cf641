package telegramtest_test

import (
	"strconv"
	"testing"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

// parse_mode is refused on every method, whatever its value and whether or
// not entities come with it: the service formats with entities only.
func TestParseModeRefused(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	sent := send(t, srv, map[string]string{"chat_id": "4242", "text": "Pick"}).message(t)
	voice := callForm(t, srv, token, "sendVoice", map[string]string{"chat_id": "4242"},
		map[string]telegramtest.Upload{"voice": {Filename: "v.ogg", Data: []byte("OggS voice")}}).message(t).Voice.FileID
	id := strconv.Itoa(sent.ID)
	tests := []struct {
		name   string
		method string
		fields map[string]string
	}{
		{"sendMessage HTML", "sendMessage", map[string]string{"text": "<b>x</b>", "parse_mode": "HTML"}},
		{"sendMessage MarkdownV2", "sendMessage", map[string]string{"text": "*x*", "parse_mode": "MarkdownV2"}},
		{"sendMessage Markdown", "sendMessage", map[string]string{"text": "*x*", "parse_mode": "Markdown"}},
		{"sendMessage unknown mode", "sendMessage", map[string]string{"text": "x", "parse_mode": "Markdown2"}},
		{"sendMessage with valid entities", "sendMessage", map[string]string{"text": "x", "parse_mode": "HTML", "entities": `[{"type":"bold","offset":0,"length":1}]`}},
		{"sendMessage plain text", "sendMessage", map[string]string{"text": "no markup at all", "parse_mode": "HTML"}},
		{"sendVoice caption", "sendVoice", map[string]string{"voice": voice, "caption": "<i>note</i>", "parse_mode": "HTML"}},
		{"sendVoice without caption", "sendVoice", map[string]string{"voice": voice, "parse_mode": "HTML"}},
		{"sendDocument caption", "sendDocument", map[string]string{"document": "https://example.com/a.pdf", "caption": "*a*", "parse_mode": "MarkdownV2"}},
		{"sendPhoto caption", "sendPhoto", map[string]string{"photo": "https://example.com/a.jpg", "caption": "a", "parse_mode": "HTML"}},
		{"editMessageText", "editMessageText", map[string]string{"message_id": id, "text": "<b>Picked</b>", "parse_mode": "HTML"}},
		{"a method without text", "editMessageReplyMarkup", map[string]string{"message_id": id, "parse_mode": "HTML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fields["chat_id"] = "4242"
			a := callForm(t, srv, token, tt.method, tt.fields, nil)
			wantError(t, a, 400, "Bad Request: parse_mode "+strconv.Quote(tt.fields["parse_mode"])+" refused: telegramtest takes formatting as entities or caption_entities only")
		})
	}
	if n := len(srv.Sent(chat)); n != 2 {
		t.Errorf("%d messages stored, want the 2 sent without parse_mode", n)
	}
	if m, _ := srv.Message(token, chat, sent.ID); m.Text != "Pick" {
		t.Errorf("edit with parse_mode changed the message: %q", m.Text)
	}
	// The refusal is recorded like any other, so a test can find the call.
	if calls := srv.CallsTo("editMessageText"); len(calls) != 1 || calls[0].Status != 400 {
		t.Errorf("editMessageText calls = %+v, want one refused", calls)
	}
}
