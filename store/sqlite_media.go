package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PutMedia stores a fetched file, replacing one with the same key.
func (s *SQLite) PutMedia(ctx context.Context, m Media) error {
	if _, err := s.w.ExecContext(ctx, `
		INSERT INTO media (channel, key, mime_type, filename, sha256, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (channel, key) DO UPDATE SET mime_type = excluded.mime_type,
			filename = excluded.filename, sha256 = excluded.sha256, data = excluded.data,
			created_at = excluded.created_at`,
		m.Channel, m.Key, m.MimeType, m.Filename, m.SHA256, payloadOf(m.Data), micros(now())); err != nil {
		return fmt.Errorf("store: put media %q: %w", m.Key, err)
	}
	return nil
}

// GetMedia returns a stored file, or ErrNotFound.
func (s *SQLite) GetMedia(ctx context.Context, channel, key string) (Media, error) {
	m := Media{Channel: channel, Key: key}
	err := s.r.QueryRowContext(ctx, `
		SELECT mime_type, filename, sha256, data FROM media WHERE channel = ? AND key = ?`,
		channel, key).Scan(&m.MimeType, &m.Filename, &m.SHA256, &m.Data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Media{}, fmt.Errorf("store: get media %q: %w", key, ErrNotFound)
	case err != nil:
		return Media{}, fmt.Errorf("store: get media %q: %w", key, err)
	}
	return m, nil
}

// DeleteMedia forgets a stored file; deleting a missing one is not an error.
func (s *SQLite) DeleteMedia(ctx context.Context, channel, key string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM media WHERE channel = ? AND key = ?`, channel, key); err != nil {
		return fmt.Errorf("store: delete media %q: %w", key, err)
	}
	return nil
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
