package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// sqliteGroup is the write path's dialect on SQLite. Statements run in the
// process, so a statement per row costs no round trip; what group commit
// saves here is the fsync and the writer's turn.
type sqliteGroup struct{ tx *sql.Tx }

var _ groupTx = sqliteGroup{}

// runGroup runs fn in one write transaction on the single writer.
func (s *SQLite) runGroup(ctx context.Context, fn func(tx groupTx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error { return fn(sqliteGroup{tx}) })
}

// lockLanes has nothing to do: writes are serialised by the one writer.
func (sqliteGroup) lockLanes(context.Context, []laneRef) error { return nil }

// sync has nothing to do: statements run when they are given.
func (sqliteGroup) sync(context.Context) error { return nil }

func (g sqliteGroup) settle(ctx context.Context, fins []*finish, now time.Time, matched map[int64]bool) error {
	stmt, err := g.tx.PrepareContext(ctx, `
		UPDATE jobs SET
			state = :state,
			progress = CASE WHEN :progress >= 0 THEN :progress ELSE progress END,
			next_attempt_at = coalesce(:next_at, next_attempt_at),
			last_error = coalesce(:reason, last_error),
			attempts = max(attempts - :undo, 0),
			lease_token = CASE WHEN :release THEN NULL ELSE lease_token END,
			leased_by = CASE WHEN :release THEN NULL ELSE leased_by END,
			lease_until = CASE WHEN :release THEN NULL ELSE lease_until END,
			updated_at = :now
		WHERE id = :id AND lease_token = :token AND state = 'pending'`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, f := range fins {
		var next, reason any
		if !f.nextAt.IsZero() {
			next = micros(orNow(f.nextAt, now))
		}
		if f.reason != "" {
			reason = f.reason
		}
		undo := 0
		if f.uncount {
			undo = 1
		}
		res, err := stmt.ExecContext(ctx, sql.Named("state", string(f.state)), sql.Named("progress", f.progress),
			sql.Named("next_at", next), sql.Named("reason", reason), sql.Named("undo", undo),
			sql.Named("release", f.release), sql.Named("now", micros(now)),
			sql.Named("id", f.job.ID), sql.Named("token", f.job.Token))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n > 0 {
			matched[f.job.ID] = true
		}
	}
	return nil
}

func (g sqliteGroup) acceptRequests(ctx context.Context, reqs []*Request, now, cut time.Time, held map[requestKey]string) error {
	stmt, err := g.tx.PrepareContext(ctx, `
		INSERT INTO turn_requests AS t (channel, digest, turn_id, accepted_at) VALUES (:channel, :digest, :id, :now)
		ON CONFLICT (channel, digest) DO UPDATE SET
			turn_id = CASE WHEN t.accepted_at < :cut THEN excluded.turn_id ELSE t.turn_id END,
			accepted_at = CASE WHEN t.accepted_at < :cut THEN excluded.accepted_at ELSE t.accepted_at END
		RETURNING turn_id`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range reqs {
		var id string
		if err := stmt.QueryRowContext(ctx, sql.Named("channel", r.Channel), sql.Named("digest", r.Digest),
			sql.Named("id", r.TurnID), sql.Named("now", micros(now)), sql.Named("cut", micros(cut))).Scan(&id); err != nil {
			return err
		}
		held[keyOf(r)] = id
	}
	return nil
}

func (g sqliteGroup) markRead(ctx context.Context, rs []Receipts, now time.Time, out map[ChatRef][]ReadMessage) error {
	for _, r := range rs {
		at := orNow(r.At, now)
		rows, err := g.tx.QueryContext(ctx, `
			UPDATE sent_messages SET read_at = ?
			WHERE channel = ? AND chat_id = ? AND read_at IS NULL
			RETURNING turn_id, sent_at, id`,
			micros(at), r.Channel, r.ChatID)
		if err != nil {
			return err
		}
		type row struct {
			m  ReadMessage
			id int64
		}
		var read []row
		for rows.Next() {
			var x row
			var sent int64
			if err := rows.Scan(&x.m.TurnID, &sent, &x.id); err != nil {
				rows.Close()
				return err
			}
			x.m.SentAt, x.m.ReadAt = fromMicros(sent), at
			read = append(read, x)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		slices.SortFunc(read, func(a, b row) int { return cmp.Compare(a.id, b.id) })
		c := ChatRef{r.Channel, r.ChatID}
		for _, x := range read {
			out[c] = append(out[c], x.m)
		}
	}
	return nil
}

func (g sqliteGroup) insertJobs(ctx context.Context, jobs []NewJob, now time.Time, ids []int64) error {
	stmt, err := g.tx.PrepareContext(ctx, `
		INSERT INTO jobs (channel, kind, lane, dedup_key, priority, payload, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?)
		ON CONFLICT (channel, kind, dedup_key) DO NOTHING
		RETURNING id`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i, j := range jobs {
		err := stmt.QueryRowContext(ctx, j.Channel, string(j.Kind), j.Lane, j.DedupKey, j.Priority,
			payloadOf(j.Payload), micros(orNow(j.NotBefore, now)), micros(now), micros(now)).Scan(&ids[i])
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return nil
}

// each runs one prepared statement once per row.
func each[T any](ctx context.Context, tx *sql.Tx, query string, rows []T, args func(T) []any) error {
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, args(r)...); err != nil {
			return err
		}
	}
	return nil
}

func (g sqliteGroup) putMaps(ctx context.Context, maps []MessageMap, now time.Time) error {
	return each(ctx, g.tx, `
		INSERT INTO message_map (channel, chat_id, telegram_id, turn_id, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (channel, chat_id, telegram_id) DO UPDATE SET turn_id = excluded.turn_id`,
		maps, func(m MessageMap) []any { return []any{m.Channel, m.ChatID, m.TelegramID, m.TurnID, micros(now)} })
}

func (g sqliteGroup) putCallbacks(ctx context.Context, cbs []Callback, now time.Time) error {
	return each(ctx, g.tx, `
		INSERT INTO callbacks (channel, key, grp, chat_id, turn_id, reply, reply_id, title, description, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (channel, key) DO NOTHING`,
		cbs, func(c Callback) []any {
			return []any{c.Channel, c.Key, cmp.Or(c.Group, c.Key), c.ChatID, c.TurnID, c.Reply, c.ReplyID,
				c.Title, c.Description, micros(orNow(c.CreatedAt, now))}
		})
}

func (g sqliteGroup) putSent(ctx context.Context, sent []Sent, now time.Time) error {
	return each(ctx, g.tx, `
		INSERT INTO sent_messages (channel, chat_id, turn_id, sent_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (channel, chat_id, turn_id) DO NOTHING`,
		sent, func(s Sent) []any { return []any{s.Channel, s.ChatID, s.TurnID, micros(orNow(s.SentAt, now))} })
}

func (g sqliteGroup) clearGone(ctx context.Context, chats []ChatRef, now time.Time) error {
	return each(ctx, g.tx, `
		INSERT INTO chats (channel, chat_id, seen_at) VALUES (?, ?, ?)
		ON CONFLICT (channel, chat_id) DO UPDATE
		SET gone_reason = NULL, gone_at = NULL, seen_at = excluded.seen_at`,
		chats, func(c ChatRef) []any { return []any{c.Channel, c.ChatID, micros(now)} })
}

func (g sqliteGroup) setOffsets(ctx context.Context, offs []Offset) error {
	for _, o := range offs {
		if err := sqliteSetOffset(ctx, g.tx, o.Channel, o.Next); err != nil {
			return err
		}
	}
	return nil
}

// sqlExecer is what both the writer pool and a transaction offer.
type sqlExecer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
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
