package telegramtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/go-telegram/bot/models"
)

const (
	maxSecretToken        = 256
	defaultMaxConnections = 40
	deliveryTimeout       = 10 * time.Second
	secretHeader          = "X-Telegram-Bot-Api-Secret-Token"
)

type webhookConfig struct {
	url            string
	secret         string
	maxConnections int
	ipAddress      string
	hasCertificate bool
}

func (s *Server) setWebhook(rq *request) (any, *apiError) {
	b := rq.bot
	rawURL := strings.TrimSpace(rq.str("url"))
	drop := rq.boolean("drop_pending_updates")
	if rawURL == "" {
		return s.removeWebhook(b, drop)
	}
	s.mu.Lock()
	insecure := s.insecureWebhooks
	s.mu.Unlock()
	if aerr := checkWebhookURL(rawURL, insecure); aerr != nil {
		return nil, aerr
	}
	secret := rq.str("secret_token")
	if len(secret) > maxSecretToken {
		return nil, badRequest("secret token is too long")
	}
	for _, c := range []byte(secret) {
		if !isASCIIAlnum(c) && c != '_' && c != '-' {
			return nil, badRequest("secret token contains unallowed characters")
		}
	}
	allowed, set, aerr := parseAllowedUpdates(rq.str("allowed_updates"))
	if aerr != nil {
		return nil, aerr
	}
	_, cert := rq.files["certificate"]
	cfg := webhookConfig{
		url:            rawURL,
		secret:         secret,
		maxConnections: int(min(max(rq.integer("max_connections", defaultMaxConnections), 1), 100)),
		ipAddress:      rq.str("ip_address"),
		hasCertificate: cert,
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// Telegram takes one setWebhook with a URL per second from a bot (the
	// fake counts only valid ones, so refusals can be tested in a row).
	now := time.Now()
	if !s.limits.Disabled && now.Sub(b.lastSetWebhook) < time.Second {
		return nil, tooManyRequests(1)
	}
	b.lastSetWebhook = now
	if set {
		b.allowed = allowed
	}
	b.endPollLocked("terminated by setWebhook request")
	if drop {
		b.queue = nil
	}
	if b.webhook != nil && *b.webhook == cfg && !drop && !cert {
		return described{result: true, description: "Webhook is already set"}, nil
	}
	b.webhook = &cfg
	b.lastError, b.lastErrorText = time.Time{}, ""
	b.wakeLocked()
	s.startDeliveryLocked(b)
	return described{result: true, description: "Webhook was set"}, nil
}

// checkWebhookURL applies Telegram's rules: HTTPS, on port 443, 80, 88 or
// 8443, to a public address. With insecure set, loopback hosts are exempt.
func checkWebhookURL(raw string, insecure bool) *apiError {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return badRequest("invalid webhook URL specified")
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	loopback := strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
	if insecure && loopback {
		return nil
	}
	if u.Scheme != "https" {
		return badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	switch u.Port() {
	case "", "443", "80", "88", "8443":
	default:
		return badRequest("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
	}
	if ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast()) {
		return badRequest("bad webhook: IP address %s is reserved", host)
	}
	if loopback {
		return badRequest("bad webhook: Failed to resolve host: Name or service not known")
	}
	return nil
}

func (s *Server) deleteWebhook(rq *request) (any, *apiError) {
	return s.removeWebhook(rq.bot, rq.boolean("drop_pending_updates"))
}

func (s *Server) removeWebhook(b *bot, drop bool) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if drop {
		b.queue = nil
	}
	had := b.webhook != nil
	b.webhook = nil
	b.lastError, b.lastErrorText = time.Time{}, ""
	b.wakeLocked()
	if had {
		return described{result: true, description: "Webhook was deleted"}, nil
	}
	return described{result: true, description: "Webhook is already deleted"}, nil
}

func (s *Server) getWebhookInfo(rq *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := rq.bot
	info := models.WebhookInfo{PendingUpdateCount: len(b.queue), AllowedUpdates: b.allowed}
	if wh := b.webhook; wh != nil {
		info.URL = wh.url
		info.HasCustomCertificate = wh.hasCertificate
		info.MaxConnections = wh.maxConnections
		info.IPAddress = wh.ipAddress
	}
	if !b.lastError.IsZero() {
		info.LastErrorDate = int(b.lastError.Unix())
		info.LastErrorMessage = b.lastErrorText
	}
	return info, nil
}

// startDeliveryLocked starts the bot's delivery goroutine unless it runs.
func (s *Server) startDeliveryLocked(b *bot) {
	if b.delivering || s.closed {
		return
	}
	b.delivering = true
	s.wg.Add(1)
	go s.deliver(b)
}

// deliver posts the bot's queued updates to its webhook, one at a time and
// in order, retrying the first until it gets a 2xx. It ends when the
// webhook is removed or the server closes.
func (s *Server) deliver(b *bot) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if s.closed || b.webhook == nil {
			b.delivering = false
			s.mu.Unlock()
			return
		}
		if len(b.queue) == 0 {
			notify := b.notify
			s.mu.Unlock()
			select {
			case <-notify:
			case <-s.ctx.Done():
			}
			continue
		}
		up, wh, retry := b.queue[0], *b.webhook, s.webhookRetry
		s.mu.Unlock()

		status, failure := s.post(wh, up)
		s.mu.Lock()
		s.deliveries = append(s.deliveries, WebhookDelivery{
			Bot: b.Username, UpdateID: up.id, URL: wh.url, Status: status, Error: failure, At: time.Now(),
		})
		if failure == "" {
			if len(b.queue) > 0 && b.queue[0].id == up.id {
				b.queue = b.queue[1:]
			}
		} else {
			b.lastError, b.lastErrorText = time.Now(), failure
		}
		s.mu.Unlock()
		if failure != "" {
			t := time.NewTimer(retry)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
			}
		}
	}
}

// post delivers one update and describes a failure as getWebhookInfo's
// last_error_message does.
func (s *Server) post(wh webhookConfig, up queuedUpdate) (int, string) {
	ctx, cancel := context.WithTimeout(s.ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.url, bytes.NewReader(up.raw))
	if err != nil {
		return 0, "Wrong webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	if wh.secret != "" {
		req.Header.Set(secretHeader, wh.secret)
	}
	resp, err := s.poster.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return 0, "Connection refused"
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
			return 0, "Read timeout expired"
		}
		return 0, fmt.Sprintf("Connection failed: %v", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, "Wrong response from the webhook: " + resp.Status
	}
	return resp.StatusCode, ""
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
