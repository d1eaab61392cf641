package turntest

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/turn-telegram/turn-telegram/turn"
)

// MaxBodyBytes is the largest request body the server reads; larger ones
// get 413.
const MaxBodyBytes = 1 << 20

// Server is a fake Turn. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:54321, to use as
	// TURN_API_URL.
	URL string

	srv      *httptest.Server
	webhooks *http.Client
	mediaKey []byte

	mu           sync.Mutex
	numbers      map[string]*number
	created      []CreatedChannel
	requests     int
	failures     []failure
	down         bool
	latency      time.Duration
	acceptFailed bool
	media        map[string]*mediaFile
	mediaTTL     time.Duration
	mediaFetches int
	changed      chan struct{} // closed and replaced on every recorded item
	onCall       func(Call)

	// rejected has its own lock so that answering never needs s.mu.
	rejMu    sync.Mutex
	rejected map[int]int
}

// number is one channel: its token ("" until AddNumber gives it one) and
// what was posted to it.
type number struct {
	token    string
	messages []turn.Inbound
	statuses []turn.StatusObject
}

// NewServer starts a fake Turn with no numbers; add them with AddNumber.
// The caller must Close it.
func NewServer() *Server {
	s := &Server{
		webhooks: &http.Client{Timeout: 30 * time.Second},
		mediaKey: randomBytes(32),
		numbers:  map[string]*number{},
		rejected: map[int]int{},
		media:    map[string]*mediaFile{},
		mediaTTL: DefaultMediaTTL,
		changed:  make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/numbers/{id}/messages", s.handleMessages)
	mux.HandleFunc("POST /v1/numbers/{id}/statuses", s.handleStatuses)
	mux.HandleFunc("POST /v1/numbers", s.handleCreate)
	mux.HandleFunc("GET /uploads/{name}", s.handleMedia)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		turn.WriteError(w, http.StatusNotFound, map[string]any{"path": []string{"is unknown"}})
	})
	s.srv = httptest.NewServer(s.front(mux))
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down, blocking until outstanding requests end.
func (s *Server) Close() {
	s.srv.Close()
	s.webhooks.CloseIdleConnections()
}

// Client returns an HTTP client configured for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// AddNumber makes numberID known and sets its bearer token. It also gives a
// token to a channel created through POST /v1/numbers, as Turn's UI does.
func (s *Server) AddNumber(numberID, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.numbers[numberID]
	if n == nil {
		n = &number{}
		s.numbers[numberID] = n
	}
	n.token = token
}

// AcceptFailed sets whether the undocumented status "failed" is accepted.
// By default it is rejected with 400, as older Turn docs said.
func (s *Server) AcceptFailed(accept bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acceptFailed = accept
}

// Call is one request to the fake as it answered it: a message or status
// the service posted, a channel creation, a media download.
type Call struct {
	Method string // HTTP method
	Path   string // e.g. /v1/numbers/{uuid}/messages
	Body   []byte // the request body as far as the fake read it: all of it when accepted
	Status int    // HTTP status of the answer
	At     time.Time
}

// OnCall makes fn hear of every request the fake answers, once its answer
// is written and flushed to the client (requests dropped because the
// client left during SetLatency's delay are not answered). fn learns what
// the other side has, without copying the records.
//
// fn runs on the goroutine serving the request, so requests made at once
// reach it at once: it must be safe for concurrent use. No lock of the
// fake is held while it runs, so it may use the Server; while it runs, the
// connection the request came on serves no other. It must not modify
// Body. A nil fn removes the hook; a new one replaces the old for requests
// that arrive afterwards.
func (s *Server) OnCall(fn func(Call)) {
	s.mu.Lock()
	s.onCall = fn
	s.mu.Unlock()
}

