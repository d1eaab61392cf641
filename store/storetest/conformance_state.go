package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var stateCases = []conformanceCase{
	{"UseCallback", testUseCallback},
	{"UseCallbackOncePerGroupUnderConcurrency", testUseCallbackConcurrent},
	{"Media", testMedia},
	{"FileIDs", testFileIDs},
	{"ChatGone", testChatGone},
}

func testUseCallback(t *testing.T, s store.Store) {
	created := micro(time.Now().Add(-time.Minute))
	button := func(key, group string) store.Callback {
		return store.Callback{Channel: ch, Key: key, Group: group, ChatID: 5, TurnID: "turn-5",
			Reply: "button_reply", ReplyID: "id-" + key, Title: "Title " + key, Description: "about " + key,
			CreatedAt: created}
	}
	old := button("old", "g-old")
	old.CreatedAt = time.Now().Add(-2 * time.Hour)
	_, err := s.Enqueue(t.Context(), store.Batch{Callbacks: []store.Callback{
		button("yes", "g1"), button("no", "g1"), button("other", "g2"), button("alone", ""), old,
		{Channel: "chan-b", Key: "yes", Group: "g1", ChatID: 6, TurnID: "b", Reply: "list_reply", ReplyID: "row"},
	}})
	noErr(t, "Enqueue(callbacks)", err)
	// A known key is kept as it was.
	changed := button("yes", "g1")
	changed.Title = "changed"
	_, err = s.Enqueue(t.Context(), store.Batch{Callbacks: []store.Callback{changed}})
	noErr(t, "Enqueue(callback again)", err)

	cases := []struct {
		name      string
		channel   string
		key       string
		maxAge    time.Duration
		want      store.Callback
		wantFirst bool
		wantErr   error
	}{
		{"first press", ch, "yes", time.Hour, button("yes", "g1"), true, nil},
		{"second press", ch, "yes", time.Hour, button("yes", "g1"), false, nil},
		{"other button of the group", ch, "no", time.Hour, button("no", "g1"), false, nil},
		{"button of another group", ch, "other", time.Hour, button("other", "g2"), true, nil},
		{"button without a group", ch, "alone", time.Hour, func() store.Callback {
			c := button("alone", "")
			c.Group = "alone"
			return c
		}(), true, nil},
		{"same key, other channel", "chan-b", "yes", time.Hour, store.Callback{}, true, nil},
		{"pressed in another chat", ch, "other", time.Hour, store.Callback{}, false, store.ErrNotFound},
		{"unknown", ch, "nope", time.Hour, store.Callback{}, false, store.ErrNotFound},
		{"too old", ch, "old", time.Hour, store.Callback{}, false, store.ErrNotFound},
		{"old, no age limit", ch, "old", 0, store.Callback{}, true, nil},
	}
	for _, c := range cases {
		chat := int64(5)
		if c.channel == "chan-b" {
			chat = 6
		}
		if c.name == "pressed in another chat" {
			chat = 99
		}
		cb, first, err := s.UseCallback(t.Context(), c.channel, chat, c.key, c.maxAge)
		if c.wantErr != nil {
			isErr(t, c.name, err, c.wantErr)
			continue
		}
		noErr(t, c.name, err)
		if first != c.wantFirst {
			t.Fatalf("%s: first = %v, want %v", c.name, first, c.wantFirst)
		}
		if cb.Key != c.key || cb.Channel != c.channel {
			t.Fatalf("%s: got button %s/%s", c.name, cb.Channel, cb.Key)
		}
		if c.want.Key != "" && !(cb.CreatedAt.Equal(c.want.CreatedAt) && sameButton(cb, c.want)) {
			t.Fatalf("%s:\n got %+v\nwant %+v", c.name, cb, c.want)
		}
	}
}

// sameButton compares callbacks but for CreatedAt's location.
func sameButton(a, b store.Callback) bool {
	a.CreatedAt, b.CreatedAt = time.Time{}, time.Time{}
	return a == b
}

func testUseCallbackConcurrent(t *testing.T, s store.Store) {
	var buttons []store.Callback
	for _, key := range []string{"a", "b", "c", "d"} {
		buttons = append(buttons, store.Callback{Channel: ch, Key: key, Group: "kb", ChatID: 1, TurnID: "t",
			Reply: "button_reply", ReplyID: key, Title: key})
	}
	_, err := s.Enqueue(t.Context(), store.Batch{Callbacks: buttons})
	noErr(t, "Enqueue(callbacks)", err)
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			_, first, err := s.UseCallback(t.Context(), ch, 1, buttons[i%4].Key, time.Hour)
			if err != nil {
				t.Errorf("UseCallback: %v", err)
			}
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Fatalf("16 concurrent presses of one keyboard: %d firsts, want 1", n)
	}
}

// testMedia runs the media cases (conformance_media.go) in order on s.
func testMedia(t *testing.T, s store.Store) {
	for _, c := range mediaCases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, s) })
	}
}

func testFileIDs(t *testing.T, s store.Store) {
	const sum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	_, err := s.FileID(t.Context(), ch, sum)
	isErr(t, "FileID(unknown)", err, store.ErrNotFound)
	noErr(t, "PutFileID", s.PutFileID(t.Context(), ch, sum, "file-1"))
	if got, err := s.FileID(t.Context(), ch, sum); err != nil || got != "file-1" {
		t.Fatalf("FileID = %q, %v", got, err)
	}
	noErr(t, "PutFileID(replace)", s.PutFileID(t.Context(), ch, sum, "file-2"))
	if got, err := s.FileID(t.Context(), ch, sum); err != nil || got != "file-2" {
		t.Fatalf("FileID after replace = %q, %v", got, err)
	}
	_, err = s.FileID(t.Context(), "chan-b", sum)
	isErr(t, "FileID(other channel)", err, store.ErrNotFound)
}

func testChatGone(t *testing.T, s store.Store) {
	gone := func(channel string, chat int64, want bool, wantReason string) {
		t.Helper()
		got, reason, err := s.ChatGone(t.Context(), channel, chat)
		if err != nil || got != want || reason != wantReason {
			t.Fatalf("ChatGone(%s, %d) = %v, %q, %v; want %v, %q", channel, chat, got, reason, err, want, wantReason)
		}
	}
	gone(ch, 1, false, "")
	noErr(t, "SetChatGone", s.SetChatGone(t.Context(), ch, 1, "bot was blocked by the user"))
	gone(ch, 1, true, "bot was blocked by the user")
	noErr(t, "SetChatGone(again)", s.SetChatGone(t.Context(), ch, 1, "user is deactivated"))
	gone(ch, 1, true, "user is deactivated")
	gone(ch, 2, false, "")
	gone("chan-b", 1, false, "")
	noErr(t, "SetChatGone(2)", s.SetChatGone(t.Context(), ch, 2, "chat not found"))
	_, err := s.Enqueue(t.Context(), store.Batch{ClearGone: []store.ChatRef{{Channel: ch, ChatID: 1}, {Channel: ch, ChatID: 3}}})
	noErr(t, "Enqueue(ClearGone)", err)
	gone(ch, 1, false, "")
	gone(ch, 2, true, "chat not found")
	gone(ch, 3, false, "")
	noErr(t, "SetChatGone(after clear)", s.SetChatGone(t.Context(), ch, 1, "blocked again"))
	gone(ch, 1, true, "blocked again")
}
