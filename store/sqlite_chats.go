package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TurnID finds the connector id mapped to a Telegram message.
func (s *SQLite) TurnID(ctx context.Context, channel string, chatID int64, telegramID int) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, `
		SELECT turn_id FROM message_map WHERE channel = ? AND chat_id = ? AND telegram_id = ?`,
		channel, chatID, telegramID).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("store: turn id of message %d in chat %d: %w", telegramID, chatID, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("store: turn id: %w", err)
	}
	return id, nil
}

// UseCallback resolves a pressed button; the first press of its group wins.
func (s *SQLite) UseCallback(ctx context.Context, channel string, chatID int64, key string, maxAge time.Duration) (Callback, bool, error) {
	var cb Callback
	var first bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		cb, first, err = useCallback(ctx, sqliteCallbacks{tx}, channel, chatID, key, maxAge)
		return err
	})
	return cb, first, err
}

// sqliteCallbacks is UseCallback's dialect on SQLite.
type sqliteCallbacks struct{ tx *sql.Tx }

func (c sqliteCallbacks) callback(ctx context.Context, channel, key string) (Callback, error) {
	var cb Callback
	var created int64
	err := c.tx.QueryRowContext(ctx, `
		SELECT channel, key, grp, chat_id, turn_id, reply, reply_id, title, description, created_at
		FROM callbacks WHERE channel = ? AND key = ?`, channel, key).Scan(
		&cb.Channel, &cb.Key, &cb.Group, &cb.ChatID, &cb.TurnID, &cb.Reply, &cb.ReplyID,
		&cb.Title, &cb.Description, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return cb, ErrNotFound
	}
	cb.CreatedAt = fromMicros(created)
	return cb, err
}

func (c sqliteCallbacks) useGroup(ctx context.Context, channel, group, key string, at time.Time) (bool, error) {
	res, err := c.tx.ExecContext(ctx, `
		INSERT INTO callback_groups (channel, grp, key, used_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (channel, grp) DO NOTHING`, channel, group, key, micros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetChatGone marks a chat as unreachable.
func (s *SQLite) SetChatGone(ctx context.Context, channel string, chatID int64, reason string) error {
	if _, err := s.w.ExecContext(ctx, `
		INSERT INTO chats (channel, chat_id, gone_reason, gone_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (channel, chat_id) DO UPDATE SET gone_reason = excluded.gone_reason, gone_at = excluded.gone_at`,
		channel, chatID, reason, micros(now())); err != nil {
		return fmt.Errorf("store: set chat %d gone: %w", chatID, err)
	}
	return nil
}

// ChatGone reports whether a chat is marked unreachable, and why.
func (s *SQLite) ChatGone(ctx context.Context, channel string, chatID int64) (bool, string, error) {
	var reason sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT gone_reason FROM chats WHERE channel = ? AND chat_id = ?`,
		channel, chatID).Scan(&reason)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !reason.Valid):
		return false, "", nil
	case err != nil:
		return false, "", fmt.Errorf("store: chat %d gone: %w", chatID, err)
	}
	return true, reason.String, nil
}

// Offset is the next getUpdates offset of a polled bot (0 if none yet).
func (s *SQLite) Offset(ctx context.Context, channel string) (int64, error) {
	var next int64
	err := s.r.QueryRowContext(ctx, `SELECT next FROM offsets WHERE channel = ?`, channel).Scan(&next)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("store: offset: %w", err)
	}
	return next, nil
}

// SetOffset stores the next getUpdates offset; it never moves backwards.
func (s *SQLite) SetOffset(ctx context.Context, channel string, offset int64) error {
	if err := sqliteSetOffset(ctx, s.w, channel, offset); err != nil {
		return fmt.Errorf("store: set %w", err)
	}
	return nil
}
