package store_test

import (
	"net/url"
	"testing"

	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.Postgres(t) })
}

// TestPostgresReplicas runs the concurrency checks across three stores
// (three pools, as three processes) on one database.
func TestPostgresReplicas(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresURL(t)
	var stores []store.Store
	for range 3 {
		s, err := store.OpenPostgres(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	// Replicas starting together migrate one at a time.
	errs := make(chan error, len(stores))
	for _, s := range stores {
		go func() { errs <- s.Migrate(t.Context()) }()
	}
	for range stores {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	storetest.Replicas(t, stores...)
}

func TestOpenPostgresErrors(t *testing.T) {
	t.Parallel()
	if _, err := store.OpenPostgres(t.Context(), "postgres://%zz"); err == nil {
		t.Error("OpenPostgres accepted a malformed URL")
	}
	dsn := storetest.PostgresURL(t) // skips when there is no server
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skip("TEST_DATABASE_URL is not a URL")
	}
	u.Path = "/no_such_database_for_storetest"
	if s, err := store.OpenPostgres(t.Context(), u.String()); err == nil {
		s.Close()
		t.Error("OpenPostgres of a missing database succeeded")
	}
}
