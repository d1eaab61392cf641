package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/turn-telegram/turn-telegram/migrations"
)

// Postgres is the Store on PostgreSQL, for hosted and multi-replica use: any
// number of processes may share one database. Claims lock rows with
// FOR UPDATE SKIP LOCKED; writes that add jobs to a lane hold a transaction
// advisory lock on that lane, so that within a lane job ids are committed in
// order and a claim never sees a later job before an earlier one.
type Postgres struct {
	pool *pgxpool.Pool
	conn *pgx.ConnConfig // for the database/sql handle goose needs
	// salt is the schema the connection works in, mixed into advisory lock
	// keys so that stores in different schemas of one database do not
	// contend.
	salt string

	// Jobs written since the queue's statistics were last refreshed; see
	// noteWrites.
	writes    atomic.Int64
	analyzing atomic.Bool

	// Acceptances and job state changes have committers of their own, so
	// that a webhook's answer never waits behind a group of completions.
	accept, settle *committer
}

var _ Store = (*Postgres)(nil)

// analyzeEvery is how many new jobs make the store refresh the queue's
// planner statistics itself. The claim query's plan depends on them
// (measured: 256 ms per claim with a 45,000-job backlog and none, 0.2 ms
// with them), and autovacuum may be off, or too slow for a sudden flood.
const analyzeEvery = 2000

// noteWrites counts new jobs and, past analyzeEvery, refreshes statistics
// in the background, one refresh at a time.
func (p *Postgres) noteWrites(n int) {
	if n == 0 || p.writes.Add(int64(n)) < analyzeEvery || !p.analyzing.CompareAndSwap(false, true) {
		return
	}
	p.writes.Store(0)
	go func() {
		defer p.analyzing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = p.pool.Exec(ctx, `ANALYZE jobs`)
	}()
}

// OpenPostgres connects to the database at url (a postgres:// URL or DSN, as
// pgx parses it: search_path selects the schema, pool_max_conns sizes the
// pool). It does not migrate: call Migrate.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx defaults to max(4, CPUs): far too few for webhooks, workers
		// and rate buckets all committing at once (measured: accept rate
		// doubled from 4 to 40 connections). pool_max_conns in the URL wins.
		cfg.MaxConns = 32
	}
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		// The claim's plan is estimated far above jit_above_cost (its
		// per-channel LIMIT is a parameter, so the planner assumes many
		// rows), and compiling it costs hundreds of milliseconds a claim
		// (measured: 380 ms with JIT, 0.33 ms without, 100,000 jobs
		// waiting). Short queries never gain from JIT.
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	p := &Postgres{pool: pool, conn: cfg.ConnConfig.Copy(), salt: schema}
	p.accept = newCommitter(1, p.runGroup, p.noteWrites)
	p.settle = newCommitter(1, p.runGroup, p.noteWrites)
	return p, nil
}

// Migrate applies pending migrations with goose, holding a session advisory
// lock so that replicas starting together migrate one at a time.
func (p *Postgres) Migrate(ctx context.Context) (err error) {
	db := stdlib.OpenDB(*p.conn)
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("store: migrate: %w", cerr)
		}
	}()
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(p.lockKey("goose migrations")),
		lock.WithLockTimeout(1, 900), // poll each second, for up to 15 minutes
	)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := p.pool.Exec(ctx, `ANALYZE jobs`); err != nil {
		return fmt.Errorf("store: migrate: analyze: %w", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (p *Postgres) Close() error {
	p.accept.close()
	p.settle.close()
	p.pool.Close()
	return nil
}

// lockKey is the advisory lock key of name in this store's schema.
func (p *Postgres) lockKey(parts ...string) int64 {
	h := fnv.New64a()
	h.Write([]byte(p.salt))
	for _, s := range parts {
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	return int64(h.Sum64())
}

// inTx runs fn in a READ COMMITTED transaction, committing when it returns
// nil.
func (p *Postgres) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, p.pool, fn)
}

// noRows reports whether err means a query found nothing.
func noRows(err error) bool {
	return errors.Is(err, pgx.ErrNoRows)
}
