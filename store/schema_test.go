package store_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/turn-telegram/turn-telegram/migrations"
	"github.com/turn-telegram/turn-telegram/store"
)

// TestCheckSchemaBehind checks that a database missing the newest
// migration is reported as behind, and is current once migrated.
func TestCheckSchemaBehind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "turn-telegram.db"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrations.SQLite, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckSchema(t.Context()); !errors.Is(err, store.ErrSchemaBehind) {
		t.Fatalf("CheckSchema at version 2 = %v, want ErrSchemaBehind", err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(t.Context()); err != nil {
		t.Fatalf("CheckSchema after Migrate = %v", err)
	}
}
