// Package storetest proves store.Store implementations: Run is the
// conformance suite both stores pass, Replicas runs its concurrency checks
// across stores sharing one database, and Postgres, PostgresURL, SQLite and
// Each give other packages' tests a fresh, migrated store.
//
// The PostgreSQL helpers use TEST_DATABASE_URL, or
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable, and give every
// test its own schema, dropped afterwards, so tests run in parallel. When the
// server cannot be reached they skip the test, unless CI=true: then they fail
// it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turn-telegram/turn-telegram/store"
)

// DefaultPostgresURL is the database the PostgreSQL helpers use when
// TEST_DATABASE_URL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// postgresURL is the server under test.
func postgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// redact hides a password in a URL for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "TEST_DATABASE_URL"
	}
	return u.Redacted()
}

var (
	reachOnce sync.Once
	reachErr  error
)

// requirePostgres skips (or, with CI=true, fails) t when the server does not
// answer. The server is asked once per test binary.
func requirePostgres(t testing.TB) {
	t.Helper()
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, postgresURL())
		if err != nil {
			reachErr = err
			return
		}
		reachErr = conn.Close(ctx)
	})
	if reachErr == nil {
		return
	}
	msg := fmt.Sprintf("PostgreSQL at %s is unreachable: %v (set TEST_DATABASE_URL)", redact(postgresURL()), reachErr)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true requires it")
	}
	t.Skip(msg)
}

// PostgresURL creates a schema of its own for t on the test server and
// returns a URL whose connections work in it (search_path, which pgx passes
// as a runtime parameter). The schema is dropped when t ends. It skips or
// fails t as the package doc says when the server is unreachable.
func PostgresURL(t testing.TB) string {
	t.Helper()
	requirePostgres(t)
	base := postgresURL()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "storetest_" + hex.EncodeToString(b[:])
	if err := adminExec(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return dsn
}

// adminExec runs one statement on a connection of its own.
func adminExec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// withSearchPath sets search_path in a URL or in a keyword/value DSN.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse TEST_DATABASE_URL: %w", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}

// Postgres returns a migrated PostgreSQL store in a fresh schema, closed and
// dropped when t ends.
func Postgres(t testing.TB) store.Store {
	t.Helper()
	dsn := PostgresURL(t)
	s, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return migrated(t, s)
}

// SQLite returns a migrated embedded store in a directory of t's, closed
// when t ends.
func SQLite(t testing.TB) store.Store {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return migrated(t, s)
}

func migrated(t testing.TB, s store.Store) store.Store {
	t.Helper()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storetest: %v", err)
		}
	})
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return s
}

// Each runs fn as the subtests "postgres" and "sqlite", each with a fresh
// store; the "postgres" one skips or fails as the package doc says when the
// server is unreachable.
func Each(t *testing.T, fn func(t *testing.T, s store.Store)) {
	t.Helper()
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
}
