// Package migrations holds the database schema of turn-telegram as goose SQL
// migrations, embedded in the binary: Postgres for PostgreSQL and SQLite for
// the embedded store. Both describe the same logical schema; store.Migrate
// applies them on start, and the migrate command applies them on demand.
//
// Every migration has a "-- +goose Up" and a "-- +goose Down" section. All
// times are UTC: timestamptz in PostgreSQL, unix microseconds (INTEGER) in
// SQLite.
package migrations

import (
	"embed"
	"io/fs"
)

var (
	//go:embed postgres/*.sql
	postgresFiles embed.FS
	//go:embed sqlite/*.sql
	sqliteFiles embed.FS
)

var (
	// Postgres holds the PostgreSQL migrations at its root, for
	// goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres).
	Postgres fs.FS = sub(postgresFiles, "postgres")
	// SQLite holds the SQLite migrations at its root, for
	// goose.NewProvider(goose.DialectSQLite3, db, migrations.SQLite).
	SQLite fs.FS = sub(sqliteFiles, "sqlite")
)

// sub roots fsys at dir; dir is a constant embedded above, so failure is a
// build mistake.
func sub(fsys fs.FS, dir string) fs.FS {
	f, err := fs.Sub(fsys, dir)
	if err != nil {
		panic("migrations: " + err.Error())
	}
	return f
}
