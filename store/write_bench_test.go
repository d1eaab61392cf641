package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// BenchmarkEnqueueParallel stores one job per durable batch from 16
// goroutines at once, as concurrent webhook calls do: PostgreSQL commits
// them in groups, the embedded store one after another.
func BenchmarkEnqueueParallel(b *testing.B) {
	benchEach(b, nil, func(b *testing.B, s store.Store) {
		var next atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(8) // 8 x GOMAXPROCS goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				if _, err := s.Enqueue(b.Context(), store.Batch{Jobs: []store.NewJob{benchJob(i)}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkCompleteInbound claims a job and completes it with what a
// delivered inbound message writes: its message map entry, the chat seen
// again, and read receipts for the chat.
func BenchmarkCompleteInbound(b *testing.B) {
	fill := func(b *testing.B, s store.Store) {
		const chunk = 500
		for i := 0; i < b.N; i += chunk {
			var jobs []store.NewJob
			for j := i; j < min(i+chunk, b.N); j++ {
				jobs = append(jobs, benchJob(j))
			}
			if _, err := s.Enqueue(b.Context(), store.Batch{Jobs: jobs}); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchEach(b, fill, func(b *testing.B, s store.Store) {
		b.ReportAllocs()
		for i := range b.N {
			jobs, err := s.Claim(b.Context(), store.ClaimParams{Worker: "bench", Limit: 1, Lease: time.Minute})
			if err != nil || len(jobs) != 1 {
				b.Fatalf("Claim: %d jobs, %v", len(jobs), err)
			}
			chat := int64(i % 100)
			done := store.Batch{
				Maps:      []store.MessageMap{{Channel: "bench", ChatID: chat, TelegramID: i + 1, TurnID: fmt.Sprintf("tg:%d:%d", chat, i+1)}},
				ClearGone: []store.ChatRef{{Channel: "bench", ChatID: chat}},
				Receipts:  []store.Receipts{{Channel: "bench", ChatID: chat, Lane: "status:bench"}},
			}
			if err := s.Complete(b.Context(), jobs[0], done); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTake takes tokens from a shared rate bucket that never runs dry:
// the cost the shared limiter adds to every send (two takes: the chat's
// bucket and the bot's).
func BenchmarkTake(b *testing.B) {
	benchEach(b, nil, func(b *testing.B, s store.Store) {
		b.ReportAllocs()
		for i := range b.N {
			if _, err := s.Take(b.Context(), fmt.Sprintf("tg:bench:chat:%d", i%1000), 1e9, 1e9); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTakeContended takes from the one bot-wide bucket from 16
// goroutines, as the delivery workers do when the shared limiter is on:
// the row lock makes them queue.
func BenchmarkTakeContended(b *testing.B) {
	benchEach(b, nil, func(b *testing.B, s store.Store) {
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Take(b.Context(), "tg:bench:bot", 1e9, 1e9); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkChatSeen is the read every Turn webhook call makes to choose
// its message's priority.
func BenchmarkChatSeen(b *testing.B) {
	prepare := func(b *testing.B, s store.Store) {
		var refs []store.ChatRef
		for i := range 1000 {
			refs = append(refs, store.ChatRef{Channel: "bench", ChatID: int64(i)})
		}
		if _, err := s.Enqueue(b.Context(), store.Batch{ClearGone: refs}); err != nil {
			b.Fatal(err)
		}
	}
	benchEach(b, prepare, func(b *testing.B, s store.Store) {
		b.ReportAllocs()
		for i := range b.N {
			if _, err := s.ChatSeen(b.Context(), "bench", int64(i%2000)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
