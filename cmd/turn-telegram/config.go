package main

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
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

// loadConfig reads and checks the whole configuration, setting by setting
// in the order of settings, stopping at the first that is wrong. For
// serve, the channel settings are required; migrate needs only the store
// settings.
func loadConfig(getenv func(string) string, needChannel bool) (*config, error) {
	e := env(getenv)
	c := &config{}
	for _, s := range settings {
		v, err := e.get(s.name)
		if err != nil {
			return nil, err
		}
		if v == "" {
			v = s.def
		}
		if err := s.set(c, v); err != nil {
			return nil, &configError{Var: s.name, Msg: err.Error()}
		}
	}
	if c.SecretKeyPrevious != nil && c.SecretKey == nil {
		return nil, &configError{Var: "SECRET_KEY", Msg: "is required when SECRET_KEY_PREVIOUS is set (the new key; the previous one only opens)"}
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

var errUsage = errors.New("usage")
