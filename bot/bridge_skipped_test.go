package bot_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store"
)

// TestSkippedUpdatesFromFixtures: messages that can never reach Turn (empty,
// photo: [], a private chat with a negative id, a dice) are skipped at
// acceptance with a log line, never stored to become dead letters; presses
// that are not bridged (in a group, on a game button) are still answered,
// so the person's client stops its spinner, and reach Turn as nothing.
func TestSkippedUpdatesFromFixtures(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		secret := h.ch.WebhookSecret()
		for _, f := range []string{"empty_message", "photo_empty", "private_negative_chat", "dice", "poll"} {
			t.Run(f, func(t *testing.T) {
				body, err := os.ReadFile("testdata/updates/" + f + ".json")
				if err != nil {
					t.Fatal(err)
				}
				if resp := h.postTelegram(body, secret); resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d, want 200", resp.StatusCode)
				}
			})
		}
		if js := h.jobs(store.KindUpdate, ""); len(js) != 0 {
			t.Fatalf("skipped messages were stored: %+v", js)
		}

		// A press in a group, on a message the bot sent there.
		const group = -4518827361
		h.tg.PushUpdate(botToken, telegramtest.GroupText(group, chatID, "Clinic volunteers", "Ada", "", "hi"))
		_, msg, buttons := h.sentKeyboard(t, buttonsPayload(group, 2), group)
		before := len(h.turn.Messages(numberID))
		q := h.tg.PressButton(botToken, group, msg.ID, buttons[0].CallbackData)
		if text := h.answered(t, q); text == "" {
			t.Error("a press in a group was answered without a word")
		}
		// A game button: a press without data.
		_, msg, _ = h.sentKeyboard(t, buttonsPayload(chatID, 1), chatID)
		q = h.tg.PressButton(botToken, chatID, msg.ID, "")
		h.answered(t, q)
		settle()
		if n := len(h.turn.Messages(numberID)); n != before {
			t.Errorf("Turn got %d messages from presses it must not see", n-before)
		}
		for _, j := range h.jobs(store.KindUpdate, store.StateDead) {
			t.Errorf("dead letter: %+v", j)
		}
	})
}

// TestDisabledChannelWebhooks: while a channel is disabled both webhooks
// answer 503, so Turn and Telegram keep its messages and retry (a 404 would
// make Turn give up); once enabled again, the retry is accepted and sent.
func TestDisabledChannelWebhooks(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		cfg := h.ch.Config
		secret := h.ch.WebhookSecret()
		h.svc.PauseChannel(numberID)
		body := textPayload(chatID, "Your appointment is tomorrow")
		if resp, answer := h.sendTurn(body); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("Turn webhook of a disabled channel: %d %q %s, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), answer)
		}
		u := telegramtest.UserText(chatID, "Ada", "", "hi")
		u.ID, u.Message.ID, u.Message.Date = 901, 1, 1732476503
		if resp := h.postTelegram(mustJSON(u), secret); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("Telegram webhook of a disabled channel: %d, want 503", resp.StatusCode)
		}
		if js := h.jobs("", ""); len(js) != 0 {
			t.Fatalf("a disabled channel stored %+v", js)
		}
		if _, err := h.svc.AddChannel(cfg); err != nil {
			t.Fatal(err)
		}
		id := h.sendTurnOK(body) // Turn's retry
		h.waitStatus(t, id, "sent")
		// A removed channel is unknown: 404.
		h.svc.RemoveChannel(numberID)
		if resp, _ := h.sendTurn(body); resp.StatusCode != http.StatusNotFound {
			t.Errorf("Turn webhook of a removed channel: %d, want 404", resp.StatusCode)
		}
	})
}