// front counts requests and answers, and applies latency, downtime and
// injected failures before any route runs.
func (s *Server) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		s.mu.Lock()
		s.requests++
		latency := s.latency
		hook := s.onCall
		s.mu.Unlock()
		var (
			body *bodyCopy
			held *heldAnswer
		)
		if hook != nil {
			body = &bodyCopy{ReadCloser: r.Body}
			r.Body = body
			held = &heldAnswer{ResponseWriter: w}
			w = held
		}
		rw := &countingWriter{ResponseWriter: w, s: s}

		if latency > 0 {
			// Reading the body first lets the server notice a client that
			// hangs up during the delay; its request is then dropped
			// unprocessed instead of racing the disconnect.
			body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			t := time.NewTimer(latency)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		down := s.down
		var f *failure
		// Injected failures hit the API, not media downloads.
		if !down && strings.HasPrefix(r.URL.Path, "/v1/") && len(s.failures) > 0 {
			f = &s.failures[0]
			s.failures = s.failures[1:]
		}
		s.mu.Unlock()

		switch {
		case down:
			turn.WriteError(rw, http.StatusServiceUnavailable, map[string]any{"service": []string{"is down (turntest.SetDown)"}})
		case f != nil:
			f.write(rw)
		default:
			next.ServeHTTP(rw, r)
		}
		if hook != nil {
			status := held.send()
			hook(Call{Method: r.Method, Path: r.URL.Path, Body: body.buf.Bytes(), Status: status, At: at})
		}
	})
}

// heldAnswer holds an answer until send, which gives it its length and
// flushes it: the client then has all of it while OnCall's hook runs, as
// a chunked answer would end only when the handler returns.
type heldAnswer struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (h *heldAnswer) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *heldAnswer) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(b)
}

// send answers the client and returns the status it got.
func (h *heldAnswer) send() int {
	h.WriteHeader(http.StatusOK)
	h.Header().Set("Content-Length", strconv.Itoa(h.body.Len()))
	h.ResponseWriter.WriteHeader(h.status)
	_, _ = h.ResponseWriter.Write(h.body.Bytes())
	_ = http.NewResponseController(h.ResponseWriter).Flush()
	return h.status
}

// bodyCopy keeps what the handlers read of a request body, for OnCall.
type bodyCopy struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (b *bodyCopy) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

// countingWriter counts answers of 400 and above by status code, as soon as
// the status is written (before the client can see it).
type countingWriter struct {
	http.ResponseWriter
	s     *Server
	wrote bool
}

func (w *countingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if code >= 400 {
			w.s.rejMu.Lock()
			w.s.rejected[code]++
			w.s.rejMu.Unlock()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// authorize checks the bearer token for numberID (or, with numberID "", the
// token of any number) and answers 401 or 404 itself when it fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, numberID string) bool {
	status, errs := s.checkToken(r.Header.Get("Authorization"), numberID)
	if status != 0 {
		turn.WriteError(w, status, errs)
		return false
	}
	return true
}

// checkToken returns 0 when header authorizes numberID, else the status
// and errors to answer.
func (s *Server) checkToken(header, numberID string) (int, map[string]any) {
	token, ok := bearer(header)
	if !ok {
		return http.StatusUnauthorized, map[string]any{"authorization": []string{blank}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if numberID == "" {
		for _, n := range s.numbers {
			if n.token != "" && equal(n.token, token) {
				return 0, nil
			}
		}
		return http.StatusUnauthorized, map[string]any{"authorization": []string{invalid}}
	}
	n := s.numbers[numberID]
	if n == nil {
		return http.StatusNotFound, map[string]any{"number": []string{"does not exist"}}
	}
	if n.token == "" || !equal(n.token, token) {
		return http.StatusUnauthorized, map[string]any{"authorization": []string{invalid}}
	}
	return 0, nil
}

func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// readJSON checks the Content-Type and reads the body, answering 415, 413
// or 400 itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		turn.WriteError(w, http.StatusUnsupportedMediaType, map[string]any{"content_type": []string{"must be application/json"}})
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			turn.WriteError(w, http.StatusRequestEntityTooLarge, map[string]any{"body": []string{fmt.Sprintf("is larger than %d bytes", MaxBodyBytes)}})
		} else {
			turn.WriteError(w, http.StatusBadRequest, map[string]any{"body": []string{"could not be read"}})
		}
		return nil, false
	}
	return body, true
}

// notifyLocked wakes the waiters; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
