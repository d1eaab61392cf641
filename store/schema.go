package store

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// latestMigration is the highest version among the goose migrations in
// fsys (files named NNNNN_name.sql).
func latestMigration(fsys fs.FS) (int64, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, name := range names {
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if !ok || err != nil {
			return 0, fmt.Errorf("migration %q is not named NNNNN_name.sql", name)
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// schemaCurrent compares the database's version with the embedded latest.
func schemaCurrent(have int64, fsys fs.FS) error {
	want, err := latestMigration(fsys)
	if err != nil {
		return fmt.Errorf("store: check schema: %w", err)
	}
	if have < want {
		return fmt.Errorf("store: check schema: database at version %d, binary has %d: %w", have, want, ErrSchemaBehind)
	}
	return nil
}
