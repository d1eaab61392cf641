package telegramtest_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

// getUpdates calls getUpdates and decodes the updates.
func getUpdates(t *testing.T, srv *telegramtest.Server, fields map[string]string) []models.Update {
	t.Helper()
	a := callForm(t, srv, token, "getUpdates", fields, nil)
	if !a.OK {
		t.Fatalf("getUpdates: %d %s", a.ErrorCode, a.Description)
	}
	var ups []models.Update
	if err := json.Unmarshal(a.Result, &ups); err != nil {
		t.Fatal(err)
	}
	return ups
}

func ids(ups []models.Update) []int64 {
	var out []int64
	for _, u := range ups {
		out = append(out, u.ID)
	}
	return out
}

func TestGetUpdatesOffsets(t *testing.T) {
	srv := newServer(t)
	var pushed []int64
	for i := 0; i < 5; i++ {
		pushed = append(pushed, srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "Lee", "m"+strconv.Itoa(i))))
	}
	for i := 1; i < len(pushed); i++ {
		if pushed[i] != pushed[i-1]+1 {
			t.Fatalf("update ids are not consecutive: %v", pushed)
		}
	}
	steps := []struct {
		name   string
		fields map[string]string
		want   []int64
		left   int // pending afterwards
	}{
		{"no offset returns all, confirms none", nil, pushed, 5},
		{"limit", map[string]string{"limit": "2"}, pushed[:2], 5},
		{"limit is clamped to 1", map[string]string{"limit": "0"}, pushed[:1], 5},
		{"offset confirms earlier updates", map[string]string{"offset": strconv.FormatInt(pushed[2], 10)}, pushed[2:], 3},
		{"confirmed updates are forgotten", map[string]string{"offset": "0"}, pushed[2:], 3},
		{"negative offset keeps the last ones", map[string]string{"offset": "-1"}, pushed[4:], 1},
		{"offset past the end confirms all", map[string]string{"offset": strconv.FormatInt(pushed[4]+1, 10)}, nil, 0},
	}
	for _, st := range steps {
		got := getUpdates(t, srv, st.fields)
		if !slices.Equal(ids(got), st.want) {
			t.Errorf("%s: update ids %v, want %v", st.name, ids(got), st.want)
		}
		if n := srv.PendingUpdates(token); n != st.left {
			t.Errorf("%s: %d pending, want %d", st.name, n, st.left)
		}
	}
	// Builders give realistic messages: ids per chat, the user as sender.
	next := srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "Lee", "/start now"))
	got := getUpdates(t, srv, nil)
	if len(got) != 1 || got[0].ID != next || next != pushed[4]+1 {
		t.Fatalf("after confirming all: %v (pushed %d)", ids(got), next)
	}
	m := got[0].Message
	if m.ID != 6 || m.From.ID != chat || m.From.FirstName != "Ann" || m.Chat.Type != "private" || m.Date == 0 ||
		len(m.Entities) != 1 || m.Entities[0].Type != "bot_command" || m.Entities[0].Length != 6 {
		t.Errorf("message = %+v", m)
	}
}

func TestLongPoll(t *testing.T) {
	srv := newServer(t)
	start := time.Now()
	if got := getUpdates(t, srv, map[string]string{"timeout": "1"}); len(got) != 0 {
		t.Fatalf("empty long poll returned %v", ids(got))
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("long poll with timeout 1 returned after %v", d)
	}

	done := goCall(srv, token, "getUpdates", map[string]string{"timeout": "30"})
	time.Sleep(50 * time.Millisecond)
	id := srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "wake up"))
	select {
	case r := <-done:
		var got []models.Update
		if r.err != nil || json.Unmarshal(r.Result, &got) != nil || len(got) != 1 || got[0].ID != id {
			t.Errorf("long poll woke with %+v, want update %d", r, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a pushed update does not end the long poll")
	}
}

func TestOverlappingLongPolls(t *testing.T) {
	srv := newServer(t)
	first := goCall(srv, token, "getUpdates", map[string]string{"timeout": "30"})
	time.Sleep(50 * time.Millisecond)
	second := goCall(srv, token, "getUpdates", map[string]string{"timeout": "30"})
	select {
	case r := <-first:
		wantError(t, r.answer, 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
	case <-time.After(5 * time.Second):
		t.Fatal("the first long poll was not ended")
	}
	id := srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "x"))
	var got []models.Update
	if r := <-second; r.err != nil || json.Unmarshal(r.Result, &got) != nil || len(got) != 1 || got[0].ID != id {
		t.Errorf("second poll = %+v, want update %d", r, id)
	}
}

func TestGetUpdatesWhileWebhookSet(t *testing.T) {
	srv := newServer(t)
	srv.AllowInsecureWebhooks(true)
	if a := callForm(t, srv, token, "setWebhook", map[string]string{"url": "http://127.0.0.1:1/hook"}, nil); !a.OK {
		t.Fatal(a.Description)
	}
	wantError(t, callForm(t, srv, token, "getUpdates", nil, nil), 409,
		"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	if a := callForm(t, srv, token, "deleteWebhook", nil, nil); !a.OK {
		t.Fatal(a.Description)
	}
	if got := getUpdates(t, srv, nil); len(got) != 0 {
		t.Errorf("after deleteWebhook: %v", ids(got))
	}
}

