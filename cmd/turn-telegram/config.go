package main

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/internal/app"
	"github.com/turn-telegram/turn-telegram/store"
)

// config is the service's settings, read from the environment. Every secret
// may instead be given as a file path in NAME_FILE (Docker/Kubernetes
// secrets), which wins over NAME.
type config struct {
	TelegramToken   string
	TelegramAPIURL  string
	TelegramMode    string
	WebhookSecret   string
	TurnAPIURL      string
	TurnNumberID    string
	TurnToken       string
	TurnHMACSecret  string
	PublicURL       string
	DatabaseURL     string
	DataDir         string
	ListenAddr      string
	ReadReceipts    bool
	MediaLinkTTL    time.Duration
	TelegramRate    float64
	Workers         int
	ChannelWorkers  int // 0: the default for the mode (see channelWorkers)
	MediaWorkers    int
	MediaAllowed    []netip.Prefix
	MaxAttempts     int
	MaxAge          time.Duration
	Lease           time.Duration
	ShutdownTimeout time.Duration
	LogLevel        string

	// Hosted channels (SECRET_KEY set): channels kept in the store.
	SecretKey         []byte // seals the stored channels' secrets
	SecretKeyPrevious []byte // also opens them, while a rotation runs
	SyncInterval      time.Duration
	WebhookCheck      time.Duration
	AdminToken        string

	// secretText are the secret settings as given, for the redacting logger.
	secretText []string
}

// channelWorkers is the most deliveries one channel has in flight: all of
// them with one channel, a quarter when hosting many, so that one tenant's
// backlog or hanging sends leave workers for the others.
func (c *config) channelWorkers() int {
	switch {
	case c.ChannelWorkers > 0:
		return c.ChannelWorkers
	case c.hosted():
		return max(1, c.Workers/4)
	}
	return c.Workers
}

// appConfig is the service c describes (without listener or logger).
func (c *config) appConfig() app.Config {
	cfg := app.Config{
		DatabaseURL: c.DatabaseURL,
		DataDir:     c.DataDir,
		PublicURL:   c.PublicURL,
		Polling:     c.TelegramMode == "polling",
		AdminToken:  c.AdminToken,
		Bot: bot.Options{
			MediaLinkTTL:         c.MediaLinkTTL,
			ReadReceipts:         c.ReadReceipts,
			MediaAllowedNetworks: c.MediaAllowed,
			Limits:               bot.Limits{PerSecond: c.TelegramRate, Shared: c.DatabaseURL != ""},
		},
		Engine: delivery.Options{
			Concurrency: c.Workers, MaxAttempts: c.MaxAttempts, MaxAge: c.MaxAge, Lease: c.Lease,
			ChannelWorkers: c.channelWorkers(),
			// Media downloads wait on Turn's links: they get workers of
			// their own, so a hanging link never holds a delivery worker.
			Isolated: map[store.Kind]int{store.KindFetch: c.MediaWorkers},
		},
		WebhookCheck:    c.WebhookCheck,
		ShutdownTimeout: c.ShutdownTimeout,
	}
	if c.TelegramToken != "" {
		cfg.Channels = []bot.ChannelConfig{{
			Key:            c.TurnNumberID,
			TelegramToken:  c.TelegramToken,
			TelegramAPIURL: c.TelegramAPIURL,
			WebhookSecret:  c.WebhookSecret,
			TurnAPIURL:     c.TurnAPIURL,
			TurnNumberID:   c.TurnNumberID,
			TurnToken:      c.TurnToken,
			TurnHMACSecret: c.TurnHMACSecret,
		}}
	}
	if c.hosted() {
		cfg.Hosted = c.hostedConfig()
	}
	return cfg
}

func (c *config) hostedConfig() *app.Hosted {
	return &app.Hosted{
		SecretKey: c.SecretKey, SecretKeyPrevious: c.SecretKeyPrevious, SyncInterval: c.SyncInterval,
		TelegramAPIURL: c.TelegramAPIURL, TurnAPIURL: c.TurnAPIURL,
	}
}

// hosted reports whether channels are served from the store.
func (c *config) hosted() bool { return c.SecretKey != nil }

// secrets are every secret of the configuration, for the redacting logger.
func (c *config) secrets() []string {
	out := append([]string{c.TelegramToken, c.TurnToken, c.TurnHMACSecret, c.WebhookSecret, c.DatabaseURL, c.AdminToken}, c.secretText...)
	if u, err := url.Parse(c.DatabaseURL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
	}
	if c.TelegramToken != "" {
		out = append(out, bot.DerivedWebhookSecret(c.TelegramToken))
		if _, after, ok := strings.Cut(c.TelegramToken, ":"); ok {
			out = append(out, after)
		}
	}
	return out
}

// configError names the one setting that stops start-up.
type configError = app.SettingError

