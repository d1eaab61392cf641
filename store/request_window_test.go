package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// TestRequestWindow: a request accepted longer than RequestWindow ago is
// forgotten, so the same body is a new message again (a journey repeating
// itself the next day is heard). The stored time is moved back by hand:
// the stores take time from the process clock.
func TestRequestWindow(t *testing.T) {
	t.Parallel()
	age := func(t *testing.T, exec func(ctx context.Context, q string) error, q string) {
		if err := exec(t.Context(), q); err != nil {
			t.Fatalf("age the request: %v", err)
		}
	}
	stores := []struct {
		name string
		open func(t *testing.T) (store.Store, func(ctx context.Context, q string) error, string)
	}{
		{"postgres", func(t *testing.T) (store.Store, func(context.Context, string) error, string) {
			dsn := storetest.PostgresURL(t)
			s, err := store.OpenPostgres(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			exec := func(ctx context.Context, q string) error {
				conn, err := pgx.Connect(ctx, dsn)
				if err != nil {
					return err
				}
				defer conn.Close(ctx)
				_, err = conn.Exec(ctx, q)
				return err
			}
			return s, exec, `UPDATE turn_requests SET accepted_at = accepted_at - interval '24 hours 1 second'`
		}},
		{"sqlite", func(t *testing.T) (store.Store, func(context.Context, string) error, string) {
			dir := t.TempDir()
			s, err := store.OpenSQLite(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			exec := func(ctx context.Context, q string) error {
				db, err := sql.Open("sqlite", filepath.Join(dir, "turn-telegram.db")+"?_pragma=busy_timeout(5000)")
				if err != nil {
					return err
				}
				defer db.Close()
				_, err = db.ExecContext(ctx, q)
				return err
			}
			return s, exec, `UPDATE turn_requests SET accepted_at = accepted_at - 86401000000`
		}},
	}
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, exec, backdate := tc.open(t)
			d := sha256.Sum256([]byte(`{"text":"hi"}`))
			acc := func(id string) string {
				got, err := s.Accept(t.Context(), store.Request{Channel: "c", Digest: d[:], TurnID: id},
					store.Batch{Jobs: []store.NewJob{{Channel: "c", Kind: store.KindOutbound, Lane: "chat:1"}}})
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			if got := acc("turn-1"); got != "turn-1" {
				t.Fatalf("first = %q", got)
			}
			age(t, exec, backdate)
			if got := acc("turn-2"); got != "turn-2" {
				t.Fatalf("after the window = %q, want a new message turn-2", got)
			}
			if got := acc("turn-3"); got != "turn-2" {
				t.Fatalf("a repeat of the new message = %q, want turn-2", got)
			}
			age(t, exec, backdate)
			if _, err := s.Prune(t.Context(), time.Now()); err != nil {
				t.Fatal(err)
			}
			if got := acc("turn-4"); got != "turn-4" {
				t.Fatalf("after Prune past the window = %q, want turn-4", got)
			}
			jobs, err := s.ListJobs(t.Context(), store.JobFilter{Channel: "c"})
			if err != nil || len(jobs) != 3 {
				t.Fatalf("ListJobs = %d jobs, %v; want 3 messages", len(jobs), err)
			}
		})
	}
}
