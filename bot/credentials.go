package bot

import (
	"net/http"
	"sync"
)

// credentials is what a channel's last answers say of its credentials: a
// Telegram that answers 401 or 404 to the bot token (revoked, or never
// valid), a Turn that answers 401 or 403 to the channel token. Every
// answer updates it, so a fixed token clears the problem with its first
// success. Readiness and the admin API read it.
type credentials struct {
	channel string
	mu      sync.Mutex
	refused map[string]string // upstream -> why
}

func newCredentials(channel string) *credentials {
	c := &credentials{channel: channel, refused: map[string]string{}}
	for _, up := range []string{"telegram", "turn"} {
		credentialsRefused.WithLabelValues(channel, up).Set(0)
	}
	return c
}

// observe records what an answer of upstream says of the credentials.
func (c *credentials) observe(upstream string, status int) {
	var why string
	switch {
	case upstream == "telegram" && (status == http.StatusUnauthorized || status == http.StatusNotFound):
		why = "Telegram refuses the bot token (" + http.StatusText(status) + "): revoked or wrong"
	case upstream == "turn" && (status == http.StatusUnauthorized || status == http.StatusForbidden):
		why = "Turn refuses the channel token (" + http.StatusText(status) + ")"
	case status >= 200 && status < 300:
	default:
		return // says nothing of the credentials
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused[upstream] == why {
		return
	}
	if why == "" {
		delete(c.refused, upstream)
		credentialsRefused.WithLabelValues(c.channel, upstream).Set(0)
		return
	}
	c.refused[upstream] = why
	credentialsRefused.WithLabelValues(c.channel, upstream).Set(1)
}

// Problems says which credentials of the channel are refused now, if any.
func (c *Channel) Problems() []string {
	c.creds.mu.Lock()
	defer c.creds.mu.Unlock()
	var out []string
	for _, up := range []string{"telegram", "turn"} {
		if why := c.creds.refused[up]; why != "" {
			out = append(out, why)
		}
	}
	return out
}
