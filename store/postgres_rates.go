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
	tag, err := p.pool.Exec(ctx, `UPDATE jobs SET lease_until = $3
		WHERE id = $1 AND lease_token = $2 AND state = 'pending'`, job.ID, job.Token, now().Add(lease))
	if err != nil {
		return fmt.Errorf("store: extend job %d: %w", job.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: extend job %d: %w", job.ID, ErrLeaseLost)
	}
	return nil
}

// Take reserves one token of a shared bucket in one statement. Bucket
// state is not worth an fsync: after a crash a bucket at most starts fuller
// than it was, which costs one burst.
func (p *Postgres) Take(ctx context.Context, key string, rate float64, burst int) (time.Duration, error) {
	var tokens float64
	// One round trip: BEGIN, the setting, the reservation and COMMIT go
	// together.
	err := p.pipelined(ctx, func(g pgGroup) error {
		g.queue(nil, `SET LOCAL synchronous_commit = off`)
		g.queue(func(br pgx.BatchResults) error { return br.QueryRow().Scan(&tokens) }, `
			INSERT INTO rate_buckets AS b (key, tokens, updated_at) VALUES ($1, $2::float8 - 1, $4)
			ON CONFLICT (key) DO UPDATE SET
				tokens = LEAST($2::float8, b.tokens
					+ GREATEST(0, extract(epoch FROM ($4::timestamptz - b.updated_at))) * $3::float8) - 1,
				updated_at = GREATEST(b.updated_at, $4::timestamptz)
			RETURNING tokens`, key, float64(burst), rate, now())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: take %q: %w", key, err)
	}
	return reservedWait(tokens, rate), nil
}

// reservedWait is how long until a reservation that left the bucket at
// tokens becomes valid.
func reservedWait(tokens, rate float64) time.Duration {
	if tokens >= 0 {
		return 0
	}
	return time.Duration(-tokens / rate * float64(time.Second))
}

// takeToken refills a bucket for the elapsed time and reserves one token;
// the balance may go negative (reservations waiting their turn).
func takeToken(tokens float64, elapsed time.Duration, rate float64, burst int) float64 {
	if elapsed > 0 {
		tokens = min(float64(burst), tokens+elapsed.Seconds()*rate)
	}
	return tokens - 1
}
