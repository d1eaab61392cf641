package storetest

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var batchCases = []conformanceCase{
	{"CompleteAppliesBatch", testCompleteBatch},
	{"MessageMaps", testMaps},
	{"Receipts", testReceipts},
	{"ReceiptsOnceUnderConcurrency", testReceiptsConcurrent},
	{"Offsets", testOffsets},
}

func testCompleteBatch(t *testing.T, s store.Store) {
	enqueueOne(t, s, job("chat:7"))
	j := claimOne(t, s)
	noErr(t, "SetChatGone", s.SetChatGone(t.Context(), ch, 7, "blocked"))
	next := store.NewJob{Channel: ch, Kind: store.KindOutbound, Lane: "chat:7", DedupKey: "out-1"}
	complete(t, s, j, store.Batch{
		Jobs:      []store.NewJob{next},
		Maps:      []store.MessageMap{{Channel: ch, ChatID: 7, TelegramID: 70, TurnID: "turn-70"}},
		Callbacks: []store.Callback{{Channel: ch, Key: "cb-1", Group: "g", ChatID: 7, TurnID: "turn-70", Reply: "button_reply", ReplyID: "yes", Title: "Yes"}},
		Sent:      []store.Sent{{Channel: ch, ChatID: 7, TurnID: "turn-70"}},
		ClearGone: []store.ChatRef{{Channel: ch, ChatID: 7}},
		Offset:    &store.Offset{Channel: ch, Next: 42},
	})
	if got, err := s.TurnID(t.Context(), ch, 7, 70); err != nil || got != "turn-70" {
		t.Fatalf("map: %q, %v", got, err)
	}
	if cb, first, err := s.UseCallback(t.Context(), ch, 7, "cb-1", time.Hour); err != nil || !first || cb.ReplyID != "yes" {
		t.Fatalf("callback: %+v, %v, %v", cb, first, err)
	}
	if gone, _, err := s.ChatGone(t.Context(), ch, 7); err != nil || gone {
		t.Fatalf("ClearGone: gone=%v, %v", gone, err)
	}
	if off, err := s.Offset(t.Context(), ch); err != nil || off != 42 {
		t.Fatalf("offset: %d, %v", off, err)
	}
	out := claimOne(t, s)
	if out.Kind != store.KindOutbound || out.DedupKey != "out-1" {
		t.Fatalf("batch job: %+v", out)
	}
	// The Sent row is there: a receipt reports it.
	noErr(t, "Complete with receipts", s.Complete(t.Context(), out, store.Batch{
		Receipts: []store.Receipts{receiptsOf(ch, 7, time.Time{})},
	}))
	if got := statusJobs(t, s, ch); len(got) != 2 || got[0].TurnID != "turn-70" {
		t.Fatalf("receipts of the batch's Sent: %+v", got)
	}
}

func testMaps(t *testing.T, s store.Store) {
	_, err := s.TurnID(t.Context(), ch, 1, 1)
	isErr(t, "TurnID(unknown)", err, store.ErrNotFound)
	_, err = s.Enqueue(t.Context(), store.Batch{Maps: []store.MessageMap{
		{Channel: ch, ChatID: 1, TelegramID: 1, TurnID: "a"},
		{Channel: ch, ChatID: 2, TelegramID: 1, TurnID: "b"},
		{Channel: "chan-b", ChatID: 1, TelegramID: 1, TurnID: "c"},
		{Channel: ch, ChatID: -100123, TelegramID: 1 << 30, TurnID: "d"},
	}})
	noErr(t, "Enqueue(maps)", err)
	_, err = s.Enqueue(t.Context(), store.Batch{Maps: []store.MessageMap{{Channel: ch, ChatID: 1, TelegramID: 1, TurnID: "a2"}}})
	noErr(t, "Enqueue(map again)", err)
	for _, c := range []struct {
		channel string
		chat    int64
		msg     int
		want    string
	}{
		{ch, 1, 1, "a2"}, // upserted
		{ch, 2, 1, "b"},
		{"chan-b", 1, 1, "c"},
		{ch, -100123, 1 << 30, "d"},
	} {
		if got, err := s.TurnID(t.Context(), c.channel, c.chat, c.msg); err != nil || got != c.want {
			t.Fatalf("TurnID(%s, %d, %d) = %q, %v; want %q", c.channel, c.chat, c.msg, got, err, c.want)
		}
	}
	_, err = s.TurnID(t.Context(), ch, 1, 2)
	isErr(t, "TurnID(other message)", err, store.ErrNotFound)
}