var (
	tokenRe  = regexp.MustCompile(`^[0-9]{3,}:[A-Za-z0-9_-]{20,}$`)
	secretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

type env func(string) string

// get reads NAME_FILE's contents if set, else NAME.
func (e env) get(name string) (string, error) {
	if path := e(name + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", &configError{Var: name + "_FILE", Msg: fmt.Sprintf("cannot be read: %v", err)}
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(e(name)), nil
}

// loadConfig reads and checks the whole configuration. For serve, the
// channel settings are required; migrate needs only the store settings.
func loadConfig(getenv func(string) string, needChannel bool) (*config, error) {
	e := env(getenv)
	c := &config{}
	var err error
	str := func(name, def string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = e.get(name)
		if v == "" {
			v = def
		}
		return v
	}
	c.TelegramToken = str("TELEGRAM_BOT_TOKEN", "")
	c.TelegramAPIURL = str("TELEGRAM_API_URL", "https://api.telegram.org")
	c.TelegramMode = str("TELEGRAM_MODE", "")
	c.WebhookSecret = str("TELEGRAM_WEBHOOK_SECRET", "")
	c.TurnAPIURL = str("TURN_API_URL", "https://whatsapp.turn.io")
	c.TurnNumberID = str("TURN_NUMBER_ID", "")
	c.TurnToken = str("TURN_TOKEN", "")
	c.TurnHMACSecret = str("TURN_HMAC_SECRET", "")
	c.PublicURL = str("PUBLIC_URL", "")
	c.DatabaseURL = str("DATABASE_URL", "")
	c.DataDir = str("DATA_DIR", "./data")
	c.ListenAddr = str("LISTEN_ADDR", ":8080")
	c.LogLevel = str("LOG_LEVEL", "info")
	c.AdminToken = str("ADMIN_TOKEN", "")
	secretKey := str("SECRET_KEY", "")
	previousKey := str("SECRET_KEY_PREVIOUS", "")
	if err != nil {
		return nil, err
	}
	for _, k := range []struct {
		name, val string
		dest      *[]byte
	}{{"SECRET_KEY", secretKey, &c.SecretKey}, {"SECRET_KEY_PREVIOUS", previousKey, &c.SecretKeyPrevious}} {
		if k.val == "" {
			continue
		}
		key, perr := channels.ParseKey(k.val)
		if perr != nil {
			return nil, &configError{Var: k.name, Msg: perr.Error()}
		}
		*k.dest = key
		c.secretText = append(c.secretText, k.val)
	}
	if c.SecretKeyPrevious != nil && c.SecretKey == nil {
		return nil, &configError{Var: "SECRET_KEY", Msg: "is required when SECRET_KEY_PREVIOUS is set (the new key; the previous one only opens)"}
	}
	if c.AdminToken != "" && (len(c.AdminToken) < 16 || strings.ContainsAny(c.AdminToken, " \t")) {
		return nil, &configError{Var: "ADMIN_TOKEN", Msg: "must be at least 16 characters without spaces (generate one with: openssl rand -hex 32)"}
	}
	if c.SyncInterval, err = durationVar(e, "CHANNEL_SYNC_INTERVAL", 5*time.Second); err != nil {
		return nil, err
	}
	if c.WebhookCheck, err = durationVar(e, "WEBHOOK_CHECK_INTERVAL", time.Minute); err != nil {
		return nil, err
	}
	if c.ReadReceipts, err = boolVar(e, "READ_RECEIPTS", true); err != nil {
		return nil, err
	}
	if c.MediaAllowed, err = bot.ParseNetworks(e("MEDIA_ALLOWED_NETWORKS")); err != nil {
		return nil, &configError{Var: "MEDIA_ALLOWED_NETWORKS", Msg: err.Error()}
	}
	if c.MediaLinkTTL, err = durationVar(e, "MEDIA_LINK_TTL", 24*time.Hour); err != nil {
		return nil, err
	}
	if c.MaxAge, err = durationVar(e, "DELIVERY_MAX_AGE", 24*time.Hour); err != nil {
		return nil, err
	}
	if c.Lease, err = durationVar(e, "DELIVERY_LEASE", 20*time.Second); err != nil {
		return nil, err
	}
	if c.ShutdownTimeout, err = durationVar(e, "SHUTDOWN_TIMEOUT", 20*time.Second); err != nil {
		return nil, err
	}
	if c.TelegramRate, err = floatVar(e, "TELEGRAM_RATE_LIMIT", 30, 1, 1000); err != nil {
		return nil, err
	}
	if c.Workers, err = intVar(e, "WORKERS", 32, 1, 1024); err != nil {
		return nil, err
	}
	if c.ChannelWorkers, err = intVar(e, "CHANNEL_WORKERS", 0, 0, 1024); err != nil {
		return nil, err
	}
	if c.MediaWorkers, err = intVar(e, "MEDIA_WORKERS", 8, 1, 256); err != nil {
		return nil, err
	}
	if c.MaxAttempts, err = intVar(e, "DELIVERY_MAX_ATTEMPTS", 20, 1, 1000); err != nil {
		return nil, err
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return nil, &configError{Var: "LOG_LEVEL", Msg: "must be debug, info, warn or error"}
	}
	if c.DatabaseURL != "" {
		u, perr := url.Parse(c.DatabaseURL)
		if perr != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, &configError{Var: "DATABASE_URL", Msg: "must be a postgres:// URL (leave it unset for the embedded store)"}
		}
	}
	if !needChannel {
		return c, nil
	}
	return c, c.checkChannel()
}

// checkChannel checks what serve needs: the single channel of the
// environment (TELEGRAM_BOT_TOKEN and the TURN_* settings), the channels
// kept in the store (SECRET_KEY, with PUBLIC_URL for their webhooks), or both.
func (c *config) checkChannel() error {
	if c.TelegramToken == "" && !c.hosted() {
		return &configError{Var: "TELEGRAM_BOT_TOKEN", Msg: "is required (the token @BotFather gave the bot), or SECRET_KEY to serve the channels kept in the store"}
	}
	if c.TelegramToken != "" {
		if err := c.checkEnvChannel(); err != nil {
			return err
		}
	}
	for _, u := range []struct{ name, val string }{
		{"TELEGRAM_API_URL", c.TelegramAPIURL}, {"TURN_API_URL", c.TurnAPIURL}, {"PUBLIC_URL", c.PublicURL},
	} {
		if u.val == "" {
			continue
		}
		p, err := url.Parse(u.val)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return &configError{Var: u.name, Msg: "must be an absolute http(s) URL"}
		}
	}
	if c.hosted() && c.PublicURL == "" {
		return &configError{Var: "PUBLIC_URL", Msg: "is required with SECRET_KEY: the channels kept in the store are served by webhook, so Telegram and Turn must reach the service"}
	}
	switch c.TelegramMode {
	case "":
		c.TelegramMode = "polling"
		if c.PublicURL != "" {
			c.TelegramMode = "webhook"
		}
	case "polling":
	case "webhook":
		if c.PublicURL == "" {
			return &configError{Var: "PUBLIC_URL", Msg: "is required when TELEGRAM_MODE=webhook (Telegram must reach the service)"}
		}
	default:
		return &configError{Var: "TELEGRAM_MODE", Msg: "must be polling or webhook"}
	}
	return nil
}

