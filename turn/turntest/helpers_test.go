package turntest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

const (
	number = "eb2828fa-7605-4c97-bba1-ea74e25c7452"
	token  = "channel-token-1"
)

func newServer(t *testing.T) *turntest.Server {
	t.Helper()
	s := turntest.NewServer()
	t.Cleanup(s.Close)
	s.AddNumber(number, token)
	return s
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends a raw request; an empty token sends no Authorization header.
func do(t *testing.T, s *turntest.Server, method, path, tok, contentType, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func postJSON(t *testing.T, s *turntest.Server, path, body string) answer {
	t.Helper()
	return do(t, s, http.MethodPost, path, token, "application/json", body)
}

// wantErrors checks a 400 in Turn's shape with exactly these field errors.
func wantErrors(t *testing.T, a answer, errs string) {
	t.Helper()
	if a.status != http.StatusBadRequest {
		t.Fatalf("status = %d (%s), want 400", a.status, a.raw)
	}
	wantShape(t, a, "Bad Request", errs)
}

func wantShape(t *testing.T, a answer, message, errs string) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if a.body["message"] != message {
		t.Errorf("message = %v, want %q", a.body["message"], message)
	}
	var want any
	if err := json.Unmarshal([]byte(errs), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.body["errors"], want) {
		t.Fatalf("errors = %s, want %s", mustJSON(a.body["errors"]), errs)
	}
}

func wantSuccess(t *testing.T, a answer) {
	t.Helper()
	if a.status != http.StatusOK || a.body["success"] != true {
		t.Fatalf("answer %d %s, want 200 {\"success\": true}", a.status, a.raw)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// edit decodes a JSON object, applies f to it and re-encodes it.
func edit(t *testing.T, doc string, f func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	return mustJSON(m)
}

func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}
