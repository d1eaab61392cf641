package store

import (
	"database/sql"
	"testing"
)

// TestSQLitePragmas checks the settings durability and the single-writer
// design rest on, on the connections themselves.
func TestSQLitePragmas(t *testing.T) {
	t.Parallel()
	s, err := OpenSQLite(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	for _, c := range []struct {
		db         *sql.DB
		name, want string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "2"}, // FULL
		{s.w, "foreign_keys", "1"},
		{s.w, "busy_timeout", "10000"},
		{s.w, "query_only", "0"},
		{s.r, "journal_mode", "wal"},
		{s.r, "busy_timeout", "10000"},
		{s.r, "query_only", "1"},
	} {
		if got := pragma(c.db, c.name); got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.name, got, c.want)
		}
	}
	if n := s.w.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool allows %d connections, want 1", n)
	}
	if _, err := s.r.ExecContext(t.Context(), "CREATE TABLE x (a)"); err == nil {
		t.Error("the read pool accepted a write")
	}
}
