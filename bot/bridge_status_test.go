package bot_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// personWrites pushes a text from the person of chat and waits until Turn
// has it and the connector has recorded what it changes (chat reachable,
// receipts), so that what the test does next comes after it.
func (h *harness) personWrites(t testing.TB, chat int64, text string) turn.Inbound {
	t.Helper()
	before := len(h.turn.Messages(numberID))
	if h.tg.PushUpdate(botToken, telegramtest.UserText(chat, "Ada", "Lovelace", text)) == 0 {
		t.Fatal("the fake refused the update")
	}
	got := h.waitTurnMessages(t, before+1)
	m := got[len(got)-1]
	if m.Message.Text == nil || m.Message.Text.Body != text {
		t.Fatalf("turn received %+v, want %q", m.Message, text)
	}
	eventually(t, "the update job to complete", func() bool {
		return len(h.jobs(store.KindUpdate, store.StatePending)) == 0
	})
	return m
}

// TestStatusSentOncePerMessage: Turn hears "sent" once per message it gave,
// however many Telegram messages it took, with the recipient and a unix
// timestamp.
func TestStatusSentOncePerMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("A sentence that will be split into several Telegram messages. ", 150)
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		img := h.turn.HostMedia([]byte("jpeg"), "image/jpeg")
		cases := []struct {
			name  string
			body  []byte
			parts int
		}{
			{"one part", textPayload(chatID, "short"), 1},
			{"three parts", textPayload(chatID, long), 3},
			{"media and text", imagePayload(chatID, img, long[:1500]), 2},
		}
		ids := make([]string, len(cases))
		for i, c := range cases {
			ids[i] = h.sendTurnOK(c.body)
		}
		total := 0
		for i, c := range cases {
			s := h.waitStatus(t, ids[i], turn.StatusSent)
			total += c.parts
			if s.RecipientID != strconv.FormatInt(chatID, 10) {
				t.Errorf("%s: recipient_id %q", c.name, s.RecipientID)
			}
			if n, err := strconv.ParseInt(s.Timestamp, 10, 64); err != nil || n <= 0 {
				t.Errorf("%s: timestamp %q", c.name, s.Timestamp)
			}
		}
		settle()
		if n := len(h.sendCalls(chatID)); n != total {
			t.Errorf("%d Telegram messages, want %d", n, total)
		}
		for i, c := range cases {
			if got := h.statusesOf(ids[i]); len(got) != 1 || got[0] != turn.StatusSent {
				t.Errorf("%s (%d parts): statuses %v, want [sent]", c.name, c.parts, got)
			}
		}
		// In the order accepted: one chat's messages go out one at a time.
		var order []string
		for _, s := range h.turn.Statuses(numberID) {
			order = append(order, s.ID)
		}
		if strings.Join(order, ",") != strings.Join(ids, ",") {
			t.Errorf("sent statuses in order %v, want %v", order, ids)
		}
	})
}

// TestStatusDeliveredAndRead: when the person writes, Turn hears
// "delivered" then "read" for every earlier message not yet read, once;
// not at all when read receipts are switched off.
func TestStatusDeliveredAndRead(t *testing.T) {
	t.Parallel()
	for _, receipts := range []bool{true, false} {
		t.Run(fmt.Sprintf("receipts=%v", receipts), func(t *testing.T) {
			eachStore(t, func(t *testing.T, st store.Store) {
				h := newHarness(t, st, harnessOpts{unpaced: true, readReceipts: receipts})
				other := chatID + 1
				id1 := h.sendTurnOK(textPayload(chatID, "first"))
				id2 := h.sendTurnOK(textPayload(chatID, "second"))
				idOther := h.sendTurnOK(textPayload(other, "to someone else"))
				for _, id := range []string{id1, id2, idOther} {
					h.waitStatus(t, id, turn.StatusSent)
				}
				h.personWrites(t, chatID, "thanks!")
				if receipts {
					for _, id := range []string{id1, id2} {
						d := h.waitStatus(t, id, turn.StatusDelivered)
						r := h.waitStatus(t, id, turn.StatusRead)
						if d.RecipientID != strconv.FormatInt(chatID, 10) || r.RecipientID != d.RecipientID {
							t.Errorf("recipients %q %q", d.RecipientID, r.RecipientID)
						}
					}
				}
				settle()
				want := []string{turn.StatusSent}
				if receipts {
					want = []string{turn.StatusSent, turn.StatusDelivered, turn.StatusRead}
				}
				for _, id := range []string{id1, id2} {
					if got := h.statusesOf(id); strings.Join(got, ",") != strings.Join(want, ",") {
						t.Errorf("statuses of %s: %v, want %v", id, got, want)
					}
				}
				if got := h.statusesOf(idOther); len(got) != 1 {
					t.Errorf("another chat's message got %v: only its own person reads it", got)
				}
				// Writing again reports nothing new; a later message is
				// read when the person next writes.
				n := len(h.turn.Statuses(numberID))
				h.personWrites(t, chatID, "still there")
				id3 := h.sendTurnOK(textPayload(chatID, "third"))
				h.waitStatus(t, id3, turn.StatusSent)
				settle()
				if got := len(h.turn.Statuses(numberID)); got != n+1 {
					t.Errorf("%d new statuses after writing again, want only third's sent: %+v", got-n, h.turn.Statuses(numberID)[n:])
				}
				h.personWrites(t, chatID, "got it")
				if receipts {
					h.waitStatus(t, id3, turn.StatusRead)
				}
				settle()
				want3 := []string{turn.StatusSent}
				if receipts {
					want3 = []string{turn.StatusSent, turn.StatusDelivered, turn.StatusRead}
				}
				if got := h.statusesOf(id3); strings.Join(got, ",") != strings.Join(want3, ",") {
					t.Errorf("statuses of the later message: %v, want %v", got, want3)
				}
				for _, id := range []string{id1, id2} {
					if got := h.statusesOf(id); len(got) != len(want) {
						t.Errorf("statuses of %s grew to %v", id, got)
					}
				}
			})
		})
	}
}

