package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
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
	TurnToken      string // empty until Turn issues it: deliveries to Turn wait
	TurnHMACSecret string
	RateLimit      float64 // Telegram messages per second for this bot; 0: Options.Limits
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
	// MediaAllowedNetworks may be reached by media fetches although they
	// are not public (loopback, private, ...): tests, a self-hosted Turn.
	MediaAllowedNetworks []netip.Prefix
	// HTTPClient is used for Telegram and Turn (media fetches have a
	// client of their own).
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Lookup, when set, is called when a job or a webhook names a channel
	// this process does not serve; it may add the channel (hosted mode
	// loads it from the store) before the job is put off or the webhook
	// answered 404.
	Lookup func(ctx context.Context, key string)
}

// Service holds the channels and does the bridging work for all of them:
// HTTP handlers accept and store, job handlers deliver from the store.
type Service struct {
	st     store.Store
	opt    Options
	notify func(kinds ...store.Kind)

	mu       sync.RWMutex
	channels map[string]*Channel
	paused   map[string]bool // disabled channels: answered 503, not 404
	outage   storeOutage
}

// Channel is one live binding with its clients.
type Channel struct {
	Config  ChannelConfig
	TG      *Telegram
	Turn    *turn.Client
	linkKey []byte
	secret  string
	limits  *limiter
	creds   *credentials
	log     *slog.Logger
}

// NewService makes a service over st. notify is called after every enqueue
// with the kinds of the jobs enqueued, so the delivery engine starts at
// once (nil: rely on its polling).
func NewService(st store.Store, opt Options, notify func(kinds ...store.Kind)) *Service {
	if opt.MediaLinkTTL <= 0 {
		opt.MediaLinkTTL = 24 * time.Hour
	}
	if opt.CallbackMaxAge <= 0 {
		opt.CallbackMaxAge = 30 * 24 * time.Hour
	}
	if opt.HTTPClient == nil {
		// Keep connections to Telegram and Turn open: the default of 2 idle
		// per host made most calls open a new connection under load.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 64
		opt.HTTPClient = &http.Client{Timeout: 2 * time.Minute, Transport: tr}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	opt.Limits.defaults()
	if notify == nil {
		notify = func(...store.Kind) {}
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	return &Service{st: st, opt: opt, notify: notify, channels: map[string]*Channel{}, paused: map[string]bool{}}
}

// AddChannel starts serving a channel (replacing one with the same key).
func (s *Service) AddChannel(cfg ChannelConfig) (*Channel, error) {
	if cfg.Key == "" || cfg.TelegramToken == "" {
		return nil, errors.New("channel needs a key and a Telegram token")
	}
	creds := newCredentials(cfg.Key)
	tg, err := NewTelegram(cfg.TelegramAPIURL, cfg.TelegramToken, instrumented(s.opt.HTTPClient, "telegram", cfg.Key, creds))
	if err != nil {
		return nil, err
	}
	limits := s.opt.Limits
	if cfg.RateLimit > 0 {
		limits.PerSecond = cfg.RateLimit
	}
	secret := cfg.WebhookSecret
	if secret == "" {
		secret = DerivedWebhookSecret(cfg.TelegramToken)
	}
	ch := &Channel{
		Config:  cfg,
		TG:      tg,
		Turn:    turn.NewClient(cfg.TurnAPIURL, cfg.TurnNumberID, cfg.TurnToken, instrumented(s.opt.HTTPClient, "turn", cfg.Key, creds)),
		linkKey: deriveKey(cfg.TelegramToken, "media link key"),
		secret:  secret,
		limits:  newLimiter(limits, s.st, cfg.Key),
		creds:   creds,
		log:     s.opt.Logger.With("channel", cfg.Key),
	}
	s.mu.Lock()
	s.channels[cfg.Key] = ch
	delete(s.paused, cfg.Key)
	startChannel(cfg.Key)
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
	_, had := s.channels[key]
	delete(s.channels, key)
	delete(s.paused, key)
	s.mu.Unlock()
	if had {
		forgetChannel(key)
	}
}

// PauseChannel stops serving a channel that is disabled, not removed: its
// webhooks answer 503, so Turn and Telegram keep its traffic and retry
// until it is enabled (AddChannel) again.
func (s *Service) PauseChannel(key string) {
	s.RemoveChannel(key)
	s.mu.Lock()
	s.paused[key] = true
	s.mu.Unlock()
}

// isPaused reports whether a channel is disabled (see PauseChannel).
func (s *Service) isPaused(key string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.paused[key]
}

// Channels returns the keys of the channels served, in no order.
func (s *Service) Channels() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]string, 0, len(s.channels))
	for k := range s.channels {
		keys = append(keys, k)
	}
	return keys
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
		if !ok && s.opt.Lookup != nil {
			s.opt.Lookup(ctx, t.Channel)
			ch, ok = s.Channel(t.Channel)
		}
		if !ok {
			// Removed, disabled or not yet loaded: keep the job for when it is back.
			return delivery.Throttle(fmt.Errorf("channel %q is not served by this process", t.Channel), time.Minute)
		}
		if ch.Config.TurnToken == "" && (t.Kind == store.KindUpdate || t.Kind == store.KindStatus) {
			// Turn issues a created channel's token in its UI, later: the
			// messages wait for it without spending their attempts.
			return delivery.Throttle(fmt.Errorf("channel %q has no Turn token yet", t.Channel), 15*time.Second)
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
	url := s.WebhookURL(ch.Config.Key)
	if err := ch.TG.SetWebhook(ctx, url, ch.secret); err != nil {
		return fmt.Errorf("set webhook: %w", err)
	}
	ch.log.Info("telegram webhook registered", "url", url)
	return nil
}

// WebhookURL is where Telegram must post the updates of channel key.
func (s *Service) WebhookURL(key string) string {
	return s.opt.PublicURL + "/channels/" + key + "/telegram"
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