// checkEnvChannel checks the single channel configured by the environment.
func (c *config) checkEnvChannel() error {
	switch {
	case !tokenRe.MatchString(c.TelegramToken):
		return &configError{Var: "TELEGRAM_BOT_TOKEN", Msg: "is malformed (expected <digits>:<secret> as @BotFather gives it)"}
	case c.TurnNumberID == "":
		return &configError{Var: "TURN_NUMBER_ID", Msg: "is required (the Turn channel's number uuid)"}
	case strings.ContainsAny(c.TurnNumberID, "/?#% "):
		return &configError{Var: "TURN_NUMBER_ID", Msg: "is malformed (expected the channel's number uuid)"}
	case c.TurnToken == "":
		return &configError{Var: "TURN_TOKEN", Msg: "is required (the channel's API token from Turn's settings)"}
	case c.TurnHMACSecret == "":
		return &configError{Var: "TURN_HMAC_SECRET", Msg: "is required (the webhook secret Turn returned when the channel was created)"}
	case c.WebhookSecret != "" && !secretRe.MatchString(c.WebhookSecret):
		return &configError{Var: "TELEGRAM_WEBHOOK_SECRET", Msg: "must be 1-256 characters of A-Z, a-z, 0-9, _ and -"}
	}
	return nil
}

func boolVar(e env, name string, def bool) (bool, error) {
	v, err := e.get(name)
	if err != nil || v == "" {
		return def, err
	}
	b, perr := strconv.ParseBool(v)
	if perr != nil {
		return def, &configError{Var: name, Msg: "must be true or false"}
	}
	return b, nil
}

func durationVar(e env, name string, def time.Duration) (time.Duration, error) {
	v, err := e.get(name)
	if err != nil || v == "" {
		return def, err
	}
	d, perr := time.ParseDuration(v)
	if perr != nil || d <= 0 {
		return def, &configError{Var: name, Msg: "must be a positive duration such as 30s, 10m or 24h"}
	}
	return d, nil
}

func intVar(e env, name string, def, lo, hi int) (int, error) {
	v, err := e.get(name)
	if err != nil || v == "" {
		return def, err
	}
	n, perr := strconv.Atoi(v)
	if perr != nil || n < lo || n > hi {
		return def, &configError{Var: name, Msg: fmt.Sprintf("must be a whole number from %d to %d", lo, hi)}
	}
	return n, nil
}

func floatVar(e env, name string, def, lo, hi float64) (float64, error) {
	v, err := e.get(name)
	if err != nil || v == "" {
		return def, err
	}
	f, perr := strconv.ParseFloat(v, 64)
	if perr != nil || f < lo || f > hi {
		return def, &configError{Var: name, Msg: fmt.Sprintf("must be a number from %g to %g", lo, hi)}
	}
	return f, nil
}

var errUsage = errors.New("usage")