func TestAllowedUpdates(t *testing.T) {
	srv := newServer(t)
	// chat_member is not delivered unless asked for: never queued.
	if id := srv.PushUpdate(token, `{"chat_member":{"chat":{"id":1,"type":"group"}}}`); id != 0 {
		t.Errorf("chat_member pushed as %d without being allowed", id)
	}
	got := getUpdates(t, srv, map[string]string{"allowed_updates": `["callback_query"]`})
	if len(got) != 0 {
		t.Fatalf("unexpected updates %v", ids(got))
	}
	if id := srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "x")); id != 0 {
		t.Errorf("message pushed as %d while only callback_query is allowed", id)
	}
	// The setting persists; an empty list restores the default.
	getUpdates(t, srv, map[string]string{"allowed_updates": `[]`})
	if id := srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "x")); id == 0 {
		t.Error("message dropped after allowed_updates was reset")
	}
	for _, bad := range []string{`message`, `"message"`, `["messages"]`, `[1]`} {
		wantError(t, callForm(t, srv, token, "getUpdates", map[string]string{"allowed_updates": bad}, nil), 400, "Bad Request: ")
	}
}

func TestPushRawUpdate(t *testing.T) {
	srv := newServer(t)
	id := srv.PushUpdate(token, json.RawMessage(`{"update_id":1,"message":{"message_id":77,"date":5,"chat":{"id":9,"type":"private"},"text":"raw","future_field":true}}`))
	got := callForm(t, srv, token, "getUpdates", nil, nil)
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(got.Result, &raw); err != nil || len(raw) != 1 {
		t.Fatalf("updates = %s", got.Result)
	}
	if string(raw[0]["update_id"]) != strconv.FormatInt(id, 10) {
		t.Errorf("update_id = %s, want the fake's %d", raw[0]["update_id"], id)
	}
	var m map[string]any
	_ = json.Unmarshal(raw[0]["message"], &m)
	if m["future_field"] != true || m["message_id"] != float64(77) {
		t.Errorf("raw fields are kept as given: %v", m)
	}
}

// go-telegram/bot's own poller works against the fake, and advances the
// offset past what it received.
func TestGoTelegramPolling(t *testing.T) {
	srv := newServer(t)
	var mu sync.Mutex
	var texts []string
	got := make(chan struct{}, 10)
	b, err := tgbot.New(token, tgbot.WithServerURL(srv.URL), tgbot.WithSkipGetMe(), tgbot.WithNotAsyncHandlers(),
		tgbot.WithDefaultHandler(func(ctx context.Context, b *tgbot.Bot, u *models.Update) {
			mu.Lock()
			texts = append(texts, u.Message.Text)
			mu.Unlock()
			got <- struct{}{}
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { b.Start(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "one"))
	srv.PushUpdate(token, telegramtest.UserText(chat, "Ann", "", "two"))
	for i := 0; i < 2; i++ {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("the poller did not receive the updates")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(texts) != 2 || texts[0] != "one" || texts[1] != "two" {
		t.Errorf("received %v", texts)
	}
}

func TestMediaBuilders(t *testing.T) {
	srv := newServer(t)
	updates := map[string]models.Update{
		"photo":    srv.UserPhoto(token, chat, "Ann", "", pngImage(t, 1600, 1200), "look"),
		"voice":    srv.UserVoice(token, chat, "Ann", "", []byte("OggS voice"), 3),
		"video":    srv.UserVideo(token, chat, "Ann", "", []byte("mp4 video"), "clip"),
		"document": srv.UserDocument(token, chat, "Ann", "", []byte("%PDF-1.4"), "a.pdf", "", ""),
		"sticker":  srv.UserSticker(token, chat, "Ann", "", []byte("RIFF webp"), "👍"),
		"location": telegramtest.UserLocation(chat, "Ann", "", -33.9, 18.4),
		"contact":  telegramtest.UserContact(chat, "Ann", "", "+27820000000"),
		"group":    telegramtest.GroupText(-1001234567890, 77, "Team", "Bo", "", "hi all"),
	}
	for name, u := range updates {
		if srv.PushUpdate(token, u) == 0 {
			t.Errorf("%s: not queued", name)
		}
	}
	var fileIDs []string
	for _, u := range getUpdates(t, srv, nil) {
		m := u.Message
		switch {
		case m.Photo != nil:
			// 90, 320, 800 and 1280 pixels wide, and the original.
			if len(m.Photo) != 5 || m.Photo[0].Width != 90 || m.Photo[0].Height != 67 || m.Photo[4].Width != 1600 || m.Caption != "look" {
				t.Errorf("photo sizes = %+v", m.Photo)
			}
			fileIDs = append(fileIDs, m.Photo[0].FileID, m.Photo[4].FileID)
		case m.Voice != nil:
			fileIDs = append(fileIDs, m.Voice.FileID)
			if m.Voice.Duration != 3 || m.Voice.MimeType != "audio/ogg" {
				t.Errorf("voice = %+v", m.Voice)
			}
		case m.Video != nil:
			fileIDs = append(fileIDs, m.Video.FileID)
		case m.Document != nil:
			fileIDs = append(fileIDs, m.Document.FileID)
			if m.Document.MimeType != "application/pdf" || m.Document.FileName != "a.pdf" {
				t.Errorf("document = %+v", m.Document)
			}
		case m.Sticker != nil:
			fileIDs = append(fileIDs, m.Sticker.FileID)
		case m.Location != nil, m.Contact != nil:
		case m.Chat.Type == "supergroup":
			if m.From.ID != 77 || m.Chat.Title != "Team" {
				t.Errorf("group message = %+v", m)
			}
		default:
			t.Errorf("unexpected message %+v", m)
		}
	}
	for _, id := range fileIDs {
		if a := callForm(t, srv, token, "getFile", map[string]string{"file_id": id}, nil); !a.OK {
			t.Errorf("getFile(%s): %s", id, a.Description)
		}
	}
	if len(fileIDs) != 6 {
		t.Errorf("files in updates: %d, want 6", len(fileIDs))
	}
}
