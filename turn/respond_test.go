package turn

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		errs   map[string]any
		want   string
	}{
		{"validation", http.StatusBadRequest, map[string]any{"to": []string{"can't be blank"}},
			`{"message":"Bad Request","errors":{"to":["can't be blank"]}}`},
		{"nested", http.StatusBadRequest, map[string]any{"turn": map[string]any{"text": []string{"is invalid"}}},
			`{"message":"Bad Request","errors":{"turn":{"text":["is invalid"]}}}`},
		{"nil errors", http.StatusUnauthorized, nil, `{"message":"Unauthorized","errors":{}}`},
		{"unencodable errors", http.StatusServiceUnavailable, map[string]any{"x": make(chan int)},
			`{"message":"Service Unavailable","errors":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.status, tt.errs)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			assertJSONEqual(t, rec.Body.Bytes(), tt.want)
		})
	}
}

func TestWriteReply(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		want string
	}{
		{"one", []string{"tg:42:7"}, `{"messages":[{"id":"tg:42:7"}]}`},
		{"several", []string{"a", "b"}, `{"messages":[{"id":"a"},{"id":"b"}]}`},
		{"none is an empty list", nil, `{"messages":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteReply(rec, tt.ids...)
			if rec.Code != http.StatusOK {
				t.Errorf("status = %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			assertJSONEqual(t, rec.Body.Bytes(), tt.want)
		})
	}
}

func assertJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body = %s, want %s", got, want)
	}
}