// TestStatusFailedWhenTelegramRefuses: a chat Telegram will never deliver
// to ends the message dead with its reason and a "failed" status (tolerated
// when Turn refuses that undocumented status); the chat is marked gone, so
// the next message fails at once without a Telegram call, until the person
// writes again.
func TestStatusFailedWhenTelegramRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		refuse       func(tg *telegramtest.Server, chat int64)
		reason       string
		acceptFailed bool
	}{
		{"blocked", (*telegramtest.Server).Block, "blocked", true},
		{"deactivated", (*telegramtest.Server).Deactivate, "deactivated", true},
		{"chat not found", (*telegramtest.Server).ChatNotFound, "chat not found", true},
		{"blocked, turn refuses failed", (*telegramtest.Server).Block, "blocked", false},
	}
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		ctx := context.Background()
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h.turn.AcceptFailed(c.acceptFailed)
				chat := int64(9500 + i)
				// The person has talked to the bot before.
				h.personWrites(t, chat, "hello")
				c.refuse(h.tg, chat)
				rejectedBefore := h.turn.Rejected(http.StatusBadRequest)

				id1 := h.sendTurnOK(textPayload(chat, "are you there?"))
				eventually(t, "the message to die", func() bool { return h.deadOutbound(chat) == 1 })
				if n := h.sendAttempts(chat); n != 1 {
					t.Errorf("%d send attempts for a permanent refusal, want 1 (no retries)", n)
				}
				if js := h.deadOutboundJobs(chat); len(js) == 1 && !strings.Contains(js[0].LastError, c.reason) {
					t.Errorf("dead job's reason %q does not say %q", js[0].LastError, c.reason)
				}
				gone, reason, err := h.st.ChatGone(ctx, numberID, chat)
				if err != nil || !gone || !strings.Contains(reason, c.reason) {
					t.Errorf("chat gone=%v reason=%q err=%v, want it marked gone", gone, reason, err)
				}
				h.expectFailed(t, id1, c.acceptFailed, rejectedBefore)

				// The next message fails fast: no Telegram call.
				id2 := h.sendTurnOK(textPayload(chat, "hello?"))
				eventually(t, "the second message to die", func() bool { return h.deadOutbound(chat) == 2 })
				if n := h.sendAttempts(chat); n != 1 {
					t.Errorf("a message to a gone chat reached Telegram (%d attempts)", n)
				}
				h.expectFailed(t, id2, c.acceptFailed, rejectedBefore+1)

				// The person comes back: the chat is reachable again.
				h.tg.Unblock(chat)
				h.personWrites(t, chat, "sorry, I'm back")
				eventually(t, "the chat to be cleared", func() bool {
					gone, _, err := h.st.ChatGone(ctx, numberID, chat)
					return err == nil && !gone
				})
				id3 := h.sendTurnOK(textPayload(chat, "welcome back"))
				h.waitStatus(t, id3, turn.StatusSent)
				calls := h.sendCalls(chat)
				if len(calls) != 1 || calls[0].Params["text"] != "welcome back" {
					t.Errorf("accepted calls %+v, want only the message after the person came back", calls)
				}
			})
		}
		if js := h.jobs(store.KindStatus, store.StateDead); len(js) != 0 {
			t.Errorf("status jobs dead-lettered: %+v", js)
		}
	})
}

// deadOutboundJobs lists the dead outbound jobs of a chat.
func (h *harness) deadOutboundJobs(chat int64) []store.JobInfo {
	var out []store.JobInfo
	for _, j := range h.jobs(store.KindOutbound, store.StateDead) {
		if j.Lane == "out:"+strconv.FormatInt(chat, 10) {
			out = append(out, j)
		}
	}
	return out
}

func (h *harness) deadOutbound(chat int64) int { return len(h.deadOutboundJobs(chat)) }

// expectFailed checks what Turn heard of a message that failed for good:
// "failed" only, or, when Turn refuses that status, nothing, the refusal
// accepted as the end of the report (no retries, nothing dead).
func (h *harness) expectFailed(t *testing.T, id string, accepted bool, rejectedBefore int) {
	t.Helper()
	if accepted {
		s := h.waitStatus(t, id, turn.StatusFailed)
		if s.Timestamp == "" || s.RecipientID == "" {
			t.Errorf("failed status %+v", s)
		}
	} else {
		eventually(t, "Turn to refuse the failed status", func() bool {
			return h.turn.Rejected(http.StatusBadRequest) >= rejectedBefore+1
		})
		eventually(t, "the refused status job to end", func() bool {
			return len(h.jobs(store.KindStatus, store.StatePending)) == 0
		})
	}
	settle()
	want := ""
	if accepted {
		want = turn.StatusFailed
	}
	if got := strings.Join(h.statusesOf(id), ","); got != want {
		t.Errorf("statuses of %s: %q, want %q", id, got, want)
	}
	if !accepted {
		if n := h.turn.Rejected(http.StatusBadRequest); n != rejectedBefore+1 {
			t.Errorf("Turn refused %d statuses, want exactly one more than %d (no retries)", n, rejectedBefore)
		}
	}
}
