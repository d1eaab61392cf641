package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/turn-telegram/turn-telegram/migrations"
)

const pgChannelColumns = `key, bot_id, info, sealed, key_id, disabled, deleted, version, created_at, updated_at`

// lockChannels serialises channel writes for the rest of tx: versions are
// then committed in the order they are given, which Channels relies on.
func (p *Postgres) lockChannels(ctx context.Context, tx pgx.Tx) (next int64, err error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, p.lockKey("channels")); err != nil {
		return 0, err
	}
	err = tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM channels`).Scan(&next)
	return next, err
}

// PutChannel creates or replaces a channel (see Store).
func (p *Postgres) PutChannel(ctx context.Context, rec ChannelRecord) (ChannelRecord, error) {
	if err := checkChannel(rec); err != nil {
		return ChannelRecord{}, fmt.Errorf("store: put channel %q: %w", rec.Key, err)
	}
	err := p.inTx(ctx, func(tx pgx.Tx) error {
		version, err := p.lockChannels(ctx, tx)
		if err != nil {
			return err
		}
		var cur ChannelRecord
		err = tx.QueryRow(ctx, `SELECT version, deleted, created_at FROM channels WHERE key = $1`, rec.Key).
			Scan(&cur.Version, &cur.Deleted, &cur.CreatedAt)
		exists := err == nil && !cur.Deleted
		if err != nil && !noRows(err) {
			return err
		}
		if err := putConflict(rec, exists, cur.Version); err != nil {
			return err
		}
		if rec.BotID != 0 {
			var other string
			err := tx.QueryRow(ctx, `SELECT key FROM channels WHERE bot_id = $1 AND NOT deleted AND key <> $2`,
				rec.BotID, rec.Key).Scan(&other)
			if err == nil {
				return fmt.Errorf("bot %d already serves channel %q: %w", rec.BotID, other, ErrConflict)
			} else if !noRows(err) {
				return err
			}
		}
		t := now()
		rec.CreatedAt, rec.UpdatedAt, rec.Version, rec.Deleted = t, t, version, false
		if exists {
			rec.CreatedAt = cur.CreatedAt.UTC()
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO channels (`+pgChannelColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, false, $7, $8, $9)
			ON CONFLICT (key) DO UPDATE SET bot_id = EXCLUDED.bot_id, info = EXCLUDED.info,
				sealed = EXCLUDED.sealed, key_id = EXCLUDED.key_id, disabled = EXCLUDED.disabled,
				deleted = false, version = EXCLUDED.version, created_at = EXCLUDED.created_at,
				updated_at = EXCLUDED.updated_at`,
			rec.Key, rec.BotID, string(rec.Info), rec.Sealed, rec.KeyID, rec.Disabled, rec.Version, rec.CreatedAt, rec.UpdatedAt)
		return err
	})
	if err != nil {
		return ChannelRecord{}, fmt.Errorf("store: put channel %q: %w", rec.Key, err)
	}
	return rec, nil
}

// putConflict applies PutChannel's version rule.
func putConflict(rec ChannelRecord, exists bool, current int64) error {
	switch {
	case rec.Version == 0 && exists:
		return fmt.Errorf("a channel with this key exists: %w", ErrConflict)
	case rec.Version != 0 && !exists:
		return fmt.Errorf("the channel was removed: %w", ErrConflict)
	case rec.Version != 0 && current != rec.Version:
		return fmt.Errorf("the channel changed meanwhile (version %d, not %d): %w", current, rec.Version, ErrConflict)
	}
	return nil
}

// Channel returns a channel that exists.
func (p *Postgres) Channel(ctx context.Context, key string) (ChannelRecord, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+pgChannelColumns+` FROM channels WHERE key = $1 AND NOT deleted`, key)
	if err != nil {
		return ChannelRecord{}, fmt.Errorf("store: channel %q: %w", key, err)
	}
	recs, err := pgx.CollectRows(rows, scanPgChannel)
	switch {
	case err != nil:
		return ChannelRecord{}, fmt.Errorf("store: channel %q: %w", key, err)
	case len(recs) == 0:
		return ChannelRecord{}, fmt.Errorf("store: channel %q: %w", key, ErrNotFound)
	}
	return recs[0], nil
}

// ChannelByBot returns the channel the bot serves (index channels_bot).
func (p *Postgres) ChannelByBot(ctx context.Context, botID int64) (ChannelRecord, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+pgChannelColumns+` FROM channels WHERE bot_id = $1 AND NOT deleted AND bot_id <> 0`, botID)
	if err != nil {
		return ChannelRecord{}, fmt.Errorf("store: channel of bot %d: %w", botID, err)
	}
	recs, err := pgx.CollectRows(rows, scanPgChannel)
	switch {
	case err != nil:
		return ChannelRecord{}, fmt.Errorf("store: channel of bot %d: %w", botID, err)
	case len(recs) == 0:
		return ChannelRecord{}, fmt.Errorf("store: channel of bot %d: %w", botID, ErrNotFound)
	}
	return recs[0], nil
}

// Channels returns the channels changed after version since.
func (p *Postgres) Channels(ctx context.Context, since int64) ([]ChannelRecord, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+pgChannelColumns+` FROM channels WHERE version > $1 ORDER BY version`, since)
	if err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	recs, err := pgx.CollectRows(rows, scanPgChannel)
	if err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	return recs, nil
}

func scanPgChannel(row pgx.CollectableRow) (ChannelRecord, error) {
	var r ChannelRecord
	var info string
	err := row.Scan(&r.Key, &r.BotID, &info, &r.Sealed, &r.KeyID, &r.Disabled, &r.Deleted, &r.Version, &r.CreatedAt, &r.UpdatedAt)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if !r.Deleted {
		r.Info = []byte(info)
	}
	return r, err
}

// DeleteChannel erases a channel's secrets and leaves a tombstone.
func (p *Postgres) DeleteChannel(ctx context.Context, key string) error {
	err := p.inTx(ctx, func(tx pgx.Tx) error {
		version, err := p.lockChannels(ctx, tx)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE channels SET deleted = true, disabled = false, info = '{}', sealed = NULL, key_id = '',
				bot_id = 0, version = $2, updated_at = $3
			WHERE key = $1 AND NOT deleted`, key, version, now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
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
func (p *Postgres) ReleaseLeases(ctx context.Context, worker string) (int, error) {
	if worker == "" {
		return 0, errors.New("store: release leases: no worker named")
	}
	tag, err := p.pool.Exec(ctx, `
		UPDATE jobs SET lease_token = NULL, leased_by = NULL, lease_until = NULL,
			attempts = GREATEST(attempts - 1, 0), updated_at = $2
		WHERE state = 'pending' AND leased_by = $1 AND lease_until IS NOT NULL`, worker, now())
	if err != nil {
		return 0, fmt.Errorf("store: release leases of %s: %w", worker, err)
	}
	return int(tag.RowsAffected()), nil
}

// CheckSchema compares the applied migrations with the embedded ones.
func (p *Postgres) CheckSchema(ctx context.Context) error {
	var have int64
	if err := p.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&have); err != nil {
		return fmt.Errorf("store: check schema: %w", err)
	}
	return schemaCurrent(have, migrations.Postgres)
}
