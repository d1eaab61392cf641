package turn

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testNumber = "eb2828fa-7605-4c97-bba1-ea74e25c7452"
	testToken  = "tok-9f8e7d6c5b4a-SECRET"
)

// captured is what the test server saw of one request.
type captured struct {
	method, path string
	header       http.Header
	body         []byte
}

// recorder starts a server answering with h and remembering every request.
func recorder(t *testing.T, h http.HandlerFunc) (*httptest.Server, func() []captured) {
	t.Helper()
	var mu sync.Mutex
	var seen []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, captured{r.Method, r.URL.EscapedPath(), r.Header.Clone(), body})
		mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured {
		mu.Lock()
		defer mu.Unlock()
		return append([]captured(nil), seen...)
	}
}

func textInbound() *Inbound {
	return &Inbound{
		Contact: Contact{ID: "5512784653", Profile: Profile{Name: "Jane"}},
		Message: InboundMessage{Type: TypeText, From: "5512784653", ID: "tg-42-7", Timestamp: "1727291610", Text: &Text{Body: "hello"}},
	}
}

func TestClientRequestShape(t *testing.T) {
	tests := []struct {
		name     string
		send     func(ctx context.Context, c *Client) error
		wantPath string
		wantBody string
	}{
		{"message", func(ctx context.Context, c *Client) error { return c.SendMessage(ctx, textInbound()) },
			"/v1/numbers/" + testNumber + "/messages",
			`{"contact":{"id":"5512784653","profile":{"name":"Jane"}},"message":{"type":"text","from":"5512784653","id":"tg-42-7","timestamp":"1727291610","text":{"body":"hello"}}}`},
		{"status", func(ctx context.Context, c *Client) error {
			return c.SendStatus(ctx, &Status{Status: StatusObject{ID: "tg-42-8", Status: StatusDelivered, Timestamp: "1727291611", RecipientID: "5512784653"}})
		},
			"/v1/numbers/" + testNumber + "/statuses",
			`{"status":{"id":"tg-42-8","status":"delivered","timestamp":"1727291611","recipient_id":"5512784653"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"success": true}`)
			})
			// A trailing slash on the base URL must not double the slash.
			c := NewClient(srv.URL+"/", testNumber, testToken, srv.Client())
			if err := tt.send(t.Context(), c); err != nil {
				t.Fatalf("send: %v", err)
			}
			reqs := seen()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			r := reqs[0]
			eq(t, "method", r.method, http.MethodPost)
			eq(t, "path", r.path, tt.wantPath)
			eq(t, "Authorization", r.header.Get("Authorization"), "Bearer "+testToken)
			eq(t, "Content-Type", r.header.Get("Content-Type"), "application/json")
			eq(t, "Accept", r.header.Get("Accept"), "application/json")
			assertJSONEqual(t, r.body, tt.wantBody)
		})
	}
}

func TestClientNumberIDIsEscaped(t *testing.T) {
	srv, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {})
	c := NewClient(srv.URL, "a/b?c", testToken, srv.Client())
	if err := c.SendMessage(t.Context(), textInbound()); err != nil {
		t.Fatal(err)
	}
	eq(t, "path", seen()[0].path, "/v1/numbers/a%2Fb%3Fc/messages")
}

