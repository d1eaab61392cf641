package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// benchEach runs fn against both stores; prepare, if not nil, runs first,
// untimed.
func benchEach(b *testing.B, prepare, fn func(b *testing.B, s store.Store)) {
	b.Run("postgres", func(b *testing.B) {
		dsn := storetest.PostgresURL(b)
		s, err := store.OpenPostgres(b.Context(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if err := s.Migrate(b.Context()); err != nil {
			b.Fatal(err)
		}
		if prepare != nil {
			prepare(b, s)
			analyze(b, dsn)
		}
		b.ResetTimer()
		fn(b, s)
	})
	b.Run("sqlite", func(b *testing.B) {
		s := storetest.SQLite(b)
		if prepare != nil {
			prepare(b, s)
		}
		b.ResetTimer()
		fn(b, s)
	})
}

// analyze gives the planner the statistics autovacuum keeps in a running
// service (the migration makes it analyze the queue table often): without
// them it takes a fresh backlog of a few thousand jobs for a handful of rows
// and sorts it on every claim instead of walking the claim-order index.
func analyze(b *testing.B, dsn string) {
	conn, err := pgx.Connect(b.Context(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(b.Context())
	if _, err := conn.Exec(b.Context(), "ANALYZE jobs"); err != nil {
		b.Fatal(err)
	}
}

func benchJob(i int) store.NewJob {
	return store.NewJob{
		Channel:  "bench",
		Kind:     store.KindUpdate,
		Lane:     fmt.Sprintf("chat:%d", i%100),
		DedupKey: fmt.Sprintf("update-%d", i),
		Payload:  []byte(`{"update_id":1,"message":{"text":"hello"}}`),
	}
}

// BenchmarkEnqueue: one job per durable batch, as the webhooks store them.
func BenchmarkEnqueue(b *testing.B) {
	benchEach(b, nil, func(b *testing.B, s store.Store) {
		for i := range b.N {
			if _, err := s.Enqueue(b.Context(), store.Batch{Jobs: []store.NewJob{benchJob(i)}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkClaimComplete: one claim and one completion per job, from a
// backlog of b.N jobs spread over 100 lanes.
func BenchmarkClaimComplete(b *testing.B) {
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
		for range b.N {
			jobs, err := s.Claim(b.Context(), store.ClaimParams{Worker: "bench", Limit: 1, Lease: time.Minute})
			if err != nil || len(jobs) != 1 {
				b.Fatalf("Claim: %d jobs, %v", len(jobs), err)
			}
			if err := s.Complete(b.Context(), jobs[0], store.Batch{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
