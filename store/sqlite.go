package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/turn-telegram/turn-telegram/migrations"
)

// Files the embedded store keeps in its directory.
const (
	sqliteFile = "turn-telegram.db"
	lockFile   = "turn-telegram.lock"
)

// SQLite is the Store in an embedded, pure-Go SQLite file, the single-bot
// default. One process owns the directory (an exclusive lock on
// turn-telegram.lock refuses a second one). Writes go through a single
// connection, each in a BEGIN IMMEDIATE transaction, so they are serialised;
// reads use a separate read-only pool, which WAL mode lets run alongside.
// synchronous=FULL makes every commit durable before the call returns, so an
// acknowledged write survives kill -9 and power loss.
type SQLite struct {
	dir  string
	w    *sql.DB   // the one writer connection
	r    *sql.DB   // read-only connections
	lock io.Closer // the directory lock, released by Close

	commit *committer

	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) dir and dir/turn-telegram.db. It
// returns an error wrapping ErrLocked when another process has dir open. It
// does not migrate: call Migrate.
func OpenSQLite(ctx context.Context, dir string) (*SQLite, error) {
	if strings.ContainsRune(dir, '?') {
		return nil, fmt.Errorf("store: open sqlite: directory %q: '?' is not allowed in the path", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &SQLite{dir: dir, lock: lock}
	if err := s.open(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open sqlite %s: %w", dir, err), s.Close())
	}
	// One committer: SQLite has one writer, and group commit is what lets
	// many callers share its fsyncs.
	s.commit = newCommitter(1, s.runGroup, nil)
	return s, nil
}

func (s *SQLite) open(ctx context.Context) error {
	path := filepath.Join(s.dir, sqliteFile)
	const common = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	w, err := sql.Open("sqlite", path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return err
	}
	s.w = w
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// The writer connects first: it switches the file to WAL.
	if err := w.PingContext(ctx); err != nil {
		return err
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		return err
	}
	s.r = r
	r.SetMaxOpenConns(4)
	return r.PingContext(ctx)
}

// Migrate applies pending migrations with goose.
func (s *SQLite) Migrate(ctx context.Context) error {
	provider, err := goose.NewProvider(goose.DialectSQLite3, s.w, migrations.SQLite,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the database and then releases the directory lock. Calling
// it again returns the first call's result.
func (s *SQLite) Close() error {
	s.closeOnce.Do(func() {
		if s.commit != nil {
			s.commit.close()
		}
		var errs []error
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		if s.w != nil {
			errs = append(errs, s.w.Close())
		}
		if s.lock != nil {
			errs = append(errs, s.lock.Close())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return s.closeErr
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the one writer
// connection), committing when it returns nil.
func (s *SQLite) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

// ignoreDone drops the error of rolling back a transaction that is already
// over (the context was cancelled).
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// micros is how the SQLite schema keeps times: unix microseconds, UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros reads a time kept by micros.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }
