package turn

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 9, 25, 19, 13, 30, 0, time.UTC)
	tests := []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{"none", nil, 0},
		{"seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond},
		{"zero", map[string]string{"Retry-After": "0"}, 0},
		{"negative", map[string]string{"Retry-After": "-3"}, 0},
		{"http date", map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{"http date in the past", map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{"absurd", map[string]string{"Retry-After": "99999999999999"}, maxRetryAfter},
		{"garbage falls back to reset", map[string]string{"Retry-After": "soon", "X-Ratelimit-Reset": "12"}, 12 * time.Second},
		{"reset as seconds", map[string]string{"X-Ratelimit-Reset": "30"}, 30 * time.Second},
		{"reset as unix time", map[string]string{"X-Ratelimit-Reset": "1727291640"}, 30 * time.Second},
		{"reset in the past", map[string]string{"X-Ratelimit-Reset": "1727291000"}, 0},
		{"retry-after wins", map[string]string{"Retry-After": "2", "X-Ratelimit-Reset": "30"}, 2 * time.Second},
		{"garbage reset", map[string]string{"X-Ratelimit-Reset": "later"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Fatalf("retryAfter = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"turn shape", 400, `{"message":"Bad Request","errors":{"contact":{"id":["can't be blank"]},"message":{"from":["can't be blank"],"type":["is invalid"]}}}`,
			"Bad Request: contact.id can't be blank; message.from can't be blank; message.type is invalid"},
		{"message only", 401, `{"message":"Unauthorized"}`, "Unauthorized"},
		{"whatsapp list", 400, `{"errors":[{"code":1008,"title":"Required parameter is missing"}]}`,
			`code 1008; title Required parameter is missing`},
		{"error string", 404, `{"error":"number not found"}`, "number not found"},
		{"plain text", 502, `<html>Bad gateway</html>`, "Bad Gateway"},
		{"empty", 503, ``, "Service Unavailable"},
		{"empty object", 500, `{}`, "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorMessage(tt.status, []byte(tt.body)); got != tt.want {
				t.Fatalf("errorMessage = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAPIErrorTextAndTemporary(t *testing.T) {
	tests := []struct {
		err       APIError
		text      string
		temporary bool
	}{
		{APIError{StatusCode: 400, Message: "Bad Request: to can't be blank"}, "turn: HTTP 400: Bad Request: to can't be blank", false},
		{APIError{StatusCode: 401}, "turn: HTTP 401: Unauthorized", false},
		{APIError{StatusCode: 404}, "turn: HTTP 404: Not Found", false},
		{APIError{StatusCode: 408}, "turn: HTTP 408: Request Timeout", true},
		{APIError{StatusCode: 429, RetryAfter: 3 * time.Second}, "turn: HTTP 429: Too Many Requests (retry after 3s)", true},
		{APIError{StatusCode: 500}, "turn: HTTP 500: Internal Server Error", true},
		{APIError{StatusCode: 503}, "turn: HTTP 503: Service Unavailable", true},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.text {
			t.Errorf("Error() = %q, want %q", got, tt.text)
		}
		if got := tt.err.Temporary(); got != tt.temporary {
			t.Errorf("%d: Temporary() = %v, want %v", tt.err.StatusCode, got, tt.temporary)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc…"},
		{"ab😀cd", 4, "ab…"}, // never splits the emoji's bytes
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
	if got := truncate(strings.Repeat("x", 2000), maxErrorBody); len(got) > maxErrorBody+len(truncatedMark) {
		t.Errorf("truncated length %d", len(got))
	}
}
