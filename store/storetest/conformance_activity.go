package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var activityCases = []conformanceCase{
	{"ChatSeenSetByClearGone", testChatSeen},
	{"ExtendKeepsLease", testExtend},
	{"TakeSharedBucket", testTake},
}

func testChatSeen(t *testing.T, s store.Store) {
	ctx := context.Background()
	seen, err := s.ChatSeen(ctx, ch, 7)
	noErr(t, "seen of unknown chat", err)
	if !seen.IsZero() {
		t.Fatalf("unknown chat seen at %v", seen)
	}
	noErr(t, "set gone", s.SetChatGone(ctx, ch, 7, "blocked"))
	before := time.Now().Add(-time.Second)
	_, err = s.Enqueue(ctx, store.Batch{ClearGone: []store.ChatRef{{Channel: ch, ChatID: 7}, {Channel: ch, ChatID: 8}}})
	noErr(t, "clear gone", err)
	for _, chat := range []int64{7, 8} {
		seen, err = s.ChatSeen(ctx, ch, chat)
		noErr(t, "seen", err)
		if seen.Before(before) || seen.After(time.Now().Add(time.Second)) {
			t.Errorf("chat %d seen at %v, want about now", chat, seen)
		}
	}
	gone, _, err := s.ChatGone(ctx, ch, 7)
	noErr(t, "gone", err)
	if gone {
		t.Error("ClearGone left the chat gone")
	}
	if seen, _ := s.ChatSeen(ctx, "other", 7); !seen.IsZero() {
		t.Error("another channel's chat counts as seen")
	}
}

func testExtend(t *testing.T, s store.Store) {
	ctx := context.Background()
	enqueueOne(t, s, job("x"))
	// Leases long against the sleeps, so a loaded machine cannot make a
	// renewal late: the test is about renewal, not about timing.
	const lease = 1500 * time.Millisecond
	j := claim(t, s, store.ClaimParams{Worker: "a", Limit: 1, Lease: lease})[0]
	for range 4 {
		time.Sleep(lease / 3)
		noErr(t, "extend", s.Extend(ctx, j, lease))
		noClaim(t, s, "an extended lease is still held")
	}
	time.Sleep(lease + 100*time.Millisecond)
	other := waitClaim(t, s, store.ClaimParams{Worker: "b", Limit: 1, Lease: time.Minute}, 2*time.Second)
	if len(other) != 1 || other[0].ID != j.ID {
		t.Fatalf("expired lease not taken over: %+v", other)
	}
	if err := s.Extend(ctx, j, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("extend with a stale claim: %v, want ErrLeaseLost", err)
	}
	complete(t, s, other[0], store.Batch{})
}

func testTake(t *testing.T, s store.Store) {
	ctx := context.Background()
	const rate, burst = 10.0, 3
	// The bucket refills from its first take on: time spent since then
	// shortens the waits below.
	start := time.Now()
	for i := range burst {
		wait, err := s.Take(ctx, "bot:a", rate, burst)
		noErr(t, "take", err)
		if wait != 0 {
			t.Fatalf("token %d of a full bucket: wait %v", i, wait)
		}
	}
	// An empty bucket still reserves: each caller learns its turn, one
	// token's time after the previous one (less the time between calls, as
	// the bucket refills meanwhile).
	var waits []time.Duration
	for range 3 {
		wait, err := s.Take(ctx, "bot:a", rate, burst)
		noErr(t, "take", err)
		waits = append(waits, wait)
	}
	spent := time.Since(start)
	for i, w := range waits {
		most := time.Duration(i+1) * time.Second / rate
		if w <= 0 || w > most+5*time.Millisecond || w < most-spent-5*time.Millisecond {
			t.Fatalf("reservation %d on an empty bucket: wait %v, want %v less at most %v (all: %v)", i, w, most, spent, waits)
		}
		if i > 0 && w <= waits[i-1] {
			t.Fatalf("reservations not queued one after another: %v", waits)
		}
	}
	if w, _ := s.Take(ctx, "bot:b", rate, burst); w != 0 {
		t.Fatalf("another bucket is not independent: wait %v", w)
	}
	time.Sleep(waits[2] + time.Second/rate + 20*time.Millisecond)
	if w, _ := s.Take(ctx, "bot:a", rate, burst); w != 0 {
		t.Fatalf("after the reservations' time a token should be there: wait %v", w)
	}
	// The bucket holds across takers: 8 goroutines taking at 50/s from a
	// bucket of 5 get about 5 + 50*elapsed immediate tokens, not more.
	const r2, b2 = 50.0, 5
	start = time.Now()
	got := make(chan int, 8)
	for range 8 {
		go func() {
			n := 0
			for time.Since(start) < 400*time.Millisecond {
				if w, err := s.Take(ctx, "bot:c", r2, b2); err == nil && w == 0 {
					n++
				}
			}
			got <- n
		}()
	}
	total := 0
	for range 8 {
		total += <-got
	}
	limit := b2 + int(r2*time.Since(start).Seconds()) + 1
	if total > limit {
		t.Fatalf("took %d tokens, more than the bucket allows (%d)", total, limit)
	}
	if total < b2 {
		t.Fatalf("took only %d tokens", total)
	}
}
