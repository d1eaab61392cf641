package store

import "context"

// Media is a file fetched from Turn and kept until it is sent.
type Media struct {
	Channel  string
	Key      string
	MimeType string
	Filename string
	SHA256   string // hex
	Data     []byte
}

// MediaStore keeps media fetched from Turn until it is sent, and the
// file_ids Telegram gives uploaded content.
type MediaStore interface {
	// PutMedia stores a fetched file (replacing one with the same key).
	PutMedia(ctx context.Context, m Media) error
	// GetMedia returns a stored file, or ErrNotFound.
	GetMedia(ctx context.Context, channel, key string) (Media, error)
	// DeleteMedia forgets a stored file; deleting a missing one is not an error.
	DeleteMedia(ctx context.Context, channel, key string) error

	// FileID returns Telegram's file_id for content with this SHA-256 (hex),
	// kept so identical media is not uploaded twice; ErrNotFound if unknown.
	FileID(ctx context.Context, channel, sha256 string) (string, error)
	// PutFileID remembers a file_id for content with this SHA-256.
	PutFileID(ctx context.Context, channel, sha256, fileID string) error
}
