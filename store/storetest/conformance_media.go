package storetest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/store"
)

// mediaCases are run one after another on one store by testMedia; each
// uses keys of its own.
var mediaCases = []conformanceCase{
	{"RoundTrip", testMediaRoundTrip},
	{"Missing", testMediaMissing},
	{"Replace", testMediaReplace},
	{"Delete", testMediaDelete},
	{"ReaderFails", testMediaReaderFails},
	{"Failed", testMediaFailed},
	{"InvisibleWhileWritten", testMediaInvisibleWhileWritten},
	{"ReplacedWhileRead", testMediaReplacedWhileRead},
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sumHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// putMedia writes data under key of channel and checks what WriteMedia says.
func putMedia(t *testing.T, s store.Store, channel, key string, data []byte) store.MediaMeta {
	t.Helper()
	in := store.MediaMeta{Channel: channel, Key: key, MimeType: "application/pdf", Filename: key + ".pdf"}
	m, err := s.WriteMedia(t.Context(), in, bytes.NewReader(data))
	noErr(t, "WriteMedia("+key+")", err)
	if m.Size != int64(len(data)) || m.SHA256 != sumHex(data) || m.Key != key || m.Filename != in.Filename {
		t.Fatalf("WriteMedia(%s) = %+v; want size %d, sha256 %s", key, m, len(data), sumHex(data))
	}
	return m
}

// readMedia reads a stored file whole, in small reads, checking its meta.
func readMedia(t *testing.T, s store.Store, channel, key string) (store.MediaMeta, []byte) {
	t.Helper()
	m, r, err := s.OpenMedia(t.Context(), channel, key)
	noErr(t, "OpenMedia("+key+")", err)
	defer r.Close()
	var out bytes.Buffer
	if _, err := io.CopyBuffer(&out, struct{ io.Reader }{r}, make([]byte, 7777)); err != nil {
		t.Fatalf("reading media %s: %v", key, err)
	}
	if m.Channel != channel || m.Key != key || m.Size != int64(out.Len()) || m.SHA256 != sumHex(out.Bytes()) {
		t.Fatalf("OpenMedia(%s) meta %+v does not describe the %d bytes read", key, m, out.Len())
	}
	return m, out.Bytes()
}

func testMediaRoundTrip(t *testing.T, s store.Store) {
	for _, n := range []int{0, 1, store.MediaChunk - 1, 2 * store.MediaChunk, 5<<20 + 123} {
		key := "round-" + strings.Repeat("x", n%7) + string(rune('a'+n%26))
		data := randomBytes(t, n)
		putMedia(t, s, ch, key, data)
		m, got := readMedia(t, s, ch, key)
		if !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read back %d bytes that differ", n, len(got))
		}
		if m.MimeType != "application/pdf" || m.Filename != key+".pdf" {
			t.Fatalf("meta %+v lost the mime type or filename", m)
		}
	}
}

func testMediaMissing(t *testing.T, s store.Store) {
	_, _, err := s.OpenMedia(t.Context(), ch, "missing")
	isErr(t, "OpenMedia(missing)", err, store.ErrNotFound)
	putMedia(t, s, ch, "mine", []byte("chan-a's file"))
	_, _, err = s.OpenMedia(t.Context(), "chan-b", "mine")
	isErr(t, "OpenMedia(other channel)", err, store.ErrNotFound)
	putMedia(t, s, "chan-b", "mine", []byte("chan-b's"))
	if _, got := readMedia(t, s, ch, "mine"); string(got) != "chan-a's file" {
		t.Fatalf("chan-a's file reads %q after chan-b wrote the same key", got)
	}
	if _, got := readMedia(t, s, "chan-b", "mine"); string(got) != "chan-b's" {
		t.Fatalf("chan-b's file reads %q", got)
	}
}

func testMediaReplace(t *testing.T, s store.Store) {
	putMedia(t, s, ch, "replaced", randomBytes(t, 3*store.MediaChunk+5))
	small := []byte("hi")
	putMedia(t, s, ch, "replaced", small)
	if _, got := readMedia(t, s, ch, "replaced"); !bytes.Equal(got, small) {
		t.Fatalf("after replacing: %d bytes, want %q (old chunks left behind?)", len(got), small)
	}
}

