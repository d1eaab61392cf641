package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/channels"
)

// setting is one environment variable: its name, its default as the README
// gives it (the README's configuration table is checked against this
// table), what it means, and how its value (the default when unset) is
// checked into a config. Every setting may be given as a file in
// NAME_FILE instead, which wins.
type setting struct {
	name string
	def  string
	doc  string
	set  func(c *config, v string) error
}

// settings is the whole configuration, in the README's order.
var settings = []setting{
	{"TELEGRAM_BOT_TOKEN", "", "the bot's token from @BotFather", text(func(c *config) *string { return &c.TelegramToken })},
	{"TELEGRAM_API_URL", "https://api.telegram.org", "Bot API base URL", text(func(c *config) *string { return &c.TelegramAPIURL })},
	{"TELEGRAM_MODE", "", "polling or webhook (default: webhook with PUBLIC_URL, else polling)", text(func(c *config) *string { return &c.TelegramMode })},
	{"TELEGRAM_WEBHOOK_SECRET", "", "secret_token of the Telegram webhook (default: derived from the token)", text(func(c *config) *string { return &c.WebhookSecret })},
	{"TURN_API_URL", "https://whatsapp.turn.io", "Turn API base URL", text(func(c *config) *string { return &c.TurnAPIURL })},
	{"TURN_NUMBER_ID", "", "the Turn channel's number uuid", text(func(c *config) *string { return &c.TurnNumberID })},
	{"TURN_TOKEN", "", "the Turn channel's bearer token", text(func(c *config) *string { return &c.TurnToken })},
	{"TURN_HMAC_SECRET", "", "the Turn channel's webhook secret", text(func(c *config) *string { return &c.TurnHMACSecret })},
	{"PUBLIC_URL", "", "base URL the outside world reaches this service at", text(func(c *config) *string { return &c.PublicURL })},
	{"DATABASE_URL", "", "postgres://... (unset: the embedded store in DATA_DIR)", databaseURL},
	{"DATA_DIR", "./data", "directory of the embedded store", text(func(c *config) *string { return &c.DataDir })},
	{"LISTEN_ADDR", ":8080", "address the HTTP server listens on", text(func(c *config) *string { return &c.ListenAddr })},
	{"READ_RECEIPTS", "true", "report delivered and read when the person writes again", boolean(func(c *config) *bool { return &c.ReadReceipts })},
	{"MEDIA_ALLOWED_NETWORKS", "", "CIDRs media fetches may reach although not public", mediaNetworks},
	{"MEDIA_LINK_TTL", "24h", "how long media links given to Turn stay valid", duration(func(c *config) *time.Duration { return &c.MediaLinkTTL })},
	{"TELEGRAM_RATE_LIMIT", "30", "messages per second per bot (above 30: paid broadcasts, up to 1000)", number(func(c *config) *float64 { return &c.TelegramRate }, 1, 1000)},
	{"WORKERS", "32", "deliveries in flight at once", whole(func(c *config) *int { return &c.Workers }, 1, 1024)},
	{"CHANNEL_WORKERS", "", "most deliveries of one channel in flight (default: all WORKERS with one channel, a quarter hosted)", whole(func(c *config) *int { return &c.ChannelWorkers }, 0, 1024)},
	{"MEDIA_WORKERS", "8", "downloads of Turn's media links in flight at once", whole(func(c *config) *int { return &c.MediaWorkers }, 1, 256)},
	{"DELIVERY_MAX_ATTEMPTS", "20", "attempts before a delivery is dead-lettered", whole(func(c *config) *int { return &c.MaxAttempts }, 1, 1000)},
	{"DELIVERY_MAX_AGE", "24h", "age at which a failing delivery is dead-lettered", duration(func(c *config) *time.Duration { return &c.MaxAge })},
	{"DELIVERY_LEASE", "20s", "how long a claimed delivery stays with its process without renewal", duration(func(c *config) *time.Duration { return &c.Lease })},
	{"SHUTDOWN_TIMEOUT", "20s", "how long SIGTERM waits for in-flight work", duration(func(c *config) *time.Duration { return &c.ShutdownTimeout })},
	{"LOG_LEVEL", "info", "debug, info, warn or error", logLevel},
	{"SECRET_KEY", "", "hosted channels: 32 random bytes, base64 or hex, sealing the stored secrets", key(func(c *config) *[]byte { return &c.SecretKey })},
	{"SECRET_KEY_PREVIOUS", "", "during a key rotation: the previous key", key(func(c *config) *[]byte { return &c.SecretKeyPrevious })},
	{"ADMIN_TOKEN", "", "enables /admin for Authorization: Bearer <token>; at least 16 characters", adminToken},
	{"CHANNEL_SYNC_INTERVAL", "5s", "how often the store is read for changed channels", duration(func(c *config) *time.Duration { return &c.SyncInterval })},
	{"WEBHOOK_CHECK_INTERVAL", "1m", "how often each bot's webhook is checked", duration(func(c *config) *time.Duration { return &c.WebhookCheck })},
}

func text(field func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error { *field(c) = v; return nil }
}

func boolean(field func(*config) *bool) func(*config, string) error {
	return func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		*field(c) = b
		return nil
	}
}

func duration(field func(*config) *time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration such as 30s, 10m or 24h")
		}
		*field(c) = d
		return nil
	}
}

// whole reads an integer in [lo, hi]; "" (no default) leaves the zero value.
func whole(field func(*config) *int, lo, hi int) func(*config, string) error {
	return func(c *config, v string) error {
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		*field(c) = n
		return nil
	}
}

func number(field func(*config) *float64, lo, hi float64) func(*config, string) error {
	return func(c *config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < lo || f > hi {
			return fmt.Errorf("must be a number from %g to %g", lo, hi)
		}
		*field(c) = f
		return nil
	}
}

func key(field func(*config) *[]byte) func(*config, string) error {
	return func(c *config, v string) error {
		if v == "" {
			return nil
		}
		k, err := channels.ParseKey(v)
		if err != nil {
			return err
		}
		*field(c) = k
		c.secretText = append(c.secretText, v)
		return nil
	}
}

func databaseURL(c *config, v string) error {
	if v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("must be a postgres:// URL (leave it unset for the embedded store)")
		}
	}
	c.DatabaseURL = v
	return nil
}

func mediaNetworks(c *config, v string) error {
	nets, err := bot.ParseNetworks(v)
	c.MediaAllowed = nets
	return err
}

func logLevel(c *config, v string) error {
	switch strings.ToLower(v) {
	case "debug", "info", "warn", "error":
		c.LogLevel = v
		return nil
	}
	return fmt.Errorf("must be debug, info, warn or error")
}

func adminToken(c *config, v string) error {
	if v != "" && (len(v) < 16 || strings.ContainsAny(v, " \t")) {
		return fmt.Errorf("must be at least 16 characters without spaces (generate one with: openssl rand -hex 32)")
	}
	c.AdminToken = v
	return nil
}
