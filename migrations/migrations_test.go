package migrations_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/turn-telegram/turn-telegram/migrations"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// tables is the schema both dialects create.
var tables = []string{"callback_groups", "callbacks", "channels", "chats", "file_ids", "jobs", "media", "media_chunks", "message_map", "offsets", "rate_buckets", "sent_messages", "turn_requests"}

func TestDialectsHaveTheSameMigrations(t *testing.T) {
	t.Parallel()
	pg, err := fs.Glob(migrations.Postgres, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	lite, err := fs.Glob(migrations.SQLite, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) == 0 || !slices.Equal(pg, lite) {
		t.Fatalf("postgres migrations %v, sqlite migrations %v: want the same, non-empty", pg, lite)
	}
	for _, fsys := range []fs.FS{migrations.Postgres, migrations.SQLite} {
		for _, name := range pg {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "-- +goose Up") || !strings.Contains(string(b), "-- +goose Down") {
				t.Fatalf("%s lacks a goose Up or Down section", name)
			}
		}
	}
}

// upDownUp applies every migration, reverts them all, and applies them
// again, checking the tables each time.
func upDownUp(t *testing.T, db *sql.DB, dialect goose.Dialect, fsys fs.FS, listTables string) {
	ctx := context.Background()
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	have := func(want []string) {
		t.Helper()
		rows, err := db.QueryContext(ctx, listTables)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			if name != "goose_db_version" && !strings.HasPrefix(name, "sqlite_") {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("tables %v, want %v", got, want)
		}
	}
	for _, step := range []string{"up", "down", "up"} {
		switch step {
		case "up":
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up: %v", err)
			}
			have(tables)
		case "down":
			if _, err := p.DownTo(ctx, 0); err != nil {
				t.Fatalf("down: %v", err)
			}
			have(nil)
		}
	}
}

func TestSQLiteUpDownUp(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	upDownUp(t, db, goose.DialectSQLite3, migrations.SQLite,
		`SELECT name FROM sqlite_master WHERE type = 'table'`)
}

func TestPostgresUpDownUp(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	upDownUp(t, db, goose.DialectPostgres, migrations.Postgres,
		`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
}
