package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
)

// liteMedia is the chunk storage of media in SQLite.
type liteMedia struct{ s *SQLite }

// WriteMedia streams r into the store chunk by chunk (see MediaStore). Each
// chunk is its own short write, so a slow download never holds the one
// writer connection while it waits for the network.
func (s *SQLite) WriteMedia(ctx context.Context, m MediaMeta, r io.Reader) (MediaMeta, error) {
	return writeMedia(ctx, liteMedia{s}, m, r)
}

// OpenMedia opens a stored file for reading chunk by chunk.
func (s *SQLite) OpenMedia(ctx context.Context, channel, key string) (MediaMeta, io.ReadCloser, error) {
	return openMedia(ctx, liteMedia{s}, channel, key)
}

func (d liteMedia) meta(ctx context.Context, channel, key string) (MediaMeta, string, string, error) {
	m := MediaMeta{Channel: channel, Key: key}
	var state, reason string
	err := d.s.r.QueryRowContext(ctx, `
		SELECT mime_type, filename, sha256, size, state, reason FROM media WHERE channel = ? AND key = ?`,
		channel, key).Scan(&m.MimeType, &m.Filename, &m.SHA256, &m.Size, &state, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return m, state, reason, err
}

// FailMedia records that the file will never come, unless it is stored.
func (s *SQLite) FailMedia(ctx context.Context, channel, key, reason string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO media (channel, key, mime_type, filename, sha256, data, size, state, reason, created_at)
			VALUES (?, ?, '', '', '', x'', 0, 'failed', ?, ?)
			ON CONFLICT (channel, key) DO UPDATE SET state = 'failed', reason = excluded.reason,
				size = 0, sha256 = ''
			WHERE media.state <> 'ready'`,
			channel, key, reason, micros(now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM media_chunks WHERE channel = ? AND key = ?`, channel, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: fail media %q: %w", key, err)
	}
	return nil
}

// DeleteMedia forgets a stored file; deleting a missing one is not an error.
func (s *SQLite) DeleteMedia(ctx context.Context, channel, key string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM media_chunks WHERE channel = ? AND key = ?`, channel, key); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM media WHERE channel = ? AND key = ?`, channel, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete media %q: %w", key, err)
	}
	return nil
}

func (d liteMedia) begin(ctx context.Context, m MediaMeta) error {
	return d.s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO media (channel, key, mime_type, filename, sha256, data, size, state, reason, created_at)
			VALUES (?, ?, ?, ?, '', x'', 0, 'writing', '', ?)
			ON CONFLICT (channel, key) DO UPDATE SET mime_type = excluded.mime_type,
				filename = excluded.filename, sha256 = '', data = x'', size = 0, state = 'writing',
				reason = '', created_at = excluded.created_at`,
			m.Channel, m.Key, m.MimeType, m.Filename, micros(now())); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM media_chunks WHERE channel = ? AND key = ?`, m.Channel, m.Key)
		return err
	})
}

func (d liteMedia) putChunk(ctx context.Context, channel, key string, seq int, data []byte) error {
	_, err := d.s.w.ExecContext(ctx, `INSERT INTO media_chunks (channel, key, seq, data) VALUES (?, ?, ?, ?)`,
		channel, key, seq, data)
	return err
}

func (d liteMedia) finish(ctx context.Context, m MediaMeta) error {
	_, err := d.s.w.ExecContext(ctx, `
		UPDATE media SET state = 'ready', size = ?, sha256 = ? WHERE channel = ? AND key = ?`,
		m.Size, m.SHA256, m.Channel, m.Key)
	return err
}

func (d liteMedia) chunk(ctx context.Context, channel, key string, seq int, dst []byte) ([]byte, bool, error) {
	rows, err := d.s.r.QueryContext(ctx, `SELECT data FROM media_chunks WHERE channel = ? AND key = ? AND seq = ?`,
		channel, key, seq)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	// RawBytes: the driver's copy, not a second one (copied into dst).
	var raw sql.RawBytes
	if err := rows.Scan(&raw); err != nil {
		return nil, false, err
	}
	dst = append(dst, raw...)
	return dst, true, rows.Close()
}

func (d liteMedia) DeleteMedia(ctx context.Context, channel, key string) error {
	return d.s.DeleteMedia(ctx, channel, key)
}

// FileID returns Telegram's file_id for content with this SHA-256.
func (s *SQLite) FileID(ctx context.Context, channel, sha256 string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, `SELECT file_id FROM file_ids WHERE channel = ? AND sha256 = ?`,
		channel, sha256).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("store: file id of %s: %w", sha256, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("store: file id of %s: %w", sha256, err)
	}
	return id, nil
}

// PutFileID remembers a file_id for content with this SHA-256.
func (s *SQLite) PutFileID(ctx context.Context, channel, sha256, fileID string) error {
	if _, err := s.w.ExecContext(ctx, `
		INSERT INTO file_ids (channel, sha256, file_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (channel, sha256) DO UPDATE SET file_id = excluded.file_id, created_at = excluded.created_at`,
		channel, sha256, fileID, micros(now())); err != nil {
		return fmt.Errorf("store: put file id of %s: %w", sha256, err)
	}
	return nil
}
