package bot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"
)

// maxBody is the largest request body either webhook accepts.
const maxBody = 1 << 20

var errTooLarge = errors.New("request body over 1 MiB")

// Turn's signature covers the body, so a Turn webhook body is read before
// anyone knows who sent it. preAuth bounds the bytes of such bodies held at
// once, across every channel, so that unauthenticated callers cost bounded
// memory however many connect; a call that cannot get its share soon is
// answered 503 (a real Turn retries).
var preAuth = semaphore.NewWeighted(preAuthBytes)

const (
	preAuthBytes = 8 << 20
	preAuthWait  = 5 * time.Second
)

var errBusy = errors.New("too many unauthenticated bodies being read")

// readUnverified reads a body whose sender is not known yet within the
// preAuth budget; release gives its share back once the body is verified
// (or refused).
func readUnverified(r *http.Request) (body []byte, release func(), err error) {
	n := int64(maxBody + 1)
	if r.ContentLength >= 0 && r.ContentLength <= maxBody {
		n = max(r.ContentLength, 1)
	}
	ctx, cancel := context.WithTimeout(r.Context(), preAuthWait)
	defer cancel()
	if err := preAuth.Acquire(ctx, n); err != nil {
		return nil, func() {}, errBusy
	}
	release = func() { preAuth.Release(n) }
	// A body of known length is read into one buffer of that length, so it
	// costs its share exactly; one without is read to maxBody and a byte.
	var b []byte
	if r.ContentLength >= 0 && r.ContentLength <= maxBody {
		b = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, b)
	} else {
		b, err = io.ReadAll(io.LimitReader(r.Body, n))
	}
	if err != nil {
		release()
		return nil, func() {}, err
	}
	if len(b) > maxBody {
		release()
		return nil, func() {}, errTooLarge
	}
	return b, release, nil
}

// readBody reads at most maxBody bytes; more is errTooLarge.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errTooLarge
	}
	return b, nil
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem answers a non-Turn request with {"error": msg}.
func writeProblem(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
