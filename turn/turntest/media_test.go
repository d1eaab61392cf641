package turntest_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

func fetch(t *testing.T, s *turntest.Server, link string) (int, string, []byte) {
	t.Helper()
	resp, err := s.Client().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func TestHostMedia(t *testing.T) {
	s := newServer(t)
	data := []byte("\x89PNG\r\n\x1a\nfake image")
	link := s.HostMedia(data, "image/png")

	if !regexp.MustCompile(`^` + regexp.QuoteMeta(s.URL) + `/uploads/[0-9a-f]{32}\?expires=\d+&sig=[0-9a-f]{64}$`).MatchString(link) {
		t.Fatalf("link %q has the wrong shape", link)
	}
	u, _ := url.Parse(link)
	exp, _ := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
	if d := time.Until(time.Unix(exp, 0)); d < turntest.DefaultMediaTTL-5*time.Second || d > turntest.DefaultMediaTTL {
		t.Errorf("link expires in %s, want about %s", d, turntest.DefaultMediaTTL)
	}
	for range 2 {
		status, ct, body := fetch(t, s, link)
		if status != 200 || ct != "image/png" || string(body) != string(data) {
			t.Fatalf("fetch: %d %q %q", status, ct, body)
		}
	}
	if n := s.MediaFetches(); n != 2 {
		t.Errorf("MediaFetches = %d, want 2", n)
	}
}

func TestMediaRefused(t *testing.T) {
	s := newServer(t)
	link := s.HostMedia([]byte("doc"), "application/pdf")
	u, _ := url.Parse(link)
	q := u.Query()
	name := strings.TrimPrefix(u.Path, "/uploads/")
	other := s.HostMedia([]byte("other"), "text/plain")
	ou, _ := url.Parse(other)

	with := func(f func(q url.Values)) string {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = append([]string(nil), v...)
		}
		f(q2)
		return s.URL + u.Path + "?" + q2.Encode()
	}
	tests := []struct {
		name   string
		link   string
		status int
	}{
		{"signature changed", with(func(q url.Values) { q.Set("sig", strings.Repeat("0", 64)) }), 403},
		{"signature not hex", with(func(q url.Values) { q.Set("sig", "zz") }), 403},
		{"signature missing", with(func(q url.Values) { q.Del("sig") }), 403},
		{"expiry extended", with(func(q url.Values) {
			e, _ := strconv.ParseInt(q.Get("expires"), 10, 64)
			q.Set("expires", strconv.FormatInt(e+3600, 10))
		}), 403},
		{"expiry missing", with(func(q url.Values) { q.Del("expires") }), 403},
		{"other file's signature", s.URL + u.Path + "?" + ou.RawQuery, 403},
		{"name changed", strings.Replace(link, name, strings.Repeat("f", 32), 1), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, _, body := fetch(t, s, tt.link); status != tt.status {
				t.Fatalf("status = %d (%s), want %d", status, body, tt.status)
			}
		})
	}
	if n := s.MediaFetches(); n != 0 {
		t.Errorf("refused fetches counted: %d", n)
	}
	if status, _, _ := fetch(t, s, link); status != 200 {
		t.Errorf("the untouched link stopped working: %d", status)
	}
}

func TestMediaExpiry(t *testing.T) {
	s := newServer(t)
	early := s.HostMedia([]byte("a"), "audio/ogg")

	s.SetMediaTTL(-time.Second)
	expired := s.HostMedia([]byte("b"), "audio/ogg")
	if status, _, body := fetch(t, s, expired); status != 403 || !strings.Contains(string(body), "has expired") {
		t.Errorf("expired link: %d %s", status, body)
	}

	s.SetMediaTTL(time.Hour)
	late := s.HostMedia([]byte("c"), "audio/ogg")
	if status, _, _ := fetch(t, s, early); status != 200 {
		t.Errorf("a link from before SetMediaTTL changed: %d", status)
	}
	s.ExpireMedia()
	for _, link := range []string{early, late} {
		if status, _, _ := fetch(t, s, link); status != 403 {
			t.Errorf("after ExpireMedia: %d", status)
		}
	}
	if status, _, _ := fetch(t, s, s.HostMedia([]byte("d"), "audio/ogg")); status != 200 {
		t.Errorf("a link hosted after ExpireMedia: %d", status)
	}
	if got := s.Rejected(http.StatusForbidden); got != 3 {
		t.Errorf("Rejected(403) = %d, want 3", got)
	}
}
