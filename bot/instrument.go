package bot

import (
	"net/http"
	"path"
	"strings"
	"time"
)

// instrumented returns a copy of hc whose calls are measured: latency of
// Turn calls by endpoint and of Telegram calls by method (the send* calls
// are measured where they are made, and long polls are not latency), and
// 429 answers of either side by channel. Labels never hold a URL:
// Telegram's contain the bot token.
func instrumented(hc *http.Client, upstream, channel string, creds *credentials) *http.Client {
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *hc
	c.Transport = &meter{next: base, upstream: upstream, channel: channel, creds: creds}
	return &c
}

type meter struct {
	next     http.RoundTripper
	upstream string // "telegram" or "turn"
	channel  string
	creds    *credentials // what the answers say of the credentials
}

func (m *meter) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := m.next.RoundTrip(r)
	switch m.upstream {
	case "turn":
		turnSeconds.WithLabelValues(turnEndpoint(r.URL.Path)).Observe(time.Since(start).Seconds())
	case "telegram":
		if method := telegramMethod(r.URL.Path); method != "" && !strings.HasPrefix(method, "send") && method != "getUpdates" {
			telegramSeconds.WithLabelValues(method).Observe(time.Since(start).Seconds())
		}
	}
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		rateLimited.WithLabelValues(m.channel, m.upstream).Inc()
	}
	// File downloads and media links answer 404 for a missing file, which
	// says nothing of the token: only API calls count.
	if err == nil && m.creds != nil && (m.upstream == "turn" && turnEndpoint(r.URL.Path) != "media" ||
		m.upstream == "telegram" && telegramMethod(r.URL.Path) != "download" && telegramMethod(r.URL.Path) != "") {
		m.creds.observe(m.upstream, resp.StatusCode)
	}
	return resp, err
}

// telegramMethod is the Bot API method of a path /bot<token>/<method>
// ("download" for /file/bot<token>/...), "" for anything else.
func telegramMethod(p string) string {
	if strings.HasPrefix(p, "/file/bot") {
		return "download"
	}
	rest, ok := strings.CutPrefix(p, "/bot")
	if !ok {
		return ""
	}
	_, method, ok := strings.Cut(rest, "/")
	if !ok || method == "" || strings.Contains(method, "/") || len(method) > 40 {
		return ""
	}
	return method
}

// turnEndpoint names a Turn API path by its last segment (messages,
// statuses, numbers), a bounded set.
func turnEndpoint(p string) string {
	switch e := path.Base(p); e {
	case "messages", "statuses", "numbers":
		return e
	}
	if strings.HasPrefix(p, "/v1/") {
		return "other"
	}
	return "media"
}
