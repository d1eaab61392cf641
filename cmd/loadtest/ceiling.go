package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the driver the embedded store uses
)

// scratchPayload is about the size of a stored text update.
var scratchPayload = make([]byte, 420)

// Ceiling is the database's own rate of durable single-row writes: one
// INSERT per transaction (autocommit, so each is committed before the next
// of its connection starts), from `Concurrency` connections at once, into a
// scratch table with a primary key and nothing else.
type Ceiling struct {
	Concurrency int     `json:"concurrency"`
	Conns       int     `json:"conns"` // database connections used
	Rate        float64 `json:"rate"`  // committed inserts per second
	Latency     Dist    `json:"latency"`
}

// ceilingPostgres measures the ceiling on PostgreSQL with `conc`
// connections, in a fresh schema.
func ceilingPostgres(ctx context.Context, baseURL string, conc int, d time.Duration) (Ceiling, error) {
	schema, url, err := createSchema(ctx, baseURL, 0)
	if err != nil {
		return Ceiling{}, err
	}
	defer dropSchema(baseURL, schema)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return Ceiling{}, err
	}
	cfg.MaxConns, cfg.MinConns = int32(conc), int32(conc)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return Ceiling{}, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE ceiling_scratch (id bigserial PRIMARY KEY, payload bytea NOT NULL)`); err != nil {
		return Ceiling{}, err
	}
	insert := func(ctx context.Context) error {
		_, err := pool.Exec(ctx, `INSERT INTO ceiling_scratch (payload) VALUES ($1)`, scratchPayload)
		return err
	}
	c, err := hammer(ctx, conc, d, insert)
	c.Conns = conc
	return c, err
}

// ceilingSQLite measures the ceiling of an SQLite file set up as the
// embedded store sets up its own (WAL, synchronous=FULL, one writer
// connection, BEGIN IMMEDIATE), with `conc` goroutines writing.
func ceilingSQLite(ctx context.Context, conc int, d time.Duration) (Ceiling, error) {
	dir, err := os.MkdirTemp("", "loadtest-ceiling-")
	if err != nil {
		return Ceiling{}, err
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", filepath.Join(dir, "ceiling.db")+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return Ceiling{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE ceiling_scratch (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)`); err != nil {
		return Ceiling{}, err
	}
	insert := func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, `INSERT INTO ceiling_scratch (payload) VALUES (?)`, scratchPayload)
		return err
	}
	c, err := hammer(ctx, conc, d, insert)
	c.Conns = 1
	return c, err
}

// hammer runs write from conc goroutines for d and measures it.
func hammer(ctx context.Context, conc int, d time.Duration, write func(context.Context) error) (Ceiling, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lat   []time.Duration
		count atomic.Int64
		first error
	)
	start := time.Now()
	deadline := start.Add(d)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				if err := write(ctx); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
				count.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return Ceiling{}, fmt.Errorf("ceiling: %w", first)
	}
	return Ceiling{Concurrency: conc, Rate: float64(count.Load()) / elapsed.Seconds(), Latency: distOf(lat)}, nil
}