func TestClientAnswers(t *testing.T) {
	now := time.Date(2024, 9, 25, 19, 13, 30, 0, time.UTC)
	type want struct {
		status     int // 0: success
		retryAfter time.Duration
		message    string
		temporary  bool
	}
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		body    string
		want    want
	}{
		{"200", 200, nil, `{"success": true}`, want{}},
		{"201 empty body", 201, nil, ``, want{}},
		{"202 non-JSON body", 202, nil, `accepted`, want{}},
		{"400 with Turn errors", 400, nil,
			`{"errors":{"contact":{"id":["can't be blank"],"profile":["can't be blank"]},"message":{"from":["can't be blank"]}},"message":"Bad Request"}`,
			want{status: 400, message: "Bad Request: contact.id can't be blank; contact.profile can't be blank; message.from can't be blank"}},
		{"401", 401, nil, `{"message":"Unauthorized"}`, want{status: 401, message: "Unauthorized"}},
		{"429 Retry-After seconds", 429, map[string]string{"Retry-After": "17"}, `{"message":"Too Many Requests"}`,
			want{status: 429, retryAfter: 17 * time.Second, message: "Too Many Requests", temporary: true}},
		{"429 Retry-After date", 429, map[string]string{"Retry-After": now.Add(time.Minute).Format(http.TimeFormat)}, ``,
			want{status: 429, retryAfter: time.Minute, message: "Too Many Requests", temporary: true}},
		{"429 X-Ratelimit-Reset unix", 429, map[string]string{"X-Ratelimit-Limit": "60", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1727291655"}, ``,
			want{status: 429, retryAfter: 45 * time.Second, message: "Too Many Requests", temporary: true}},
		{"429 X-Ratelimit-Reset seconds", 429, map[string]string{"X-Ratelimit-Reset": "5"}, ``,
			want{status: 429, retryAfter: 5 * time.Second, message: "Too Many Requests", temporary: true}},
		{"503 with HTML", 503, nil, `<html><body>upstream connect error</body></html>`,
			want{status: 503, message: "Service Unavailable", temporary: true}},
		{"500", 500, nil, `{"message":"Internal Server Error"}`, want{status: 500, message: "Internal Server Error", temporary: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			c := NewClient(srv.URL, testNumber, testToken, srv.Client())
			c.now = func() time.Time { return now }
			err := c.SendMessage(t.Context(), textInbound())
			if tt.want.status == 0 {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			var api *APIError
			if !errors.As(err, &api) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			eq(t, "status", api.StatusCode, tt.want.status)
			eq(t, "retry after", api.RetryAfter, tt.want.retryAfter)
			eq(t, "message", api.Message, tt.want.message)
			eq(t, "temporary", api.Temporary(), tt.want.temporary)
			eq(t, "body", api.Body, tt.body)
			if !strings.Contains(err.Error(), "tg-42-7") {
				t.Errorf("error %q does not name the message", err)
			}
		})
	}
}

func TestClientCapsAnswer(t *testing.T) {
	srv, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, strings.Repeat("x", 4<<20))
	})
	err := NewClient(srv.URL, testNumber, testToken, srv.Client()).SendMessage(t.Context(), textInbound())
	var api *APIError
	if !errors.As(err, &api) {
		t.Fatalf("err = %v", err)
	}
	if len(api.Body) > maxErrorBody+len(truncatedMark) {
		t.Errorf("Body is %d bytes", len(api.Body))
	}
}

func TestClientTransportErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()

	canceled, cancel := context.WithCancel(t.Context())
	cancel()

	tests := []struct {
		name   string
		base   string
		ctx    context.Context
		hc     *http.Client
		target error
	}{
		{"connection refused", closedURL, t.Context(), nil, nil},
		{"canceled", slow.URL, canceled, nil, context.Canceled},
		{"client timeout", slow.URL, t.Context(), &http.Client{Timeout: 50 * time.Millisecond}, nil},
		{"bad base URL", "://nowhere", t.Context(), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewClient(tt.base, testNumber, testToken, tt.hc).SendMessage(tt.ctx, textInbound())
			if err == nil {
				t.Fatal("no error")
			}
			var api *APIError
			if errors.As(err, &api) {
				t.Fatalf("transport error reported as APIError: %v", err)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.target)
			}
			var uerr *url.Error
			if tt.name != "bad base URL" && !errors.As(err, &uerr) {
				t.Errorf("err = %v, want a wrapped *url.Error", err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestNewClientDefaultTimeout(t *testing.T) {
	if got := NewClient("https://whatsapp.turn.io", testNumber, testToken, nil).hc.Timeout; got != defaultTimeout {
		t.Fatalf("default timeout = %s, want %s", got, defaultTimeout)
	}
}

// TestErrorsNeverContainToken drives every error path with a server that
// echoes the Authorization header back, as a misbehaving proxy might.
func TestErrorsNeverContainToken(t *testing.T) {
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]any{
				"message": "rejected " + r.Header.Get("Authorization"),
				"errors":  map[string]any{"authorization": []string{r.Header.Get("Authorization")}},
			})
		}
	}
	hijackClose := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	for _, status := range []int{400, 401, 403, 404, 429, 500, 503} {
		srv, _ := recorder(t, echo(status))
		c := NewClient(srv.URL, testNumber, testToken, srv.Client())
		for name, err := range map[string]error{
			"message": c.SendMessage(t.Context(), textInbound()),
			"status":  c.SendStatus(t.Context(), &Status{Status: StatusObject{ID: "x", Status: StatusRead, Timestamp: "1"}}),
		} {
			assertNoToken(t, name, status, err)
			var api *APIError
			if !errors.As(err, &api) {
				t.Fatalf("%s %d: err = %v", name, status, err)
			}
			for _, s := range []string{api.Message, api.Body} {
				if strings.Contains(s, testToken) {
					t.Errorf("%s %d: APIError field leaks the token: %q", name, status, s)
				}
			}
			if !strings.Contains(api.Body, redacted) {
				t.Errorf("%s %d: body %q does not show the redaction", name, status, api.Body)
			}
		}
	}
	srv, _ := recorder(t, hijackClose)
	assertNoToken(t, "dropped connection", 0, NewClient(srv.URL, testNumber, testToken, srv.Client()).SendMessage(t.Context(), textInbound()))
	_, err := CreateChannel(t.Context(), srv.Client(), srv.URL, testToken, CreateChannelRequest{FromAddr: "bot", Name: "Bot", Endpoint: "https://example.org/x"})
	assertNoToken(t, "create channel", 0, err)
}

