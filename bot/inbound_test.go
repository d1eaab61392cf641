package bot

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
)

const amara = `"contact":{"id":"412587349","profile":{"name":"Amara Okafor"}}`

// inboundCases pairs every fixture in testdata/updates with what Route and
// convertMessage must make of it.
var inboundCases = []struct {
	fixture     string
	route       routing
	inbound     string   // exact turn.Inbound JSON when the message converts
	file        *fileRef // nil for non-media
	replyTo     int
	unsupported string // unsupportedError.Kind when conversion is refused
	tooBig      string // tooBigText, for a file over getFile's 20 MB
}{
	{
		fixture: "text",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"text","from":"412587349","id":"tg:412587349:101","timestamp":"1732475112","text":{"body":"hello"}}}`,
	},
	{
		fixture: "start_payload",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"text","from":"412587349","id":"tg:412587349:102","timestamp":"1732475120","text":{"body":"/start ref_campaign42"}}}`,
	},
	{
		fixture: "text_emoji_entities",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"text","from":"412587349","id":"tg:412587349:103","timestamp":"1732475188","text":{"body":"Hi 👋 I need help with order #A1234, see https://shop.example.com/orders/A1234 🙏"}}}`,
	},
	{
		fixture: "photo_caption",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"image","from":"412587349","id":"tg:412587349:104","timestamp":"1732475230","image":{"id":"AQADscIxG2ZNIVJ-","mime_type":"image/jpeg","caption":"My receipt 🧾"}}}`,
		file:    &fileRef{FileID: "AgACAgQAAxkBAAIBaGdD3kT0Kp8vQ1xY2mN4bWc1AAFvAAKxwjEbZk0hUkM2dC3wL0yWAQADAgADeQADNgQ", FileUniqueID: "AQADscIxG2ZNIVJ-", Size: 87531, MimeType: "image/jpeg"},
	},
	{
		fixture: "video",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"video","from":"412587349","id":"tg:412587349:105","timestamp":"1732475301","video":{"id":"AgADnhQAAmZNIVI","mime_type":"video/mp4","filename":"VID_20241124_190112.mp4"}}}`,
		file:    &fileRef{FileID: "BAACAgQAAxkBAAIBaWdD3sZQXJ_KwN5-SZumc0d8u8hKAAKeFAACZk0hUlt3b2NrS8DNNgQ", FileUniqueID: "AgADnhQAAmZNIVI", Size: 2483911, MimeType: "video/mp4", Filename: "VID_20241124_190112.mp4"},
	},
	{
		fixture: "animation", // Telegram adds a document with the same file: the animation wins
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"video","from":"412587349","id":"tg:412587349:106","timestamp":"1732475344","video":{"id":"AgADbRUAAmZNIVI","mime_type":"video/mp4","filename":"giphy.mp4"}}}`,
		file:    &fileRef{FileID: "CgACAgQAAxkBAAIBamdD3vC5fTatJuWyZt5FtcmMge0RAAJtFQACZk0hUl42L-GitUd0NgQ", FileUniqueID: "AgADbRUAAmZNIVI", Size: 402118, MimeType: "video/mp4", Filename: "giphy.mp4"},
	},
	{
		fixture: "video_note",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"video","from":"412587349","id":"tg:412587349:107","timestamp":"1732475402","video":{"id":"AgADjhYAAmZNIVI","mime_type":"video/mp4"}}}`,
		file:    &fileRef{FileID: "DQACAgQAAxkBAAIBa2dD3yqt4UtAqunUuyXd5GW5hzMrAAKOFgACZk0hUu4eFbx90CUoNgQ", FileUniqueID: "AgADjhYAAmZNIVI", Size: 812345, MimeType: "video/mp4"},
	},
	{
		fixture: "audio",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"audio","from":"412587349","id":"tg:412587349:108","timestamp":"1732475460","audio":{"id":"AgADrBcAAmZNIVI","mime_type":"audio/mpeg","caption":"listen to this"}}}`,
		file:    &fileRef{FileID: "CQACAgQAAxkBAAIBbGdD32Sx0v6H3XoQWq8cF0lkS8GiAAKsFwACZk0hUhZ8a3sn6E8YNgQ", FileUniqueID: "AgADrBcAAmZNIVI", Size: 5140232, MimeType: "audio/mpeg", Filename: "Morning Song.mp3"},
	},
	{
		fixture: "voice",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"audio","from":"412587349","id":"tg:412587349:109","timestamp":"1732475511","audio":{"id":"AgADvxgAAmZNIVI","mime_type":"audio/ogg"}}}`,
		file:    &fileRef{FileID: "AwACAgQAAxkBAAIBbWdD35c3YtB9x1Kq4Hc0v_X2lN6YAAK_GAACZk0hUnB1f1mD2wABNgQ", FileUniqueID: "AgADvxgAAmZNIVI", Size: 18763, MimeType: "audio/ogg"},
	},
	{
		fixture: "document",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"document","from":"412587349","id":"tg:412587349:110","timestamp":"1732475577","document":{"id":"AgAD0RkAAmZNIVI","mime_type":"application/pdf","filename":"Invoice-2024-118.pdf","caption":"here is the invoice"}}}`,
		file:    &fileRef{FileID: "BQACAgQAAxkBAAIBbmdD39l0qDdnye6ydL1p979JQY29AALRGQACZk0hUqj9x7u6_QX-NgQ", FileUniqueID: "AgAD0RkAAmZNIVI", Size: 184220, MimeType: "application/pdf", Filename: "Invoice-2024-118.pdf"},
	},
	{
		fixture: "document_unnamed",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"document","from":"412587349","id":"tg:412587349:111","timestamp":"1732475590","document":{"id":"AgAD0hkAAmZNIVI","mime_type":"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet","filename":"document.xlsx"}}}`,
		file:    &fileRef{FileID: "BQACAgQAAxkBAAIBb2dD3-aZ1P2kQxGm3r0eW8v9y0oDAALSGQACZk0hUjN3cCpDq1NONgQ", FileUniqueID: "AgAD0hkAAmZNIVI", Size: 10452, MimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Filename: "document.xlsx"},
	},
	{
		fixture: "sticker_static",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"sticker","from":"412587349","id":"tg:412587349:112","timestamp":"1732475640","sticker":{"id":"AgADbQADwZxgDA","mime_type":"image/webp"}}}`,
		file:    &fileRef{FileID: "CAACAgIAAxkBAAIBcGdD4CGHNYe5uGNMfbFUOpRfa_EJAAJtAAPBnGAMLeFKjWdF824ANgQ", FileUniqueID: "AgADbQADwZxgDA", Size: 27214, MimeType: "image/webp"},
	},
	{
		fixture: "sticker_animated",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"sticker","from":"412587349","id":"tg:412587349:113","timestamp":"1732475652","sticker":{"id":"AgADBQADwDZPEw","mime_type":"application/x-tgsticker"}}}`,
		file:    &fileRef{FileID: "CAACAgIAAxkBAAIBcWdD4C0OF_IAAXdFHt2Md59pdr_QmQACBQADwDZPE_lqX5qCa011NgQ", FileUniqueID: "AgADBQADwDZPEw", Size: 41893, MimeType: "application/x-tgsticker"},
	},
	{
		fixture: "sticker_video",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"sticker","from":"412587349","id":"tg:412587349:114","timestamp":"1732475666","sticker":{"id":"AgADWwMAAuHmEUY","mime_type":"video/webm"}}}`,
		file:    &fileRef{FileID: "CAACAgEAAxkBAAIBcmdD4DzcdJBNRvM9Mlp1-EBpEuqwAAJbAwAC4eYRRnE59B3OseYxNgQ", FileUniqueID: "AgADWwMAAuHmEUY", Size: 98304, MimeType: "video/webm"},
	},
	{
		fixture: "location",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"text","from":"412587349","id":"tg:412587349:115","timestamp":"1732475701","text":{"body":"📍 Location: 51.500729, -0.124625\nhttps://maps.google.com/?q=51.500729,-0.124625"}}}`,
	},
	{
		fixture: "location_live",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"text","from":"412587349","id":"tg:412587349:116","timestamp":"1732475733","text":{"body":"📍 Location: -33.856784, 151.215297\nhttps://maps.google.com/?q=-33.856784,151.215297"}}}`,
	},
	{
		fixture: "venue", // Telegram adds the venue's location beside it: the venue wins
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"text","from":"412587349","id":"tg:412587349:117","timestamp":"1732475790","text":{"body":"📍 Venue: Big Ben\nWestminster, London SW1A 0AA, United Kingdom\nhttps://maps.google.com/?q=51.500729,-0.124625"}}}`,
	},
	{
		fixture: "contact",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"text","from":"412587349","id":"tg:412587349:118","timestamp":"1732475830","text":{"body":"👤 Contact: Jane Doe\n📞 +447700900123"}}}`,
	},
	{
		fixture: "reply_to_bot",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"text","from":"412587349","id":"tg:412587349:119","timestamp":"1732475901","text":{"body":"14/03/1991"}}}`,
		replyTo: 98,
	},
	{
		fixture: "video_too_big",
		route:   routing{ChatID: 412587349, Kind: RouteMessage},
		inbound: `{` + amara + `,"message":{"type":"video","from":"412587349","id":"tg:412587349:120","timestamp":"1732475960","video":{"id":"AgADnxoAAmZNIVI","mime_type":"video/mp4","filename":"clip.mp4","caption":"Our trip"}}}`,
		file:    &fileRef{FileID: "BAACAgQAAxkBAAIBeGdD4Ti7w97t7PadrRaz-odCtJpnAAKfGgACZk0hUtV4NztngX6eNgQ", FileUniqueID: "AgADnxoAAmZNIVI", Size: 35861094, MimeType: "video/mp4", Filename: "clip.mp4"},
		tooBig:  "[video too large to forward: clip.mp4, 34.2 MB]\nOur trip",
	},
	{fixture: "poll", route: routing{ChatID: 412587349, Skip: "unsupported_message:poll"}, unsupported: "poll"},
	{fixture: "dice", route: routing{ChatID: 412587349, Skip: "unsupported_message:dice"}, unsupported: "dice"},
	{fixture: "empty_message", route: routing{ChatID: 412587349, Skip: "empty_message"}, unsupported: "unknown"},
	{fixture: "photo_empty", route: routing{ChatID: 412587349, Skip: "empty_message"}, unsupported: "unknown"},
	{fixture: "private_negative_chat", route: routing{ChatID: -412587349, Skip: "malformed_message"}},
	{fixture: "callback_query_game", route: routing{ChatID: 412587349, Skip: "callback_without_data"}},
	{fixture: "pinned_message", route: routing{ChatID: 412587349, Skip: "service_message"}},
	{fixture: "group_message", route: routing{ChatID: -4518827361, Skip: "group_chat"}},
	{fixture: "supergroup_message", route: routing{ChatID: -1002214837465, Skip: "group_chat"}},
	{fixture: "channel_post", route: routing{ChatID: -1001987654321, Skip: "channel_post"}},
	{fixture: "edited_message", route: routing{ChatID: 412587349, Skip: "edited_message"}},
	{fixture: "edited_channel_post", route: routing{ChatID: -1001987654321, Skip: "edited_channel_post"}},
	{fixture: "callback_query", route: routing{ChatID: 412587349, Kind: RouteCallbackQuery}},
	{fixture: "callback_query_old_message", route: routing{ChatID: 412587349, Kind: RouteCallbackQuery}},
	{fixture: "callback_query_group", route: routing{ChatID: -4518827361, Skip: "group_chat"}},
	{fixture: "my_chat_member", route: routing{ChatID: 412587349, Skip: "unsupported_update:my_chat_member"}},
}

func TestInboundFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/updates/*.json")
	if err != nil {
		t.Fatal(err)
	}
	unused := map[string]bool{}
	for _, f := range files {
		unused[strings.TrimSuffix(filepath.Base(f), ".json")] = true
	}

	for _, tc := range inboundCases {
		delete(unused, tc.fixture)
		t.Run(tc.fixture, func(t *testing.T) {
			upd := loadUpdate(t, tc.fixture)
			r := route(upd)
			if r != tc.route {
				t.Fatalf("Route = %+v, want %+v", r, tc.route)
			}
			if r.Kind != RouteMessage && tc.unsupported == "" {
				if tc.inbound != "" {
					t.Fatal("table expects a conversion of an update Route does not bridge as a message")
				}
				return
			}

			c, err := convertMessage(upd.Message)
			if tc.unsupported != "" {
				var ue *unsupportedError
				if !errors.Is(err, errUnsupported) || !errors.As(err, &ue) || ue.Kind != tc.unsupported {
					t.Fatalf("convertMessage error = %v, want unsupported %q", err, tc.unsupported)
				}
				return
			}
			if err != nil {
				t.Fatalf("convertMessage: %v", err)
			}
			if got, want := normJSON(t, mustJSON(t, c.Inbound)), normJSON(t, []byte(tc.inbound)); got != want {
				t.Errorf("inbound\n got %s\nwant %s", got, want)
			}
			switch {
			case (c.File == nil) != (tc.file == nil):
				t.Errorf("File = %+v, want %+v", c.File, tc.file)
			case c.File != nil && *c.File != *tc.file:
				t.Errorf("File = %+v\nwant %+v", *c.File, *tc.file)
			}
			if c.ReplyTo != tc.replyTo {
				t.Errorf("ReplyTo = %d, want %d", c.ReplyTo, tc.replyTo)
			}
			if tc.tooBig != "" {
				if got := tooBigText(c); got != tc.tooBig {
					t.Errorf("tooBigText = %q, want %q", got, tc.tooBig)
				}
			}
		})
	}
	for f := range unused {
		t.Errorf("fixture %s.json has no case", f)
	}
}

func TestRouteEdges(t *testing.T) {
	private := models.Chat{ID: 412587349, Type: models.ChatTypePrivate}
	tests := []struct {
		name string
		upd  *models.Update
		want routing
	}{
		{"nil update", nil, routing{Skip: "unsupported_update:empty"}},
		{"kind newer than the models package", &models.Update{ID: 1}, routing{Skip: "unsupported_update:unknown"}},
		{"business message", &models.Update{BusinessMessage: &models.Message{Chat: private}}, routing{Skip: "unsupported_update:business_message"}},
		{"inline query", &models.Update{InlineQuery: &models.InlineQuery{ID: "1"}}, routing{Skip: "unsupported_update:inline_query"}},
		{"message without chat", &models.Update{Message: &models.Message{ID: 1, Date: 1, Text: "hi"}}, routing{Skip: "missing_chat"}},
		{"message in a chat of unknown type", &models.Update{Message: &models.Message{ID: 1, Chat: models.Chat{ID: 5, Type: "space"}}}, routing{ChatID: 5, Skip: "unsupported_chat_type"}},
		{"inline-mode callback", &models.Update{CallbackQuery: &models.CallbackQuery{ID: "1", InlineMessageID: "AAA", Data: "k"}}, routing{Skip: "inline_callback_query"}},
		{"game callback", &models.Update{CallbackQuery: &models.CallbackQuery{ID: "1", GameShortName: "quiz",
			Message: models.MaybeInaccessibleMessage{Message: &models.Message{ID: 3, Date: 1, Chat: private}}}}, routing{ChatID: 412587349, Skip: "callback_without_data"}},
		{"callback from a channel", &models.Update{CallbackQuery: &models.CallbackQuery{ID: "1", Data: "k",
			Message: models.MaybeInaccessibleMessage{Message: &models.Message{ID: 3, Date: 1, Chat: models.Chat{ID: -100, Type: models.ChatTypeChannel}}}}}, routing{ChatID: -100, Skip: "channel_chat"}},
	}
	for _, tt := range tests {
		if got := route(tt.upd); got != tt.want {
			t.Errorf("%s: Route = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestConvertMessageEdges covers what the fixtures do not: fallbacks for
// missing fields and the malformed messages real Telegram never sends.
func TestConvertMessageEdges(t *testing.T) {
	base := func(edit func(m *models.Message)) *models.Message {
		m := &models.Message{ID: 7, Date: 1732475112, Chat: models.Chat{ID: 42, Type: models.ChatTypePrivate}}
		edit(m)
		return m
	}
	file := func(id string) (string, string) { return "BQAC" + id, "AgAD" + id }
	tests := []struct {
		name     string
		msg      *models.Message
		profile  string // profile.name
		media    string // the media object's JSON, or the text body
		file     *fileRef
		tooBig   string
		rejected bool
	}{
		{
			name:    "name from chat username",
			msg:     base(func(m *models.Message) { m.Text = "hi"; m.Chat.Username = "amara_ok" }),
			profile: "amara_ok", media: "hi",
		},
		{
			name:    "name from the sender when the chat has none",
			msg:     base(func(m *models.Message) { m.Text = "hi"; m.From = &models.User{ID: 42, FirstName: " Amara "} }),
			profile: "Amara", media: "hi",
		},
		{
			name:    "name falls back to the chat id",
			msg:     base(func(m *models.Message) { m.Text = "hi"; m.From = &models.User{ID: 42} }),
			profile: "42", media: "hi",
		},
		{
			name: "photo sizes out of order, tie broken by bytes",
			msg: base(func(m *models.Message) {
				m.Chat.FirstName = "A"
				m.Photo = []models.PhotoSize{
					{FileID: "big", FileUniqueID: "u-big", Width: 1280, Height: 960, FileSize: 100},
					{FileID: "small", FileUniqueID: "u-small", Width: 90, Height: 68, FileSize: 2000},
					{FileID: "big2", FileUniqueID: "u-big2", Width: 960, Height: 1280, FileSize: 22 << 20},
				}
			}),
			profile: "A", media: `{"id":"u-big2","mime_type":"image/jpeg"}`,
			file:   &fileRef{FileID: "big2", FileUniqueID: "u-big2", Size: 22 << 20, MimeType: "image/jpeg"},
			tooBig: "[image too large to forward: 22.0 MB]",
		},
		{
			name: "document without name or type",
			msg: base(func(m *models.Message) {
				m.Chat.FirstName = "A"
				id, uid := file("1")
				m.Document = &models.Document{FileID: id, FileUniqueID: uid, FileSize: 10}
				m.Caption = "scan"
			}),
			profile: "A", media: `{"id":"AgAD1","mime_type":"application/octet-stream","filename":"document","caption":"scan"}`,
			file: &fileRef{FileID: "BQAC1", FileUniqueID: "AgAD1", Size: 10, MimeType: "application/octet-stream", Filename: "document"},
		},
		{
			name: "document type with parameters",
			msg: base(func(m *models.Message) {
				m.Chat.FirstName = "A"
				id, uid := file("2")
				m.Document = &models.Document{FileID: id, FileUniqueID: uid, MimeType: "Text/Plain; charset=utf-8"}
			}),
			profile: "A", media: `{"id":"AgAD2","mime_type":"Text/Plain; charset=utf-8","filename":"document.txt"}`,
			file: &fileRef{FileID: "BQAC2", FileUniqueID: "AgAD2", MimeType: "Text/Plain; charset=utf-8", Filename: "document.txt"},
		},
		{
			name: "audio without type",
			msg: base(func(m *models.Message) {
				m.Chat.FirstName = "A"
				id, uid := file("3")
				m.Audio = &models.Audio{FileID: id, FileUniqueID: uid, FileSize: 25 << 20}
			}),
			profile: "A", media: `{"id":"AgAD3","mime_type":"audio/mpeg"}`,
			file:   &fileRef{FileID: "BQAC3", FileUniqueID: "AgAD3", Size: 25 << 20, MimeType: "audio/mpeg"},
			tooBig: "[audio too large to forward: 25.0 MB]",
		},
		{
			name: "voice without type",
			msg: base(func(m *models.Message) {
				m.Chat.FirstName = "A"
				id, uid := file("4")
				m.Voice = &models.Voice{FileID: id, FileUniqueID: uid, Duration: 2}
			}),
			profile: "A", media: `{"id":"AgAD4","mime_type":"audio/ogg"}`,
			file: &fileRef{FileID: "BQAC4", FileUniqueID: "AgAD4", MimeType: "audio/ogg"},
		},
		{
			name: "video without type or name",
			msg: base(func(m *models.Message) {
				m.Chat.FirstName = "A"
				id, uid := file("5")
				m.Video = &models.Video{FileID: id, FileUniqueID: uid, FileSize: 3}
				m.ReplyToMessage = &models.Message{ID: 6}
			}),
			profile: "A", media: `{"id":"AgAD5","mime_type":"video/mp4"}`,
			file: &fileRef{FileID: "BQAC5", FileUniqueID: "AgAD5", Size: 3, MimeType: "video/mp4"},
		},
		{
			name: "venue without address",
			msg: base(func(m *models.Message) {
				m.Chat.FirstName = "A"
				m.Venue = &models.Venue{Title: "Gate 3", Location: models.Location{Latitude: 1.5, Longitude: 2}}
			}),
			profile: "A", media: "📍 Venue: Gate 3\nhttps://maps.google.com/?q=1.500000,2.000000",
		},
		{
			name: "own contact without plus or last name",
			msg: base(func(m *models.Message) {
				m.Chat.FirstName = "A"
				m.Contact = &models.Contact{PhoneNumber: "447700900123", FirstName: "Amara", UserID: 42}
			}),
			profile: "A", media: "👤 Contact: Amara\n📞 447700900123",
		},
		{name: "nil", msg: nil, rejected: true},
		{name: "no chat", msg: base(func(m *models.Message) { m.Chat = models.Chat{}; m.Text = "hi" }), rejected: true},
		{name: "no date", msg: base(func(m *models.Message) { m.Date = 0; m.Text = "hi" }), rejected: true},
		{name: "group chat", msg: base(func(m *models.Message) { m.Chat = models.Chat{ID: -5, Type: models.ChatTypeGroup}; m.Text = "hi" }), rejected: true},
		{name: "private chat with a group's id", msg: base(func(m *models.Message) { m.Chat.ID = -5; m.Text = "hi" }), rejected: true},
		{name: "photo without unique id", msg: base(func(m *models.Message) { m.Photo = []models.PhotoSize{{FileID: "x", Width: 1, Height: 1}} }), rejected: true},
		{name: "nothing in it", msg: base(func(m *models.Message) {}), rejected: true},
	}
	for _, tt := range tests {
		c, err := convertMessage(tt.msg)
		if tt.rejected {
			if err == nil {
				t.Errorf("%s: converted to %+v, want an error", tt.name, c.Inbound)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		im := c.Inbound.Message
		if c.Inbound.Contact.Profile.Name != tt.profile {
			t.Errorf("%s: profile name %q, want %q", tt.name, c.Inbound.Contact.Profile.Name, tt.profile)
		}
		if im.Text != nil {
			if im.Text.Body != tt.media {
				t.Errorf("%s: text %q, want %q", tt.name, im.Text.Body, tt.media)
			}
		} else if got, want := normJSON(t, mustJSON(t, mediaObject(im))), normJSON(t, []byte(tt.media)); got != want {
			t.Errorf("%s: media %s, want %s", tt.name, got, want)
		}
		if (c.File == nil) != (tt.file == nil) || c.File != nil && *c.File != *tt.file {
			t.Errorf("%s: File = %+v, want %+v", tt.name, c.File, tt.file)
		}
		if got := tooBigText(c); tt.tooBig != "" && got != tt.tooBig {
			t.Errorf("%s: tooBigText %q, want %q", tt.name, got, tt.tooBig)
		}
	}
}

func TestUnsupportedKinds(t *testing.T) {
	private := models.Chat{ID: 42, Type: models.ChatTypePrivate}
	for kind, m := range map[string]*models.Message{
		"game":     {Game: &models.Game{Title: "quiz"}},
		"story":    {Story: &models.Story{ID: 1}},
		"invoice":  {Invoice: &models.Invoice{Title: "x"}},
		"giveaway": {Giveaway: &models.Giveaway{}},
		"unknown":  {},
	} {
		m.ID, m.Date, m.Chat = 1, 1, private
		_, err := convertMessage(m)
		var ue *unsupportedError
		if !errors.As(err, &ue) || ue.Kind != kind || !errors.Is(err, errUnsupported) {
			t.Errorf("%s: error %v, want unsupportedError{%q}", kind, err, kind)
		}
	}
}

func TestMessageID(t *testing.T) {
	if got := MessageID(412587349, 101); got != "tg:412587349:101" {
		t.Errorf("MessageID = %q", got)
	}
	// The separator keeps neighbouring numbers apart.
	if MessageID(1, 23) == MessageID(12, 3) {
		t.Error("MessageID(1, 23) == MessageID(12, 3)")
	}
}

func TestTooBigTextWithoutFile(t *testing.T) {
	c, err := convertMessage(&models.Message{ID: 1, Date: 1, Chat: models.Chat{ID: 42, Type: models.ChatTypePrivate}, Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if got := tooBigText(c); got != "" {
		t.Errorf("text message: tooBigText %q, want none", got)
	}
}

func loadUpdate(t testing.TB, name string) *models.Update {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "updates", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var upd models.Update
	if err := json.Unmarshal(data, &upd); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &upd
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// normJSON re-encodes JSON with sorted keys so that field order and spacing
// do not matter, only content.
func normJSON(t testing.TB, b []byte) string {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return string(mustJSON(t, v))
}
