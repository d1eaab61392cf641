package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"
)

// ErrMediaFailed: the file could not be fetched and never will be (the
// link was refused, expired or too big); the error carries the reason.
var ErrMediaFailed = errors.New("store: media fetch failed")

// MediaChunk is the size of the pieces media is stored in: a file is
// written and read one chunk at a time, so no file is ever held whole in
// memory, and a chunk is small enough for any database round trip.
const MediaChunk = 512 << 10

// MediaMeta describes a file fetched from Turn and kept until it is sent.
// Its content is stored in chunks (media_chunks) beside it.
type MediaMeta struct {
	Channel  string
	Key      string
	MimeType string
	Filename string
	// Set by the store when the content is written.
	SHA256 string // hex
	Size   int64
}

// MediaStore keeps media fetched from Turn until it is sent, and the
// file_ids Telegram gives uploaded content. Content is in the database, not
// on a local disk, so any replica may send what another fetched.
type MediaStore interface {
	// WriteMedia streams r into the store under m's key, replacing a file
	// with that key, and returns m with its Size and SHA256. Until it
	// returns, the file is not visible to OpenMedia; if r fails, nothing is
	// kept and the error wraps r's.
	WriteMedia(ctx context.Context, m MediaMeta, r io.Reader) (MediaMeta, error)
	// OpenMedia opens a stored file for reading chunk by chunk (reads use
	// ctx). It returns ErrNotFound while the file is missing or being
	// written, and an error wrapping ErrMediaFailed, with the reason, once
	// FailMedia recorded that it will never come. The reader checks size
	// and SHA-256 at the end: a file replaced or deleted while being read
	// fails instead of yielding mixed content.
	OpenMedia(ctx context.Context, channel, key string) (MediaMeta, io.ReadCloser, error)
	// FailMedia records that the file under key will never be fetched, with
	// the reason, dropping any partial content; a file already stored
	// completely is kept as it is.
	FailMedia(ctx context.Context, channel, key, reason string) error
	// DeleteMedia forgets a file (content, or failure); deleting a missing
	// one is not an error.
	DeleteMedia(ctx context.Context, channel, key string) error

	// FileID returns Telegram's file_id for content with this SHA-256 (hex),
	// kept so identical media is not uploaded twice; ErrNotFound if unknown.
	FileID(ctx context.Context, channel, sha256 string) (string, error)
	// PutFileID remembers a file_id for content with this SHA-256.
	PutFileID(ctx context.Context, channel, sha256, fileID string) error
}

// Media states in the media table.
const (
	mediaWriting = "writing"
	mediaReady   = "ready"
	mediaFailed  = "failed"
)

// mediaDB is what the chunked writer and reader need from a database.
type mediaDB interface {
	// begin marks key as being written (invisible to readers) and drops
	// its old chunks.
	begin(ctx context.Context, m MediaMeta) error
	putChunk(ctx context.Context, channel, key string, seq int, data []byte) error
	// finish makes the written file visible with its size and hash.
	finish(ctx context.Context, m MediaMeta) error
	// chunk reads one chunk into dst (reused: reading a file allocates
	// one chunk's buffer, not the file); ok is false past the last.
	chunk(ctx context.Context, channel, key string, seq int, dst []byte) (data []byte, ok bool, err error)
	DeleteMedia(ctx context.Context, channel, key string) error
	// meta reads a file's description and state; ErrNotFound when there
	// is none.
	meta(ctx context.Context, channel, key string) (m MediaMeta, state, reason string, err error)
}

// openMedia is OpenMedia on any database: only a complete file is read.
func openMedia(ctx context.Context, db mediaDB, channel, key string) (MediaMeta, io.ReadCloser, error) {
	m, state, reason, err := db.meta(ctx, channel, key)
	switch {
	case err != nil:
		return m, nil, fmt.Errorf("store: open media %q: %w", key, err)
	case state == mediaFailed:
		return m, nil, fmt.Errorf("store: open media %q: %w: %s", key, ErrMediaFailed, reason)
	case state != mediaReady:
		return m, nil, fmt.Errorf("store: open media %q (being written): %w", key, ErrNotFound)
	}
	return m, newChunkReader(ctx, db, m), nil
}

// writeMedia streams r into db chunk by chunk, hashing and counting.
func writeMedia(ctx context.Context, db mediaDB, m MediaMeta, r io.Reader) (MediaMeta, error) {
	if err := db.begin(ctx, m); err != nil {
		return m, fmt.Errorf("store: write media %q: %w", m.Key, err)
	}
	fail := func(err error) (MediaMeta, error) {
		// Leave nothing half-written behind, even when ctx is what ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = db.DeleteMedia(cctx, m.Channel, m.Key)
		return m, fmt.Errorf("store: write media %q: %w", m.Key, err)
	}
	h := sha256.New()
	buf := make([]byte, MediaChunk)
	var size int64
	for seq := 0; ; seq++ {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			size += int64(n)
			if err := db.putChunk(ctx, m.Channel, m.Key, seq, buf[:n]); err != nil {
				return fail(err)
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return fail(rerr)
		}
	}
	m.Size, m.SHA256 = size, hex.EncodeToString(h.Sum(nil))
	if err := db.finish(ctx, m); err != nil {
		return fail(err)
	}
	return m, nil
}

// cleanupTimeout bounds the removal of a failed write.
const cleanupTimeout = 10 * time.Second

// chunkReader reads a stored file one chunk at a time and checks, at the
// end, that it read exactly the file described by meta. Close may be called
// while another goroutine reads (an HTTP transport still writing an upload).
type chunkReader struct {
	ctx  context.Context
	db   mediaDB
	meta MediaMeta

	mu     sync.Mutex
	seq    int
	buf    []byte // what is left of the chunk read last
	space  []byte // the buffer chunks are read into
	read   int64
	h      hash.Hash
	err    error // sticky: io.EOF once done and checked
	closed bool
}

func newChunkReader(ctx context.Context, db mediaDB, m MediaMeta) *chunkReader {
	return &chunkReader{ctx: ctx, db: db, meta: m, h: sha256.New()}
}

func (c *chunkReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, errors.New("store: read of closed media")
	}
	for len(c.buf) == 0 && c.err == nil {
		data, ok, err := c.db.chunk(c.ctx, c.meta.Channel, c.meta.Key, c.seq, c.space[:0])
		switch {
		case err != nil:
			return 0, fmt.Errorf("store: read media %q chunk %d: %w", c.meta.Key, c.seq, err)
		case !ok:
			c.err = c.check()
		default:
			c.seq++
			c.h.Write(data)
			c.read += int64(len(data))
			c.buf, c.space = data, data
		}
	}
	if len(c.buf) == 0 {
		return 0, c.err
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// check is the end of a read: io.EOF when the content was the file's.
func (c *chunkReader) check() error {
	if sum := hex.EncodeToString(c.h.Sum(nil)); c.read != c.meta.Size || sum != c.meta.SHA256 {
		return fmt.Errorf("store: media %q changed while read (%d of %d bytes)", c.meta.Key, c.read, c.meta.Size)
	}
	return io.EOF
}

func (c *chunkReader) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed, c.buf, c.space = true, nil, nil
	return nil
}
