package turntest

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/turn-telegram/turn-telegram/turn"
)

// failure is one injected answer.
type failure struct {
	status     int
	retryAfter time.Duration
}

func (f failure) write(w http.ResponseWriter) {
	if f.retryAfter > 0 {
		// Retry-After has whole seconds; round up so clients never come back early.
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.retryAfter.Seconds()))))
	}
	turn.WriteError(w, f.status, map[string]any{"request": []string{"failed by turntest.FailNext"}})
}

// FailNext answers the next n API requests (under /v1/, whatever their
// route) with status and Turn's error shape, before authentication, and
// adds a Retry-After header when retryAfter > 0. Calls queue up: FailNext(1,
// 429, time.Second) then FailNext(2, 503, 0) fails three requests in that
// order. Failed requests are not recorded.
func (s *Server) FailNext(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status: status, retryAfter: retryAfter})
	}
}

// SetDown makes the server answer 503 to every request, media included,
// until SetDown(false). Pending FailNext answers wait until it is up.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// SetLatency delays every request by d (0 for none) before it is handled.
// A request whose client gives up during the delay is dropped unprocessed.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}
