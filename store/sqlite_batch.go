package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// sqlExecer is what both the writer pool and a transaction offer.
type sqlExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// applyBatch applies b inside tx and returns the ids of b.Jobs, 0 for
// duplicates. Writes are serialised, so no lane locking is needed.
func (s *SQLite) applyBatch(ctx context.Context, tx *sql.Tx, now time.Time, b Batch) ([]int64, error) {
	ids := make([]int64, len(b.Jobs))
	for i, j := range b.Jobs {
		id, err := sqliteInsertJob(ctx, tx, now, j)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	for _, m := range b.Maps {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO message_map (channel, chat_id, telegram_id, turn_id, created_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (channel, chat_id, telegram_id) DO UPDATE SET turn_id = excluded.turn_id`,
			m.Channel, m.ChatID, m.TelegramID, m.TurnID, micros(now)); err != nil {
			return nil, fmt.Errorf("message map: %w", err)
		}
	}
	for _, c := range b.Callbacks {
		group := c.Group
		if group == "" {
			group = c.Key
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO callbacks (channel, key, grp, chat_id, turn_id, reply, reply_id, title, description, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (channel, key) DO NOTHING`,
			c.Channel, c.Key, group, c.ChatID, c.TurnID, c.Reply, c.ReplyID, c.Title, c.Description,
			micros(orNow(c.CreatedAt, now))); err != nil {
			return nil, fmt.Errorf("callback: %w", err)
		}
	}
	for _, m := range b.Sent {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO sent_messages (channel, chat_id, turn_id, sent_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (channel, chat_id, turn_id) DO NOTHING`,
			m.Channel, m.ChatID, m.TurnID, micros(orNow(m.SentAt, now))); err != nil {
			return nil, fmt.Errorf("sent: %w", err)
		}
	}
	for _, r := range b.Receipts {
		if err := sqliteApplyReceipts(ctx, tx, now, r); err != nil {
			return nil, err
		}
	}
	for _, c := range b.ClearGone {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO chats (channel, chat_id, seen_at) VALUES (?, ?, ?)
			ON CONFLICT (channel, chat_id) DO UPDATE
			SET gone_reason = NULL, gone_at = NULL, seen_at = excluded.seen_at`,
			c.Channel, c.ChatID, micros(now)); err != nil {
			return nil, fmt.Errorf("clear gone: %w", err)
		}
	}
	if b.Offset != nil {
		if err := sqliteSetOffset(ctx, tx, b.Offset.Channel, b.Offset.Next); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// sqliteInsertJob inserts j, returning its id, or 0 when its dedup key is
// known.
func sqliteInsertJob(ctx context.Context, tx *sql.Tx, now time.Time, j NewJob) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO jobs (channel, kind, lane, dedup_key, priority, payload, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?)
		ON CONFLICT (channel, kind, dedup_key) DO NOTHING
		RETURNING id`,
		j.Channel, string(j.Kind), j.Lane, j.DedupKey, j.Priority, payloadOf(j.Payload),
		micros(orNow(j.NotBefore, now)), micros(now), micros(now)).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("insert job: %w", err)
	}
	return id, nil
}

// sqliteApplyReceipts marks r's chat's unread sent messages read and queues
// their statuses.
func sqliteApplyReceipts(ctx context.Context, tx *sql.Tx, now time.Time, r Receipts) error {
	rows, err := tx.QueryContext(ctx, `
		UPDATE sent_messages SET read_at = ?
		WHERE channel = ? AND chat_id = ? AND read_at IS NULL
		RETURNING id, turn_id, sent_at`,
		micros(orNow(r.At, now)), r.Channel, r.ChatID)
	if err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	var sent []sentRow
	for rows.Next() {
		var row sentRow
		var at int64
		if err := rows.Scan(&row.id, &row.turnID, &at); err != nil {
			rows.Close()
			return fmt.Errorf("receipts: %w", err)
		}
		row.sentAt = fromMicros(at)
		sent = append(sent, row)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	jobs, err := receiptJobs(r, sent, now)
	if err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	for _, j := range jobs {
		if _, err := sqliteInsertJob(ctx, tx, now, j); err != nil {
			return fmt.Errorf("receipts: %w", err)
		}
	}
	return nil
}

// sqliteSetOffset stores a polled bot's offset, never moving it backwards.
func sqliteSetOffset(ctx context.Context, q sqlExecer, channel string, next int64) error {
	if _, err := q.ExecContext(ctx, `
		INSERT INTO offsets (channel, next) VALUES (?, ?)
		ON CONFLICT (channel) DO UPDATE SET next = max(offsets.next, excluded.next)`,
		channel, next); err != nil {
		return fmt.Errorf("offset: %w", err)
	}
	return nil
}
