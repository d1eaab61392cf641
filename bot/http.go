package bot

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// MaxBody is the largest request body either webhook accepts.
const MaxBody = 1 << 20

var errTooLarge = errors.New("request body over 1 MiB")

// readBody reads at most MaxBody bytes; more is errTooLarge.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBody {
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