// statusJobs returns the payloads of channel's status jobs, oldest first.
func statusJobs(t *testing.T, s store.Store, channel string) []statusPayload {
	t.Helper()
	infos, err := s.ListJobs(t.Context(), store.JobFilter{Channel: channel, Kind: store.KindStatus})
	noErr(t, "ListJobs", err)
	var out []statusPayload
	// Claim them in lane order to read their payloads.
	for range infos {
		jobs := claim(t, s, store.ClaimParams{Limit: 1, Kinds: []store.Kind{store.KindStatus}})
		if len(jobs) == 0 {
			break
		}
		j := jobs[0]
		if j.Channel != channel {
			t.Fatalf("status job of channel %q", j.Channel)
		}
		var p statusPayload
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			t.Fatalf("status payload %q: %v", j.Payload, err)
		}
		if want := statusLane(mustAtoi(t, p.RecipientID)); j.Lane != want {
			t.Fatalf("status job lane %q, want %q", j.Lane, want)
		}
		out = append(out, p)
		complete(t, s, j, store.Batch{})
	}
	return out
}

// statusPayload is what receiptsOf's jobs carry.
type statusPayload struct {
	TurnID      string `json:"id"`
	Status      string `json:"status"`
	Timestamp   int64  `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
}

func statusLane(chat int64) string { return "status:" + strconv.FormatInt(chat, 10) }

// receiptsOf asks for a delivered and a read status job per message read,
// as the bridge does.
func receiptsOf(channel string, chat int64, at time.Time) store.Receipts {
	return store.Receipts{Channel: channel, ChatID: chat, At: at, Lane: statusLane(chat),
		Jobs: func(read []store.ReadMessage) []store.NewJob {
			var jobs []store.NewJob
			for _, m := range read {
				for _, st := range []string{"delivered", "read"} {
					p, _ := json.Marshal(statusPayload{m.TurnID, st, m.ReadAt.Unix(), strconv.FormatInt(chat, 10)})
					jobs = append(jobs, store.NewJob{Channel: channel, Kind: store.KindStatus, Lane: statusLane(chat), Payload: p})
				}
			}
			return jobs
		}}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("recipient_id %q: %v", s, err)
	}
	return n
}

func testReceipts(t *testing.T, s store.Store) {
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	sent := func(chat int64, turnID string, offset time.Duration) store.Sent {
		return store.Sent{Channel: ch, ChatID: chat, TurnID: turnID, SentAt: base.Add(offset)}
	}
	_, err := s.Enqueue(t.Context(), store.Batch{Sent: []store.Sent{
		sent(1, "m2", 2*time.Second), // out of order: receipts go by SentAt
		sent(1, "m1", time.Second),
		sent(2, "other-chat", time.Second),
		sent(1, "m3", 3*time.Second),
		{Channel: "chan-b", ChatID: 1, TurnID: "other-channel", SentAt: base},
	}})
	noErr(t, "Enqueue(sent)", err)
	_, err = s.Enqueue(t.Context(), store.Batch{Sent: []store.Sent{sent(1, "m1", 9*time.Second)}})
	noErr(t, "Enqueue(sent again)", err)

	at := base.Add(time.Minute)
	enqueueOne(t, s, job("chat:1"))
	update := claimOne(t, s)
	complete(t, s, update, store.Batch{Receipts: []store.Receipts{receiptsOf(ch, 1, at)}})
	var want []statusPayload
	for _, id := range []string{"m1", "m2", "m3"} {
		for _, status := range []string{"delivered", "read"} {
			want = append(want, statusPayload{TurnID: id, Status: status, Timestamp: at.Unix(), RecipientID: "1"})
		}
	}
	if got := statusJobs(t, s, ch); !slices.Equal(got, want) {
		t.Fatalf("status jobs:\n got %+v\nwant %+v", got, want)
	}
	// Once only.
	_, err = s.Enqueue(t.Context(), store.Batch{Receipts: []store.Receipts{receiptsOf(ch, 1, at)}})
	noErr(t, "Enqueue(receipts again)", err)
	if got := statusJobs(t, s, ch); len(got) != 0 {
		t.Fatalf("second receipts queued %+v", got)
	}
	// A message sent later is reported by the next receipt; zero At is now.
	_, err = s.Enqueue(t.Context(), store.Batch{Sent: []store.Sent{sent(1, "m4", time.Hour)}})
	noErr(t, "Enqueue(sent m4)", err)
	before := time.Now().Unix()
	_, err = s.Enqueue(t.Context(), store.Batch{Receipts: []store.Receipts{receiptsOf(ch, 1, time.Time{})}})
	noErr(t, "Enqueue(receipts m4)", err)
	got := statusJobs(t, s, ch)
	if len(got) != 2 || got[0].TurnID != "m4" || got[0].Status != "delivered" || got[1].Status != "read" ||
		got[0].Timestamp < before || got[0].Timestamp > time.Now().Unix() {
		t.Fatalf("receipts of m4: %+v", got)
	}
	// Other chats and channels were untouched.
	_, err = s.Enqueue(t.Context(), store.Batch{Receipts: []store.Receipts{receiptsOf(ch, 2, at)}})
	noErr(t, "Enqueue(receipts chat 2)", err)
	if got := statusJobs(t, s, ch); len(got) != 2 || got[0].TurnID != "other-chat" || got[0].RecipientID != "2" {
		t.Fatalf("receipts of chat 2: %+v", got)
	}
	_, err = s.Enqueue(t.Context(), store.Batch{Receipts: []store.Receipts{receiptsOf("chan-b", 1, at)}})
	noErr(t, "Enqueue(receipts chan-b)", err)
	if got := statusJobs(t, s, "chan-b"); len(got) != 2 || got[0].TurnID != "other-channel" {
		t.Fatalf("receipts of chan-b: %+v", got)
	}
}

func testReceiptsConcurrent(t *testing.T, s store.Store) {
	var sent []store.Sent
	for i := range 5 {
		sent = append(sent, store.Sent{Channel: ch, ChatID: 1, TurnID: "m" + strconv.Itoa(i)})
	}
	_, err := s.Enqueue(t.Context(), store.Batch{Sent: sent})
	noErr(t, "Enqueue(sent)", err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := s.Enqueue(t.Context(), store.Batch{Receipts: []store.Receipts{receiptsOf(ch, 1, time.Time{})}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, "concurrent receipts", err)
	}
	if got := statusJobs(t, s, ch); len(got) != 10 {
		t.Fatalf("8 concurrent receipts of 5 messages queued %d statuses, want 10", len(got))
	}
}

func testOffsets(t *testing.T, s store.Store) {
	off := func(channel string, want int64) {
		t.Helper()
		if got, err := s.Offset(t.Context(), channel); err != nil || got != want {
			t.Fatalf("Offset(%s) = %d, %v; want %d", channel, got, err, want)
		}
	}
	off(ch, 0)
	noErr(t, "SetOffset", s.SetOffset(t.Context(), ch, 10))
	off(ch, 10)
	noErr(t, "SetOffset(back)", s.SetOffset(t.Context(), ch, 5))
	off(ch, 10)
	_, err := s.Enqueue(t.Context(), store.Batch{Jobs: []store.NewJob{job("chat:1")}, Offset: &store.Offset{Channel: ch, Next: 20}})
	noErr(t, "Enqueue(offset)", err)
	off(ch, 20)
	_, err = s.Enqueue(t.Context(), store.Batch{Offset: &store.Offset{Channel: ch, Next: 15}})
	noErr(t, "Enqueue(offset back)", err)
	off(ch, 20)
	off("chan-b", 0)
	noErr(t, "SetOffset(chan-b)", s.SetOffset(t.Context(), "chan-b", 1<<40))
	off("chan-b", 1<<40)
	off(ch, 20)
}
