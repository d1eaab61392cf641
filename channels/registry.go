package channels

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/store"
)

// Config is what the registry needs.
type Config struct {
	Store store.ChannelStore
	Keys  *Keyring
	// PublicURL is where Turn and Telegram reach the service: channels'
	// webhook URLs are built on it. Adding a channel needs it.
	PublicURL      string
	TelegramAPIURL string // Bot API base, e.g. https://api.telegram.org
	TurnAPIURL     string // e.g. https://whatsapp.turn.io
	HTTPClient     *http.Client
	Logger         *slog.Logger
}

// Registry performs the channel operations on the store, Telegram and Turn.
// It is safe for concurrent use.
type Registry struct {
	cfg Config
	log *slog.Logger
}

// New makes a registry.
func New(cfg Config) *Registry {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Registry{cfg: cfg, log: cfg.Logger}
}

// turnEndpoint is the URL Turn posts a channel's outbound messages to.
func (r *Registry) turnEndpoint(key string) string {
	return r.cfg.PublicURL + "/channels/" + key + "/turn"
}

// WebhookURL is the URL Telegram posts a channel's updates to.
func (r *Registry) WebhookURL(key string) string {
	return r.cfg.PublicURL + "/channels/" + key + "/telegram"
}

// Config is the bot configuration that serves c.
func (r *Registry) Config(c *Channel) bot.ChannelConfig {
	return bot.ChannelConfig{
		Key:            c.Key,
		TelegramToken:  c.Secrets.BotToken,
		TelegramAPIURL: r.cfg.TelegramAPIURL,
		WebhookSecret:  c.Secrets.WebhookSecret,
		TurnAPIURL:     r.cfg.TurnAPIURL,
		TurnNumberID:   c.Info.TurnNumberID,
		TurnToken:      c.Secrets.TurnToken,
		TurnHMACSecret: c.Secrets.HMACSecret,
		RateLimit:      c.Info.Options.RateLimit,
	}
}

// telegram is a Bot API client for token.
func (r *Registry) telegram(token string) (*bot.Telegram, error) {
	tg, err := bot.NewTelegram(r.cfg.TelegramAPIURL, token, r.cfg.HTTPClient)
	if err != nil {
		return nil, errorf(Invalid, err, "the bot token is not usable")
	}
	return tg, nil
}

// Load reads a channel and opens its secrets.
func (r *Registry) Load(ctx context.Context, key string) (*Channel, error) {
	rec, err := r.cfg.Store.Channel(ctx, key)
	if err != nil {
		return nil, storeError(err, key)
	}
	c, err := r.cfg.Keys.open(rec)
	if err != nil {
		return nil, errorf(Internal, err, "channel %q cannot be opened: %s", key, openProblem(err))
	}
	return c, nil
}

// openProblem says, without secrets, why a record did not open.
func openProblem(err error) string {
	if errors.Is(err, ErrUnknownKey) {
		return "its secrets are " + ErrUnknownKey.Error()
	}
	return "its secrets do not decrypt with SECRET_KEY or SECRET_KEY_PREVIOUS"
}

// storeError maps a store failure to an operation error.
func storeError(err error, key string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(NotFound, err, "no channel %q", key)
	case errors.Is(err, store.ErrConflict):
		return errorf(Conflict, err, "channel %q: %s", key, conflictReason(err))
	}
	return errorf(Unavailable, err, "the store failed")
}

// conflictReason is the store's explanation of a conflict: the text before
// the sentinel, which names keys and versions only.
func conflictReason(err error) string {
	msg := err.Error()
	msg = strings.TrimSuffix(msg, ": "+store.ErrConflict.Error())
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// put writes c sealed with the current key, returning it as stored.
func (r *Registry) put(ctx context.Context, c *Channel) (*Channel, error) {
	rec, err := r.cfg.Keys.seal(c)
	if err != nil {
		return nil, errorf(Internal, err, "sealing the channel's secrets failed")
	}
	stored, err := r.cfg.Store.PutChannel(ctx, rec)
	if err != nil {
		return nil, storeError(err, c.Key)
	}
	out := *c
	out.Version, out.KeyID, out.CreatedAt, out.UpdatedAt = stored.Version, stored.KeyID, stored.CreatedAt, stored.UpdatedAt
	return &out, nil
}
