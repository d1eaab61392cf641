package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ChatSeen is when the person last wrote; zero if never.
func (s *SQLite) ChatSeen(ctx context.Context, channel string, chatID int64) (time.Time, error) {
	var seen sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT seen_at FROM chats WHERE channel = ? AND chat_id = ?`,
		channel, chatID).Scan(&seen)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !seen.Valid):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("store: chat %d seen: %w", chatID, err)
	}
	return fromMicros(seen.Int64), nil
}

// Extend renews a claimed job's lease.
func (s *SQLite) Extend(ctx context.Context, job Job, lease time.Duration) error {
	n, err := s.exec(ctx, `UPDATE jobs SET lease_until = ?
		WHERE id = ? AND lease_token = ? AND state = 'pending'`, micros(now().Add(lease)), job.ID, job.Token)
	if err != nil {
		return fmt.Errorf("store: extend job %d: %w", job.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: extend job %d: %w", job.ID, ErrLeaseLost)
	}
	return nil
}

// Take reserves one token of a bucket kept in the database.
func (s *SQLite) Take(ctx context.Context, key string, rate float64, burst int) (time.Duration, error) {
	var wait time.Duration
	err := s.write(ctx, func(tx *sql.Tx) error {
		t := now()
		var tokens float64
		var updated int64
		err := tx.QueryRowContext(ctx, `SELECT tokens, updated_at FROM rate_buckets WHERE key = ?`, key).
			Scan(&tokens, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			tokens, updated, err = float64(burst), micros(t), nil
		}
		if err != nil {
			return err
		}
		if t.Before(fromMicros(updated)) {
			t = fromMicros(updated)
		}
		tokens = takeToken(tokens, t.Sub(fromMicros(updated)), rate, burst)
		wait = reservedWait(tokens, rate)
		_, err = tx.ExecContext(ctx, `
			INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
			key, tokens, micros(t))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: take %q: %w", key, err)
	}
	return wait, nil
}