func testMediaDelete(t *testing.T, s store.Store) {
	putMedia(t, s, ch, "del", randomBytes(t, store.MediaChunk+1))
	putMedia(t, s, ch, "keep", []byte("keep"))
	putMedia(t, s, "chan-b", "del", []byte("chan-b keeps"))
	noErr(t, "DeleteMedia", s.DeleteMedia(t.Context(), ch, "del"))
	_, _, err := s.OpenMedia(t.Context(), ch, "del")
	isErr(t, "OpenMedia(deleted)", err, store.ErrNotFound)
	noErr(t, "DeleteMedia(missing)", s.DeleteMedia(t.Context(), ch, "del"))
	if _, got := readMedia(t, s, ch, "keep"); string(got) != "keep" {
		t.Fatalf("DeleteMedia changed another key: %q", got)
	}
	if _, got := readMedia(t, s, "chan-b", "del"); string(got) != "chan-b keeps" {
		t.Fatalf("DeleteMedia changed another channel's file: %q", got)
	}
	// Written again after a delete: a file like any other.
	putMedia(t, s, ch, "del", []byte("again"))
	if _, got := readMedia(t, s, ch, "del"); string(got) != "again" {
		t.Fatalf("written after delete: %q", got)
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func testMediaReaderFails(t *testing.T, s store.Store) {
	cut := errors.New("connection cut")
	putMedia(t, s, ch, "cut", []byte("an older version"))
	_, err := s.WriteMedia(t.Context(), store.MediaMeta{Channel: ch, Key: "cut"}, &failingReader{n: 2*store.MediaChunk + 10, err: cut})
	isErr(t, "WriteMedia(failing reader)", err, cut)
	_, _, err = s.OpenMedia(t.Context(), ch, "cut")
	isErr(t, "OpenMedia(after a failed write)", err, store.ErrNotFound)
	putMedia(t, s, ch, "cut", []byte("whole"))
	if _, got := readMedia(t, s, ch, "cut"); string(got) != "whole" {
		t.Fatalf("after a failed write and a good one: %q", got)
	}
}

func testMediaFailed(t *testing.T, s store.Store) {
	const reason = "fetch media: 403 Forbidden (link expired or refused)"
	noErr(t, "FailMedia(new)", s.FailMedia(t.Context(), ch, "failed", reason))
	_, _, err := s.OpenMedia(t.Context(), ch, "failed")
	isErr(t, "OpenMedia(failed)", err, store.ErrMediaFailed)
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("OpenMedia(failed) = %v; want the reason %q in it", err, reason)
	}
	_, _, err = s.OpenMedia(t.Context(), "chan-b", "failed")
	isErr(t, "OpenMedia(failed key of another channel)", err, store.ErrNotFound)
	// A fetch that succeeds later (a requeued job) replaces the failure.
	putMedia(t, s, ch, "failed", []byte("fetched after all"))
	if _, got := readMedia(t, s, ch, "failed"); string(got) != "fetched after all" {
		t.Fatalf("written after a failure: %q", got)
	}
	// A complete file is never turned into a failure.
	noErr(t, "FailMedia(ready)", s.FailMedia(t.Context(), ch, "failed", reason))
	if _, got := readMedia(t, s, ch, "failed"); string(got) != "fetched after all" {
		t.Fatalf("FailMedia changed a stored file: %q", got)
	}
	noErr(t, "DeleteMedia(ready)", s.DeleteMedia(t.Context(), ch, "failed"))
	noErr(t, "FailMedia(again)", s.FailMedia(t.Context(), ch, "failed", reason))
	noErr(t, "DeleteMedia(failed)", s.DeleteMedia(t.Context(), ch, "failed"))
	_, _, err = s.OpenMedia(t.Context(), ch, "failed")
	isErr(t, "OpenMedia(failure deleted)", err, store.ErrNotFound)
}

func testMediaInvisibleWhileWritten(t *testing.T, s store.Store) {
	pr, pw := io.Pipe()
	data := randomBytes(t, 2*store.MediaChunk+7)
	done := make(chan error, 1)
	go func() {
		_, err := s.WriteMedia(t.Context(), store.MediaMeta{Channel: ch, Key: "slow"}, pr)
		done <- err
	}()
	// The first chunk and a bit are written; the file is not there yet.
	if _, err := pw.Write(data[:store.MediaChunk+3]); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.OpenMedia(t.Context(), ch, "slow")
	isErr(t, "OpenMedia(being written)", err, store.ErrNotFound)
	if _, err := pw.Write(data[store.MediaChunk+3:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	noErr(t, "WriteMedia(slow)", <-done)
	if _, got := readMedia(t, s, ch, "slow"); !bytes.Equal(got, data) {
		t.Fatalf("slow write read back %d bytes that differ", len(got))
	}
}

func testMediaReplacedWhileRead(t *testing.T, s store.Store) {
	putMedia(t, s, ch, "moving", randomBytes(t, 3*store.MediaChunk))
	_, r, err := s.OpenMedia(t.Context(), ch, "moving")
	noErr(t, "OpenMedia(moving)", err)
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	putMedia(t, s, ch, "moving", randomBytes(t, 3*store.MediaChunk))
	if _, err := io.Copy(io.Discard, r); err == nil {
		t.Fatal("a file replaced while being read read to the end without an error")
	}
	noErr(t, "Close", r.Close())
	if _, err := r.Read(make([]byte, 1)); err == nil {
		t.Fatal("a closed reader read on")
	}
}
