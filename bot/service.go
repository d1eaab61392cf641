package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// ChannelConfig binds one Telegram bot to one Turn channel.
type ChannelConfig struct {
	Key            string // route key: /channels/{Key}/...; the Turn number id in single-channel mode
	TelegramToken  string
	TelegramAPIURL string
	WebhookSecret  string // secret_token Telegram must present; derived from the token when empty
	TurnAPIURL     string
	TurnNumberID   string
	TurnToken      string
	TurnHMACSecret string
}

// Options apply to every channel of a Service.
type Options struct {
	// PublicURL is where Turn and Telegram reach this service (media links,
	// webhook registration).
	PublicURL string
	// MediaLinkTTL is how long a media link given to Turn stays valid [24h].
	MediaLinkTTL time.Duration
	// ReadReceipts reports "delivered" and "read" for a chat's earlier
	// messages when the person writes or presses a button.
	ReadReceipts bool
	// CallbackMaxAge is how long an inline button stays answerable [30 days].
	CallbackMaxAge time.Duration
	// Limits are Telegram's send rates per bot and per chat.
	Limits Limits
	// HTTPClient is used for Telegram, Turn and media fetches.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Service holds the channels and does the bridging work for all of them:
// HTTP handlers accept and store, job handlers deliver from the store.
type Service struct {
	st     store.Store
	opt    Options
	notify func()

	mu       sync.RWMutex
	channels map[string]*Channel
}

// Channel is one live binding with its clients.
type Channel struct {
	Config  ChannelConfig
	TG      *Telegram
	Turn    *turn.Client
	linkKey []byte
	secret  string
	limits  *limiter
	log     *slog.Logger
}

// NewService makes a service over st. notify is called after every enqueue
// so the delivery engine starts at once (nil: rely on its polling).
func NewService(st store.Store, opt Options, notify func()) *Service {
	if opt.MediaLinkTTL <= 0 {
		opt.MediaLinkTTL = 24 * time.Hour
	}
	if opt.CallbackMaxAge <= 0 {
		opt.CallbackMaxAge = 30 * 24 * time.Hour
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	opt.Limits.defaults()
	if notify == nil {
		notify = func() {}
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	return &Service{st: st, opt: opt, notify: notify, channels: map[string]*Channel{}}
}

// SetNotify sets the function called after every enqueue.
func (s *Service) SetNotify(f func()) { s.notify = f }

// AddChannel starts serving a channel (replacing one with the same key).
func (s *Service) AddChannel(cfg ChannelConfig) (*Channel, error) {
	if cfg.Key == "" || cfg.TelegramToken == "" {
		return nil, errors.New("channel needs a key and a Telegram token")
	}
	tg, err := NewTelegram(cfg.TelegramAPIURL, cfg.TelegramToken, s.opt.HTTPClient)
	if err != nil {
		return nil, err
	}
	secret := cfg.WebhookSecret
	if secret == "" {
		secret = DerivedWebhookSecret(cfg.TelegramToken)
	}
	ch := &Channel{
		Config:  cfg,
		TG:      tg,
		Turn:    turn.NewClient(cfg.TurnAPIURL, cfg.TurnNumberID, cfg.TurnToken, s.opt.HTTPClient),
		linkKey: deriveKey(cfg.TelegramToken, "media link key"),
		secret:  secret,
		limits:  newLimiter(s.opt.Limits, s.st, cfg.Key),
		log:     s.opt.Logger.With("channel", cfg.Key),
	}
	s.mu.Lock()
	s.channels[cfg.Key] = ch
	s.mu.Unlock()
	return ch, nil
}

// DerivedWebhookSecret is the webhook secret_token used when none is
// configured: derived from the bot token, so it is stable across restarts
// and replicas. Telegram allows A-Za-z0-9_- only: hex fits.
func DerivedWebhookSecret(botToken string) string {
	return hex.EncodeToString(deriveKey(botToken, "telegram webhook secret"))[:48]
}

// RemoveChannel stops serving a channel; its stored jobs wait for its return.
func (s *Service) RemoveChannel(key string) {
	s.mu.Lock()
	delete(s.channels, key)
	s.mu.Unlock()
}

// Channel returns the live channel with this key.
func (s *Service) Channel(key string) (*Channel, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ch, ok := s.channels[key]
	return ch, ok
}

// WebhookSecret is the secret_token Telegram must present for this channel.
func (c *Channel) WebhookSecret() string { return c.secret }

// Register installs the job handlers on the delivery engine.
func (s *Service) Register(e *delivery.Engine) {
	e.Handle(store.KindUpdate, s.withChannel(s.deliverUpdate))
	e.Handle(store.KindOutbound, s.withChannel(s.deliverOutbound))
	e.Handle(store.KindStatus, s.withChannel(s.deliverStatus))
	e.Handle(store.KindFetch, s.withChannel(s.deliverFetch))
}

func (s *Service) withChannel(h func(context.Context, *Channel, *delivery.Task) error) delivery.Handler {
	return func(ctx context.Context, t *delivery.Task) error {
		ch, ok := s.Channel(t.Channel)
		if !ok {
			// Removed or not yet loaded: keep the job for when it is back.
			return delivery.Throttle(fmt.Errorf("channel %q is not served by this process", t.Channel), time.Minute)
		}
		return h(ctx, ch, t)
	}
}

// Setup prepares Telegram for the channel's update source: registers the
// webhook (when PublicURL is set) or removes it so polling can work.
func (s *Service) Setup(ctx context.Context, ch *Channel, polling bool) error {
	if polling {
		if err := ch.TG.DeleteWebhook(ctx); err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		return nil
	}
	url := s.opt.PublicURL + "/channels/" + ch.Config.Key + "/telegram"
	if err := ch.TG.SetWebhook(ctx, url, ch.secret); err != nil {
		return fmt.Errorf("set webhook: %w", err)
	}
	ch.log.Info("telegram webhook registered", "url", url)
	return nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
