package store

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgMedia is the chunk storage of media in PostgreSQL.
type pgMedia struct{ p *Postgres }

// WriteMedia streams r into the store chunk by chunk (see MediaStore). Each
// chunk is its own statement: a slow download holds no transaction open.
func (p *Postgres) WriteMedia(ctx context.Context, m MediaMeta, r io.Reader) (MediaMeta, error) {
	return writeMedia(ctx, pgMedia{p}, m, r)
}

// OpenMedia opens a stored file for reading chunk by chunk.
func (p *Postgres) OpenMedia(ctx context.Context, channel, key string) (MediaMeta, io.ReadCloser, error) {
	return openMedia(ctx, pgMedia{p}, channel, key)
}

func (d pgMedia) meta(ctx context.Context, channel, key string) (MediaMeta, string, string, error) {
	m := MediaMeta{Channel: channel, Key: key}
	var state, reason string
	err := d.p.pool.QueryRow(ctx, `
		SELECT mime_type, filename, sha256, size, state, reason FROM media WHERE channel = $1 AND key = $2`,
		channel, key).Scan(&m.MimeType, &m.Filename, &m.SHA256, &m.Size, &state, &reason)
	if noRows(err) {
		err = ErrNotFound
	}
	return m, state, reason, err
}

// FailMedia records that the file will never come, unless it is stored.
func (p *Postgres) FailMedia(ctx context.Context, channel, key, reason string) error {
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO media (channel, key, mime_type, filename, sha256, data, size, state, reason, created_at)
			VALUES ($1, $2, '', '', '', '', 0, 'failed', $3, $4)
			ON CONFLICT (channel, key) DO UPDATE SET state = 'failed', reason = EXCLUDED.reason,
				size = 0, sha256 = ''
			WHERE media.state <> 'ready'`,
			channel, key, reason, now())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM media_chunks WHERE channel = $1 AND key = $2`, channel, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: fail media %q: %w", key, err)
	}
	return nil
}

// DeleteMedia forgets a stored file; deleting a missing one is not an error.
func (p *Postgres) DeleteMedia(ctx context.Context, channel, key string) error {
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM media_chunks WHERE channel = $1 AND key = $2`, channel, key); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM media WHERE channel = $1 AND key = $2`, channel, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete media %q: %w", key, err)
	}
	return nil
}

func (d pgMedia) begin(ctx context.Context, m MediaMeta) error {
	return pgx.BeginFunc(ctx, d.p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO media (channel, key, mime_type, filename, sha256, data, size, state, reason, created_at)
			VALUES ($1, $2, $3, $4, '', '', 0, 'writing', '', $5)
			ON CONFLICT (channel, key) DO UPDATE SET mime_type = EXCLUDED.mime_type,
				filename = EXCLUDED.filename, sha256 = '', data = '', size = 0, state = 'writing',
				reason = '', created_at = EXCLUDED.created_at`,
			m.Channel, m.Key, m.MimeType, m.Filename, now()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM media_chunks WHERE channel = $1 AND key = $2`, m.Channel, m.Key)
		return err
	})
}

func (d pgMedia) putChunk(ctx context.Context, channel, key string, seq int, data []byte) error {
	_, err := d.p.pool.Exec(ctx, `INSERT INTO media_chunks (channel, key, seq, data) VALUES ($1, $2, $3, $4)`,
		channel, key, seq, data)
	return err
}

func (d pgMedia) finish(ctx context.Context, m MediaMeta) error {
	_, err := d.p.pool.Exec(ctx, `
		UPDATE media SET state = 'ready', size = $3, sha256 = $4 WHERE channel = $1 AND key = $2`,
		m.Channel, m.Key, m.Size, m.SHA256)
	return err
}

func (d pgMedia) chunk(ctx context.Context, channel, key string, seq int, dst []byte) ([]byte, bool, error) {
	rows, err := d.p.pool.Query(ctx, `SELECT data FROM media_chunks WHERE channel = $1 AND key = $2 AND seq = $3`,
		channel, key, seq)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	// DriverBytes: pgx's read buffer, not a copy of it (copied into dst).
	var raw pgtype.DriverBytes
	if err := rows.Scan(&raw); err != nil {
		return nil, false, err
	}
	dst = append(dst, raw...)
	rows.Close()
	return dst, true, rows.Err()
}

func (d pgMedia) DeleteMedia(ctx context.Context, channel, key string) error {
	return d.p.DeleteMedia(ctx, channel, key)
}

// FileID returns Telegram's file_id for content with this SHA-256.
func (p *Postgres) FileID(ctx context.Context, channel, sha256 string) (string, error) {
	var id string
	err := p.pool.QueryRow(ctx, `SELECT file_id FROM file_ids WHERE channel = $1 AND sha256 = $2`,
		channel, sha256).Scan(&id)
	switch {
	case noRows(err):
		return "", fmt.Errorf("store: file id of %s: %w", sha256, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("store: file id of %s: %w", sha256, err)
	}
	return id, nil
}

// PutFileID remembers a file_id for content with this SHA-256.
func (p *Postgres) PutFileID(ctx context.Context, channel, sha256, fileID string) error {
	if _, err := p.pool.Exec(ctx, `
		INSERT INTO file_ids (channel, sha256, file_id, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel, sha256) DO UPDATE SET file_id = EXCLUDED.file_id, created_at = EXCLUDED.created_at`,
		channel, sha256, fileID, now()); err != nil {
		return fmt.Errorf("store: put file id of %s: %w", sha256, err)
	}
	return nil
}
