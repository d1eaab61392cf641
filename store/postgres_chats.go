package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TurnID finds the connector id mapped to a Telegram message.
func (p *Postgres) TurnID(ctx context.Context, channel string, chatID int64, telegramID int) (string, error) {
	var id string
	err := p.pool.QueryRow(ctx, `
		SELECT turn_id FROM message_map WHERE channel = $1 AND chat_id = $2 AND telegram_id = $3`,
		channel, chatID, telegramID).Scan(&id)
	switch {
	case noRows(err):
		return "", fmt.Errorf("store: turn id of message %d in chat %d: %w", telegramID, chatID, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("store: turn id: %w", err)
	}
	return id, nil
}

// UseCallback resolves a pressed button; the first press of its group wins.
func (p *Postgres) UseCallback(ctx context.Context, channel string, chatID int64, key string, maxAge time.Duration) (Callback, bool, error) {
	var cb Callback
	var first bool
	err := p.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		cb, first, err = useCallback(ctx, pgCallbacks{tx}, channel, chatID, key, maxAge)
		return err
	})
	return cb, first, err
}

// pgCallbacks is UseCallback's dialect on PostgreSQL.
type pgCallbacks struct{ tx pgx.Tx }

func (c pgCallbacks) callback(ctx context.Context, channel, key string) (Callback, error) {
	var cb Callback
	err := c.tx.QueryRow(ctx, `
		SELECT channel, key, grp, chat_id, turn_id, reply, reply_id, title, description, created_at
		FROM callbacks WHERE channel = $1 AND key = $2`, channel, key).Scan(
		&cb.Channel, &cb.Key, &cb.Group, &cb.ChatID, &cb.TurnID, &cb.Reply, &cb.ReplyID,
		&cb.Title, &cb.Description, &cb.CreatedAt)
	if noRows(err) {
		return cb, ErrNotFound
	}
	cb.CreatedAt = cb.CreatedAt.UTC()
	return cb, err
}

func (c pgCallbacks) useGroup(ctx context.Context, channel, group, key string, at time.Time) (bool, error) {
	tag, err := c.tx.Exec(ctx, `
		INSERT INTO callback_groups (channel, grp, key, used_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel, grp) DO NOTHING`, channel, group, key, at)
	return tag.RowsAffected() == 1, err
}

// SetChatGone marks a chat as unreachable.
func (p *Postgres) SetChatGone(ctx context.Context, channel string, chatID int64, reason string) error {
	if _, err := p.pool.Exec(ctx, `
		INSERT INTO chats (channel, chat_id, gone_reason, gone_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel, chat_id) DO UPDATE SET gone_reason = EXCLUDED.gone_reason, gone_at = EXCLUDED.gone_at`,
		channel, chatID, reason, now()); err != nil {
		return fmt.Errorf("store: set chat %d gone: %w", chatID, err)
	}
	return nil
}

// ChatGone reports whether a chat is marked unreachable, and why.
func (p *Postgres) ChatGone(ctx context.Context, channel string, chatID int64) (bool, string, error) {
	var reason *string
	err := p.pool.QueryRow(ctx, `SELECT gone_reason FROM chats WHERE channel = $1 AND chat_id = $2`,
		channel, chatID).Scan(&reason)
	switch {
	case noRows(err) || (err == nil && reason == nil):
		return false, "", nil
	case err != nil:
		return false, "", fmt.Errorf("store: chat %d gone: %w", chatID, err)
	}
	return true, *reason, nil
}

// Offset is the next getUpdates offset of a polled bot (0 if none yet).
func (p *Postgres) Offset(ctx context.Context, channel string) (int64, error) {
	var next int64
	err := p.pool.QueryRow(ctx, `SELECT next FROM offsets WHERE channel = $1`, channel).Scan(&next)
	switch {
	case noRows(err):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("store: offset: %w", err)
	}
	return next, nil
}

// SetOffset stores the next getUpdates offset; it never moves backwards.
func (p *Postgres) SetOffset(ctx context.Context, channel string, offset int64) error {
	if err := setOffsetPostgres(ctx, p.pool, channel, offset); err != nil {
		return fmt.Errorf("store: set %w", err)
	}
	return nil
}
