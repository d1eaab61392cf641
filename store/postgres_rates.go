package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChatSeen is when the person last wrote; zero if never.
func (p *Postgres) ChatSeen(ctx context.Context, channel string, chatID int64) (time.Time, error) {
	var seen *time.Time
	err := p.pool.QueryRow(ctx, `SELECT seen_at FROM chats WHERE channel = $1 AND chat_id = $2`,
		channel, chatID).Scan(&seen)
	switch {
	case noRows(err) || (err == nil && seen == nil):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("store: chat %d seen: %w", chatID, err)
	}
	return seen.UTC(), nil
}

// Extend renews a claimed job's lease.
func (p *Postgres) Extend(ctx context.Context, job Job, lease time.Duration) error {
	return p.finish(ctx, "extend", job, Batch{}, `lease_until = $3`, now().Add(lease))
}

// Take takes one token from a shared bucket. The row lock serialises
// replicas on the same bucket, which is the point.
func (p *Postgres) Take(ctx context.Context, key string, rate float64, burst int) (time.Duration, error) {
	var wait time.Duration
	err := p.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO rate_buckets (key, tokens, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO NOTHING`, key, float64(burst), now()); err != nil {
			return err
		}
		var tokens float64
		var updated time.Time
		if err := tx.QueryRow(ctx, `SELECT tokens, updated_at FROM rate_buckets WHERE key = $1 FOR UPDATE`,
			key).Scan(&tokens, &updated); err != nil {
			return err
		}
		// Read the clock only once the row is ours, and never move the
		// bucket's time backwards, or a refill would be counted twice.
		t := now()
		if t.Before(updated) {
			t = updated
		}
		tokens, wait = takeToken(tokens, t.Sub(updated), rate, burst)
		_, err := tx.Exec(ctx, `UPDATE rate_buckets SET tokens = $2, updated_at = $3 WHERE key = $1`, key, tokens, t)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: take %q: %w", key, err)
	}
	return wait, nil
}

// takeToken refills a bucket for the elapsed time and takes one token if it
// can; otherwise it says how long until one is there.
func takeToken(tokens float64, elapsed time.Duration, rate float64, burst int) (float64, time.Duration) {
	if elapsed > 0 {
		tokens = min(float64(burst), tokens+elapsed.Seconds()*rate)
	}
	if tokens >= 1 {
		return tokens - 1, 0
	}
	return tokens, time.Duration((1 - tokens) / rate * float64(time.Second))
}
