package bot_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// waitSentTexts waits until chat has n messages and returns their texts.
func waitSentTexts(t *testing.T, tg *telegramtest.Server, chat int64, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	msgs, err := tg.WaitSent(ctx, chat, n)
	if err != nil {
		t.Fatalf("chat %d: %v", chat, err)
	}
	return texts(msgs)
}

func texts(msgs []models.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

// TestTelegram429PausesThatChat: with the service's own limits set above
// Telegram's (a misconfiguration), the fake answers 429. Each 429 pauses that
// chat for retry_after, with no call to it during the pause, while another
// chat carries on; everything arrives once, in order.
func TestTelegram429PausesThatChat(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLite(t), harnessOpts{
		limits: &bot.Limits{PerSecond: 30, ChatPerSecond: 50, ChatBurst: 50},
	})
	const n = 6
	a, b := chatID, chatID+1
	for i := range n {
		h.sendTurnOK(textPayload(a, fmt.Sprintf("a%d", i)))
	}
	h.sendTurnOK(textPayload(b, "b0"))
	got := waitSentTexts(t, h.tg, a, n)
	for i, txt := range got {
		if want := fmt.Sprintf("a%d", i); txt != want {
			t.Fatalf("chat a got %q at %d, want %q (all: %v)", txt, i, want, got)
		}
	}
	if txt := waitSentTexts(t, h.tg, b, 1); txt[0] != "b0" {
		t.Fatalf("chat b got %v", txt)
	}
	if h.tg.TooManyRequests() == 0 {
		t.Fatal("the fake never answered 429: the test did not exercise a pause")
	}
	if v := h.tg.PauseViolations(); v != 0 {
		t.Fatalf("%d calls during a 429 pause", v)
	}
	// Chat b's message went out while chat a was paused, not after all of
	// chat a's messages.
	bAt, lastA := -1, -1
	for i, c := range h.tg.CallsTo("sendMessage") {
		if c.Status != 200 {
			continue
		}
		switch c.Params["chat_id"] {
		case fmt.Sprint(b):
			bAt = i
		case fmt.Sprint(a):
			lastA = i
		}
	}
	if bAt < 0 || bAt > lastA {
		t.Errorf("chat b's message (send %d) waited for chat a's pauses (last a: %d)", bAt, lastA)
	}
}

