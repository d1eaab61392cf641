package store

import (
	"context"
	"fmt"
)

// PutMedia stores a fetched file, replacing one with the same key.
func (p *Postgres) PutMedia(ctx context.Context, m Media) error {
	if _, err := p.pool.Exec(ctx, `
		INSERT INTO media (channel, key, mime_type, filename, sha256, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (channel, key) DO UPDATE SET mime_type = EXCLUDED.mime_type,
			filename = EXCLUDED.filename, sha256 = EXCLUDED.sha256, data = EXCLUDED.data,
			created_at = EXCLUDED.created_at`,
		m.Channel, m.Key, m.MimeType, m.Filename, m.SHA256, payloadOf(m.Data), now()); err != nil {
		return fmt.Errorf("store: put media %q: %w", m.Key, err)
	}
	return nil
}

// GetMedia returns a stored file, or ErrNotFound.
func (p *Postgres) GetMedia(ctx context.Context, channel, key string) (Media, error) {
	m := Media{Channel: channel, Key: key}
	err := p.pool.QueryRow(ctx, `
		SELECT mime_type, filename, sha256, data FROM media WHERE channel = $1 AND key = $2`,
		channel, key).Scan(&m.MimeType, &m.Filename, &m.SHA256, &m.Data)
	switch {
	case noRows(err):
		return Media{}, fmt.Errorf("store: get media %q: %w", key, ErrNotFound)
	case err != nil:
		return Media{}, fmt.Errorf("store: get media %q: %w", key, err)
	}
	return m, nil
}

// DeleteMedia forgets a stored file; deleting a missing one is not an error.
func (p *Postgres) DeleteMedia(ctx context.Context, channel, key string) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM media WHERE channel = $1 AND key = $2`, channel, key); err != nil {
		return fmt.Errorf("store: delete media %q: %w", key, err)
	}
	return nil
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
