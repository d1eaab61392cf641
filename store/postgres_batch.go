package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lockLanes takes the transaction advisory lock of every lane b adds jobs
// to, in key order (so that two transactions never wait on each other). It
// must run before the transaction touches any row.
func (p *Postgres) lockLanes(ctx context.Context, tx pgx.Tx, b Batch) error {
	var keys []int64
	for _, j := range b.Jobs {
		keys = append(keys, p.lockKey("lane", j.Channel, j.Lane))
	}
	for _, r := range b.Receipts {
		keys = append(keys, p.lockKey("lane", r.Channel, StatusLane(r.ChatID)))
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, k); err != nil {
			return fmt.Errorf("lock lane: %w", err)
		}
	}
	return nil
}

// applyBatch applies b inside tx (whose lanes lockLanes has locked) and
// returns the ids of b.Jobs, 0 for duplicates.
func (p *Postgres) applyBatch(ctx context.Context, tx pgx.Tx, now time.Time, b Batch) ([]int64, error) {
	ids := make([]int64, len(b.Jobs))
	for i, j := range b.Jobs {
		id, err := p.insertJob(ctx, tx, now, j)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	for _, m := range b.Maps {
		if _, err := tx.Exec(ctx, `
			INSERT INTO message_map (channel, chat_id, telegram_id, turn_id, created_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (channel, chat_id, telegram_id) DO UPDATE SET turn_id = EXCLUDED.turn_id`,
			m.Channel, m.ChatID, m.TelegramID, m.TurnID, now); err != nil {
			return nil, fmt.Errorf("message map: %w", err)
		}
	}
	for _, c := range b.Callbacks {
		group := c.Group
		if group == "" {
			group = c.Key
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO callbacks (channel, key, grp, chat_id, turn_id, reply, reply_id, title, description, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (channel, key) DO NOTHING`,
			c.Channel, c.Key, group, c.ChatID, c.TurnID, c.Reply, c.ReplyID, c.Title, c.Description,
			orNow(c.CreatedAt, now)); err != nil {
			return nil, fmt.Errorf("callback: %w", err)
		}
	}
	for _, s := range b.Sent {
		if _, err := tx.Exec(ctx, `
			INSERT INTO sent_messages (channel, chat_id, turn_id, sent_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (channel, chat_id, turn_id) DO NOTHING`,
			s.Channel, s.ChatID, s.TurnID, orNow(s.SentAt, now)); err != nil {
			return nil, fmt.Errorf("sent: %w", err)
		}
	}
	for _, r := range b.Receipts {
		if err := p.applyReceipts(ctx, tx, now, r); err != nil {
			return nil, err
		}
	}
	for _, c := range b.ClearGone {
		if _, err := tx.Exec(ctx, `
			INSERT INTO chats (channel, chat_id, seen_at) VALUES ($1, $2, $3)
			ON CONFLICT (channel, chat_id) DO UPDATE
			SET gone_reason = NULL, gone_at = NULL, seen_at = EXCLUDED.seen_at`,
			c.Channel, c.ChatID, now); err != nil {
			return nil, fmt.Errorf("clear gone: %w", err)
		}
	}
	if b.Offset != nil {
		if err := setOffsetPostgres(ctx, tx, b.Offset.Channel, b.Offset.Next); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// insertJob inserts j, returning its id, or 0 when its dedup key is known.
func (p *Postgres) insertJob(ctx context.Context, tx pgx.Tx, now time.Time, j NewJob) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO jobs (channel, kind, lane, dedup_key, priority, payload, next_attempt_at, created_at, updated_at)
		VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7, $8, $8)
		ON CONFLICT (channel, kind, dedup_key) DO NOTHING
		RETURNING id`,
		j.Channel, string(j.Kind), j.Lane, j.DedupKey, j.Priority, payloadOf(j.Payload),
		orNow(j.NotBefore, now), now).Scan(&id)
	switch {
	case noRows(err):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("insert job: %w", err)
	}
	return id, nil
}

// applyReceipts marks r's chat's unread sent messages read and queues their
// statuses. The UPDATE locks the rows, so two concurrent receipts for one
// chat cannot both report a message.
func (p *Postgres) applyReceipts(ctx context.Context, tx pgx.Tx, now time.Time, r Receipts) error {
	rows, err := tx.Query(ctx, `
		UPDATE sent_messages SET read_at = $3
		WHERE channel = $1 AND chat_id = $2 AND read_at IS NULL
		RETURNING id, turn_id, sent_at`,
		r.Channel, r.ChatID, orNow(r.At, now))
	if err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	sent, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (sentRow, error) {
		var s sentRow
		err := row.Scan(&s.id, &s.turnID, &s.sentAt)
		return s, err
	})
	if err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	jobs, err := receiptJobs(r, sent, now)
	if err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	for _, j := range jobs {
		if _, err := p.insertJob(ctx, tx, now, j); err != nil {
			return fmt.Errorf("receipts: %w", err)
		}
	}
	return nil
}

// pgExecer is what both a pool and a transaction offer.
type pgExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// setOffsetPostgres stores a polled bot's offset, never moving it backwards.
func setOffsetPostgres(ctx context.Context, q pgExecer, channel string, next int64) error {
	if _, err := q.Exec(ctx, `
		INSERT INTO offsets (channel, next) VALUES ($1, $2)
		ON CONFLICT (channel) DO UPDATE SET next = GREATEST(offsets.next, EXCLUDED.next)`,
		channel, next); err != nil {
		return fmt.Errorf("offset: %w", err)
	}
	return nil
}