func assertNoToken(t *testing.T, name string, status int, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s %d: no error", name, status)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("%s %d: error leaks the token: %v", name, status, err)
	}
}

func TestRedactErr(t *testing.T) {
	base := errors.New("dial " + testToken + ": refused")
	err := redactErr(base, testToken)
	if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), redacted) {
		t.Errorf("redacted text = %q", err)
	}
	if !errors.Is(err, base) {
		t.Error("redaction broke the error chain")
	}
	if got := redactErr(base, ""); got != base {
		t.Error("empty token changed the error")
	}
	var netErr net.Error = &net.OpError{Op: "dial", Err: errors.New("refused")}
	if got := redactErr(netErr, testToken); got != netErr {
		t.Error("an error without the token was rewrapped")
	}
}

func TestCreateChannel(t *testing.T) {
	const answer = `{"number":{"uuid":"the-uuid-for-your-channel"},"webhook":{"uuid":"the-uuid-for-your-webhook","hmac_secret":"the-secret-for-your-webhook"}}`
	srv, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	})
	req := CreateChannelRequest{FromAddr: "the-address-for-your-channel", Name: "the display name of your channel", Endpoint: "https://example.org/your/webhook/endpoint"}
	got, err := CreateChannel(t.Context(), srv.Client(), srv.URL+"/", testToken, req)
	if err != nil {
		t.Fatal(err)
	}
	want := &CreateChannelResponse{
		Number:  ChannelNumber{UUID: "the-uuid-for-your-channel"},
		Webhook: ChannelWebhook{UUID: "the-uuid-for-your-webhook", HMACSecret: "the-secret-for-your-webhook"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answer = %+v, want %+v", got, want)
	}
	r := seen()[0]
	eq(t, "method", r.method, http.MethodPost)
	eq(t, "path", r.path, "/v1/numbers")
	eq(t, "Authorization", r.header.Get("Authorization"), "Bearer "+testToken)
	eq(t, "Content-Type", r.header.Get("Content-Type"), "application/json")
	assertJSONEqual(t, r.body, `{"backend_type":"channel","number_type":"channel_http_api","from_addr":"the-address-for-your-channel","name":"the display name of your channel","endpoint":"https://example.org/your/webhook/endpoint"}`)
}

func TestCreateChannelFailures(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		apiCode int // 0: not an APIError
	}{
		{"rejected", 400, `{"message":"Bad Request","errors":{"endpoint":["is invalid"]}}`, 400},
		{"unauthorized", 401, `{"message":"Unauthorized"}`, 401},
		{"not JSON", 200, `<html>ok</html>`, 0},
		{"no secret", 200, `{"number":{"uuid":"n"},"webhook":{"uuid":"w"}}`, 0},
		{"no number", 200, `{"webhook":{"uuid":"w","hmac_secret":"s3cr3t-value"}}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			got, err := CreateChannel(t.Context(), nil, srv.URL, testToken, CreateChannelRequest{FromAddr: "bot", Name: "Bot", Endpoint: "https://example.org/x"})
			if err == nil {
				t.Fatalf("answer %+v, want an error", got)
			}
			var api *APIError
			if isAPI := errors.As(err, &api); isAPI != (tt.apiCode != 0) || (isAPI && api.StatusCode != tt.apiCode) {
				t.Errorf("err = %v (%T), want APIError %d", err, err, tt.apiCode)
			}
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Errorf("error quotes the webhook secret: %v", err)
			}
		})
	}
}

func TestClientAcceptedButAnswerCut(t *testing.T) {
	// A 200 whose body breaks off: the message was accepted, so sending it
	// again would duplicate it.
	srv, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"succ`)
	})
	if err := NewClient(srv.URL, testNumber, testToken, srv.Client()).SendMessage(t.Context(), textInbound()); err != nil {
		t.Fatalf("err = %v, want nil", err)
	}
	if len(seen()) != 1 {
		t.Fatal("request not made")
	}
	// CreateChannel needs the answer, so there the cut is an error.
	if _, err := CreateChannel(t.Context(), srv.Client(), srv.URL, testToken, CreateChannelRequest{FromAddr: "a"}); !errors.Is(err, errAnswerCut) {
		t.Fatalf("CreateChannel err = %v, want errAnswerCut", err)
	}
}

func TestClientWithoutNumber(t *testing.T) {
	srv, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {})
	if err := NewClient(srv.URL, "", testToken, srv.Client()).SendMessage(t.Context(), textInbound()); err == nil {
		t.Fatal("sent without a number id")
	}
	if err := NewClient(srv.URL, testNumber, testToken, srv.Client()).SendStatus(t.Context(), nil); err == nil {
		t.Fatal("sent a nil status")
	}
	if n := len(seen()); n != 0 {
		t.Fatalf("%d requests made", n)
	}
}