// TestBroadcastZero429AndConversationFirst: a broadcast is drained within
// Telegram's limits (the fake enforces them: zero 429s), and a reply to a
// person who just wrote is sent before the broadcast queued earlier.
func TestBroadcastZero429AndConversationFirst(t *testing.T) {
	// Not in parallel with other tests: the conversation must happen
	// during the broadcast, which other tests' load would stretch.
	eachStore(t, func(t *testing.T, st store.Store) {
		// A slow bot (10 messages/s) keeps the broadcast going long enough
		// for the conversation to happen during it, however loaded the
		// machine running the test is.
		h := newHarness(t, st, harnessOpts{rate: 10})
		const n = 80
		base := int64(9_000_000)
		for i := range n {
			h.sendTurnOK(textPayload(base+int64(i), fmt.Sprintf("broadcast %d", i)))
		}
		// A person writes during the broadcast, and the journey answers.
		h.tg.PushUpdate(botToken, telegramtest.UserText(chatID, "Ada", "", "help"))
		if _, err := h.turn.WaitMessages(ctxT(t), numberID, 1); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if seen, _ := st.ChatSeen(context.Background(), numberID, chatID); !seen.IsZero() {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		h.sendTurnOK(textPayload(chatID, "here to help"))
		waitSentTexts(t, h.tg, chatID, 1)
		for i := range n {
			waitSentTexts(t, h.tg, base+int64(i), 1)
		}
		if c := h.tg.TooManyRequests(); c != 0 {
			t.Fatalf("the fake answered 429 %d times", c)
		}
		// Where did the reply go in the bot's send order?
		pos, last := -1, -1
		for i, c := range h.tg.CallsTo("sendMessage") {
			if c.Params["chat_id"] == fmt.Sprint(chatID) {
				pos = i
			}
			last = i
		}
		if pos < 0 || pos > last-n/4 {
			t.Fatalf("the conversation reply was send %d of %d: it waited behind the broadcast", pos, last+1)
		}
	})
}

// TestReplicasShareWork: two service replicas on one PostgreSQL database and
// one bot. Together they respect the bot's limit (the fake enforces it: zero
// 429s), keep each chat's order, and when one is killed mid-flood the other
// takes its work over; only messages in flight at the kill may repeat.
func TestReplicasShareWork(t *testing.T) {
	// Not in parallel with other tests: zero 429s holds while the sends
	// reach the fake about when they left, which other tests' load skews.
	dsn := storetest.PostgresURL(t)
	open := func() store.Store {
		st, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	shared := &bot.Limits{Shared: true}
	a := newHarness(t, open(), harnessOpts{limits: shared, lease: time.Second, drain: -1})
	b := newHarness(t, open(), harnessOpts{limits: shared, lease: time.Second, shareFakes: a})
	const chats, per = 12, 5
	for i := range per {
		for c := range chats {
			chat := int64(5_000_000 + c)
			rep := a
			if (i+c)%2 == 1 {
				rep = b
			}
			rep.sendTurnOK(textPayload(chat, fmt.Sprintf("%d-%d", c, i)))
		}
	}
	// Let both work, then kill a.
	waitSentTexts(t, a.tg, 5_000_000, 1)
	a.cancel()
	for c := range chats {
		chat := int64(5_000_000 + c)
		got := waitSentTexts(t, b.tg, chat, per)
		// Keep first occurrences: a message in flight at the kill may repeat.
		var uniq []string
		seen := map[string]bool{}
		for _, txt := range got {
			if !seen[txt] {
				seen[txt] = true
				uniq = append(uniq, txt)
			}
		}
		if len(uniq) != per {
			t.Fatalf("chat %d: %d distinct messages, want %d: %v", c, len(uniq), per, got)
		}
		for i, txt := range uniq {
			if want := fmt.Sprintf("%d-%d", c, i); txt != want {
				t.Fatalf("chat %d out of order: %v", c, got)
			}
		}
	}
	total := 0
	for c := range chats {
		total += len(a.tg.Sent(int64(5_000_000 + c)))
	}
	if dup := total - chats*per; dup > 16 {
		t.Fatalf("%d duplicates: more than the killed replica could have had in flight", dup)
	}
	// Sends are what the shared limits pace. A replica starting registers
	// the webhook too, as the binary does, and may meet setWebhook's one
	// call a second: that is retried, and not a send over the limits.
	sends429 := 0
	for _, c := range a.tg.Calls() {
		if c.Status == http.StatusTooManyRequests && strings.HasPrefix(c.Method, "send") {
			sends429++
		}
	}
	if sends429 != 0 {
		t.Fatalf("the replicas together exceeded the bot's limits: %d sends answered 429", sends429)
	}
	// Both replicas did some of the work.
	if !strings.Contains(a.logs.String(), `"kind":"outbound"`) || !strings.Contains(b.logs.String(), `"kind":"outbound"`) {
		t.Log("note: one replica did all outbound work")
	}
}

// TestPaidBroadcastOptIn: above Telegram's free 30 messages/s every send
// opts in to paid broadcasts (or Telegram holds the bot to 30/s); at or
// below it no send does.
func TestPaidBroadcastOptIn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rate float64
		want string
	}{{30, ""}, {100, "true"}} {
		t.Run(fmt.Sprint(c.rate), func(t *testing.T) {
			h := newHarness(t, storetest.SQLite(t), harnessOpts{
				rate: c.rate, fakeLimits: &telegramtest.RateLimits{GlobalPerSecond: c.rate, GlobalBurst: int(c.rate)},
			})
			h.sendTurnOK(textPayload(chatID, "hello"))
			waitSentTexts(t, h.tg, chatID, 1)
			calls := h.tg.CallsTo("sendMessage")
			if got := calls[len(calls)-1].Params["allow_paid_broadcast"]; got != c.want {
				t.Fatalf("allow_paid_broadcast = %q, want %q", got, c.want)
			}
		})
	}
}
