package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/turn-telegram/turn-telegram/migrations"
)

const sqliteChannelColumns = `key, bot_id, info, sealed, key_id, disabled, deleted, version, created_at, updated_at`

// nextChannelVersion is the version of the next channel write. Writes are
// serialised, so versions are committed in order.
func nextChannelVersion(ctx context.Context, tx *sql.Tx) (int64, error) {
	var next int64
	err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) + 1 FROM channels`).Scan(&next)
	return next, err
}

// PutChannel creates or replaces a channel (see Store).
func (s *SQLite) PutChannel(ctx context.Context, rec ChannelRecord) (ChannelRecord, error) {
	if err := checkChannel(rec); err != nil {
		return ChannelRecord{}, fmt.Errorf("store: put channel %q: %w", rec.Key, err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		version, err := nextChannelVersion(ctx, tx)
		if err != nil {
			return err
		}
		var curVersion, curCreated int64
		var curDeleted bool
		err = tx.QueryRowContext(ctx, `SELECT version, deleted, created_at FROM channels WHERE key = ?`, rec.Key).
			Scan(&curVersion, &curDeleted, &curCreated)
		exists := err == nil && !curDeleted
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := putConflict(rec, exists, curVersion); err != nil {
			return err
		}
		if rec.BotID != 0 {
			var other string
			err := tx.QueryRowContext(ctx, `SELECT key FROM channels WHERE bot_id = ? AND deleted = 0 AND key <> ?`,
				rec.BotID, rec.Key).Scan(&other)
			if err == nil {
				return fmt.Errorf("bot %d already serves channel %q: %w", rec.BotID, other, ErrConflict)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		t := now()
		rec.CreatedAt, rec.UpdatedAt, rec.Version, rec.Deleted = t, t, version, false
		if exists {
			rec.CreatedAt = fromMicros(curCreated)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO channels (`+sqliteChannelColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET bot_id = excluded.bot_id, info = excluded.info,
				sealed = excluded.sealed, key_id = excluded.key_id, disabled = excluded.disabled,
				deleted = 0, version = excluded.version, created_at = excluded.created_at,
				updated_at = excluded.updated_at`,
			rec.Key, rec.BotID, string(rec.Info), rec.Sealed, rec.KeyID, rec.Disabled, rec.Version,
			micros(rec.CreatedAt), micros(rec.UpdatedAt))
		return err
	})
	if err != nil {
		return ChannelRecord{}, fmt.Errorf("store: put channel %q: %w", rec.Key, err)
	}
	return rec, nil
}

// Channel returns a channel that exists.
func (s *SQLite) Channel(ctx context.Context, key string) (ChannelRecord, error) {
	recs, err := s.queryChannels(ctx, `SELECT `+sqliteChannelColumns+` FROM channels WHERE key = ? AND deleted = 0`, key)
	switch {
	case err != nil:
		return ChannelRecord{}, fmt.Errorf("store: channel %q: %w", key, err)
	case len(recs) == 0:
		return ChannelRecord{}, fmt.Errorf("store: channel %q: %w", key, ErrNotFound)
	}
	return recs[0], nil
}

// ChannelByBot returns the channel the bot serves (index channels_bot).
func (s *SQLite) ChannelByBot(ctx context.Context, botID int64) (ChannelRecord, error) {
	recs, err := s.queryChannels(ctx, `SELECT `+sqliteChannelColumns+` FROM channels WHERE bot_id = ? AND deleted = 0 AND bot_id <> 0`, botID)
	switch {
	case err != nil:
		return ChannelRecord{}, fmt.Errorf("store: channel of bot %d: %w", botID, err)
	case len(recs) == 0:
		return ChannelRecord{}, fmt.Errorf("store: channel of bot %d: %w", botID, ErrNotFound)
	}
	return recs[0], nil
}

// Channels returns the channels changed after version since.
func (s *SQLite) Channels(ctx context.Context, since int64) ([]ChannelRecord, error) {
	recs, err := s.queryChannels(ctx, `SELECT `+sqliteChannelColumns+` FROM channels WHERE version > ? ORDER BY version`, since)
	if err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	return recs, nil
}

func (s *SQLite) queryChannels(ctx context.Context, query string, args ...any) ([]ChannelRecord, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var recs []ChannelRecord
	for rows.Next() {
		var r ChannelRecord
		var info string
		var created, updated int64
		if err := rows.Scan(&r.Key, &r.BotID, &info, &r.Sealed, &r.KeyID, &r.Disabled, &r.Deleted,
			&r.Version, &created, &updated); err != nil {
			return nil, err
		}
		r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
		if !r.Deleted {
			r.Info = []byte(info)
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// DeleteChannel erases a channel's secrets and leaves a tombstone.
func (s *SQLite) DeleteChannel(ctx context.Context, key string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		version, err := nextChannelVersion(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			UPDATE channels SET deleted = 1, disabled = 0, info = '{}', sealed = NULL, key_id = '',
				bot_id = 0, version = ?, updated_at = ?
			WHERE key = ? AND deleted = 0`, version, micros(now()), key)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete channel %q: %w", key, err)
	}
	return nil
}

// ReleaseLeases ends worker's leases on pending jobs.
func (s *SQLite) ReleaseLeases(ctx context.Context, worker string) (int, error) {
	if worker == "" {
		return 0, errors.New("store: release leases: no worker named")
	}
	n, err := s.exec(ctx, `
		UPDATE jobs SET lease_token = NULL, leased_by = NULL, lease_until = NULL,
			attempts = max(attempts - 1, 0), updated_at = ?
		WHERE state = 'pending' AND leased_by = ? AND lease_until IS NOT NULL`, micros(now()), worker)
	if err != nil {
		return 0, fmt.Errorf("store: release leases of %s: %w", worker, err)
	}
	return int(n), nil
}

// CheckSchema compares the applied migrations with the embedded ones.
func (s *SQLite) CheckSchema(ctx context.Context) error {
	var have int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&have); err != nil {
		return fmt.Errorf("store: check schema: %w", err)
	}
	return schemaCurrent(have, migrations.SQLite)
}
