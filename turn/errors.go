package turn

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is a non-2xx answer from Turn.
type APIError struct {
	StatusCode int
	// RetryAfter is how long Turn asked the caller to wait, from Retry-After
	// or else X-Ratelimit-Reset; zero when it did not say.
	RetryAfter time.Duration
	// Message is Turn's "message" and "errors" in one compact line, e.g.
	// "Bad Request: contact.id can't be blank".
	Message string
	// Body is the start of the raw answer, for logs.
	Body string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	s := fmt.Sprintf("turn: HTTP %d: %s", e.StatusCode, msg)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// Temporary reports whether the same request may succeed later: rate
// limits, timeouts and server-side failures.
func (e *APIError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests ||
		e.StatusCode == http.StatusRequestTimeout ||
		e.StatusCode >= 500
}

const (
	maxErrorBody    = 512            // bytes of the answer kept in APIError.Body
	maxErrorMessage = 300            // bytes of APIError.Message
	maxRetryAfter   = 24 * time.Hour // bounds absurd headers (and overflow)
	unixThreshold   = 1_000_000_000  // X-Ratelimit-Reset above this is a unix time
	redacted        = "[REDACTED]"   // stands in for the token in errors
	truncatedMark   = "…"            // marks cut text
)

// newAPIError builds the error for a non-2xx answer. The token is removed
// from everything taken from the answer: a proxy echoing the request must
// not leak it into logs.
func newAPIError(resp *http.Response, body []byte, token string, now time.Time) *APIError {
	return &APIError{
		StatusCode: resp.StatusCode,
		RetryAfter: retryAfter(resp.Header, now),
		Message:    truncate(redact(errorMessage(resp.StatusCode, body), token), maxErrorMessage),
		Body:       truncate(redact(string(body), token), maxErrorBody),
	}
}

// errorMessage extracts Turn's {"message", "errors"} (or a similar
// {"error": ...}) into one line; other bodies give the status text.
func errorMessage(status int, body []byte) string {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil || doc == nil {
		return http.StatusText(status)
	}
	var parts []string
	if m, ok := doc["message"].(string); ok && m != "" {
		parts = append(parts, m)
	}
	details := flattenErrors("", doc["errors"], nil)
	if e, ok := doc["error"]; ok {
		details = flattenErrors("", e, details)
	}
	if len(parts) == 0 && len(details) == 0 {
		return http.StatusText(status)
	}
	if len(details) > 0 {
		parts = append(parts, strings.Join(details, "; "))
	}
	return strings.Join(parts, ": ")
}

// flattenErrors turns Turn's nested field errors into "a.b message" lines,
// in a stable order.
func flattenErrors(prefix string, v any, out []string) []string {
	switch t := v.(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out = flattenErrors(p, t[k], out)
		}
	case map[string][]string:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = v
		}
		out = flattenErrors(prefix, m, out)
	case []any:
		for _, e := range t {
			out = flattenErrors(prefix, e, out)
		}
	case []string:
		for _, e := range t {
			out = flattenErrors(prefix, e, out)
		}
	case string:
		out = append(out, strings.TrimSpace(prefix+" "+t))
	default:
		b, err := json.Marshal(t)
		if err != nil {
			b = []byte(fmt.Sprint(t))
		}
		out = append(out, strings.TrimSpace(prefix+" "+string(b)))
	}
	return out
}

// retryAfter reads Retry-After (delay-seconds or HTTP date), else
// X-Ratelimit-Reset (a unix time when large, else seconds from now).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil {
			return seconds(secs)
		}
		if t, err := http.ParseTime(v); err == nil {
			return clampWait(t.Sub(now))
		}
	}
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			if n > unixThreshold {
				return clampWait(time.Unix(int64(n), 0).Sub(now))
			}
			return seconds(n)
		}
	}
	return 0
}

func seconds(s float64) time.Duration {
	if s != s || s <= 0 { // NaN or not in the future
		return 0
	}
	if s >= maxRetryAfter.Seconds() {
		return maxRetryAfter
	}
	return time.Duration(s * float64(time.Second))
}

func clampWait(d time.Duration) time.Duration {
	return min(max(d, 0), maxRetryAfter)
}

func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, redacted)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncatedMark
}

// redactedError hides the token in a transport error's text while keeping
// the error chain for errors.Is/As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactErr(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return &redactedError{msg: redact(err.Error(), token), err: err}
}
