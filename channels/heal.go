package channels

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/turn-telegram/turn-telegram/bot"
)

// WebhookState is what the Healer last learnt of a bot's webhook.
type WebhookState struct {
	URL                string    `json:"url"`      // as Telegram has it
	Expected           string    `json:"expected"` // as it should be
	PendingUpdateCount int       `json:"pending_update_count"`
	LastErrorMessage   string    `json:"last_error_message,omitempty"`
	LastErrorDate      time.Time `json:"last_error_date,omitzero"`
	CheckedAt          time.Time `json:"checked_at,omitzero"`
	CheckError         string    `json:"check_error,omitempty"` // the last check or repair failed
	Repairs            int       `json:"repairs"`               // re-registrations by this process
	LastRepair         time.Time `json:"last_repair,omitzero"`
	LastRepairReason   string    `json:"last_repair_reason,omitempty"` // url, allowed_updates or secret
}

// HealerConfig configures a Healer.
type HealerConfig struct {
	Service *bot.Service // registers webhooks at its WebhookURL
	// Interval is how often each webhook is checked [1m]: on average,
	// each check a random 0.9 to 1.1 Intervals after the last, so that
	// the checks of many bots spread over the seconds instead of bunching.
	Interval time.Duration
	// Rand returns a number in [0, 1) to spread the checks [math/rand/v2].
	Rand   func() float64
	Logger *slog.Logger
}

// Healer keeps the webhooks of the channels it watches as they should be:
// it asks Telegram (getWebhookInfo) every Interval and registers the webhook
// again when its URL or allowed updates differ, or when Telegram reports
// that this service refused its deliveries with 401 (a secret token that
// differs: Telegram never reveals the one it has). It keeps what it learnt
// for the admin API and the metrics.
type Healer struct {
	cfg  HealerConfig
	wake chan struct{}

	mu      sync.Mutex
	watched map[string]*watch
}

type watch struct {
	ch      *bot.Channel
	state   WebhookState
	due     time.Time
	running bool
	checked bool      // a check has run: the next is on the channel's own schedule
	lastSet time.Time // when this process last registered the webhook
}

// NewHealer makes a healer; Run runs it.
func NewHealer(cfg HealerConfig) *Healer {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	return &Healer{cfg: cfg, wake: make(chan struct{}, 1), watched: map[string]*watch{}}
}

// Watch starts watching a channel served by webhook, checking it at once,
// or follows its new configuration, checking it at once only when its
// webhook changed (the same channel's new version, e.g. after set-token or
// rotate-key, keeps its schedule: re-sealing 1,000 channels must not make
// 1,000 checks at once).
func (h *Healer) Watch(ch *bot.Channel) {
	h.mu.Lock()
	w := h.watched[ch.Config.Key]
	if w == nil {
		w = &watch{}
		h.watched[ch.Config.Key] = w
	}
	if w.ch == nil || !sameWebhook(w.ch.Config, ch.Config) {
		w.due = time.Time{}
	}
	w.ch = ch
	h.mu.Unlock()
	h.kick()
}

// sameWebhook reports whether two configurations of a channel register
// the same webhook.
func sameWebhook(a, b bot.ChannelConfig) bool {
	return a.Key == b.Key && a.TelegramToken == b.TelegramToken && a.TelegramAPIURL == b.TelegramAPIURL && a.WebhookSecret == b.WebhookSecret
}

// next is when to check a webhook checked at now. After a channel's first
// check (made at once when it is watched, and so at the same moment for
// every channel loaded at start-up) the next comes a random 0.5 to 1.5
// Intervals later, which spreads the channels watched together evenly over
// an Interval; every later one 0.9 to 1.1 Intervals after the last, which
// keeps them spread.
func (h *Healer) next(now time.Time, first bool) time.Time {
	lo, width := 0.9, 0.2
	if first {
		lo, width = 0.5, 1.0
	}
	return now.Add(time.Duration((lo + width*h.cfg.Rand()) * float64(h.cfg.Interval)))
}

// forget stops watching a channel.
func (h *Healer) forget(key string) {
	h.mu.Lock()
	delete(h.watched, key)
	h.mu.Unlock()
}

// State is what was last learnt of a channel's webhook.
func (h *Healer) State(key string) (WebhookState, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.watched[key]; w != nil {
		return w.state, true
	}
	return WebhookState{}, false
}

func (h *Healer) kick() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// checkers bounds the checks running at once.
const checkers = 4

// checkRate is the most checks a second the healer starts when n
// webhooks are watched: four times their mean rate, and at least 10. The
// first checks of channels watched at once (a replica starting with 1,000
// of them) are then spread over seconds instead of made in one burst.
func checkRate(n int, interval time.Duration) rate.Limit {
	return rate.Limit(max(10, 4*float64(n)/interval.Seconds()))
}

// Run checks the watched webhooks until ctx ends.
func (h *Healer) Run(ctx context.Context) {
	sem := make(chan struct{}, checkers)
	lim := rate.NewLimiter(checkRate(0, h.cfg.Interval), 10)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		now := time.Now()
		next := now.Add(h.cfg.Interval)
		var due []*watch
		h.mu.Lock()
		lim.SetLimit(checkRate(len(h.watched), h.cfg.Interval))
		for _, w := range h.watched {
			switch {
			case w.running:
			case !w.due.After(now):
				w.running = true
				due = append(due, w)
			case w.due.Before(next):
				next = w.due
			}
		}
		h.mu.Unlock()
		for _, w := range due {
			if lim.Wait(ctx) != nil {
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done(); h.kick() }()
				h.check(ctx, w)
			}()
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-h.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// check looks at one webhook and repairs it if it drifted.
func (h *Healer) check(ctx context.Context, w *watch) {
	h.mu.Lock()
	ch, st, lastSet, first := w.ch, w.state, w.lastSet, !w.checked
	h.mu.Unlock()
	key := ch.Config.Key
	log := h.cfg.Logger.With("channel", key)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	now := time.Now()
	st.Expected, st.CheckedAt, st.CheckError = h.cfg.Service.WebhookURL(key), now, ""
	due := h.next(now, first)
	info, err := ch.TG.GetWebhookInfo(ctx)
	if err != nil {
		if ctx.Err() == nil {
			err = ch.TG.Scrub(err)
			st.CheckError = "getWebhookInfo: " + err.Error()
			log.Warn("telegram webhook check failed", "err", err)
		}
	} else {
		st.URL, st.PendingUpdateCount, st.LastErrorMessage = info.URL, info.PendingUpdateCount, info.LastErrorMessage
		st.LastErrorDate = time.Time{}
		if info.LastErrorDate > 0 {
			st.LastErrorDate = time.Unix(int64(info.LastErrorDate), 0).UTC()
		}
		if reason := drift(info, st.Expected, st.LastErrorDate, lastSet); reason != "" {
			var repaired bool
			if due, repaired = h.repair(ctx, log, ch, &st, reason, now, due); repaired {
				lastSet = now
			}
		}
	}
	h.mu.Lock()
	if h.watched[key] == w {
		if w.ch == ch {
			w.due = due
		}
		w.state, w.lastSet, w.running, w.checked = st, lastSet, false, true
	}
	h.mu.Unlock()
}

// drift says why a webhook must be registered again, or "".
func drift(info *models.WebhookInfo, want string, lastError, lastSet time.Time) string {
	switch {
	case info.URL != want:
		return "url"
	case !sameSet(info.AllowedUpdates, bot.AllowedUpdates):
		return "allowed_updates"
	case strings.Contains(info.LastErrorMessage, "401") && lastError.After(lastSet):
		// This service answers 401 only to a wrong secret token.
		return "secret"
	}
	return ""
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// repair registers the webhook again; it returns when to check next and
// whether it registered the webhook. Registering is idempotent, so replicas
// that find the same drift need no coordination: Telegram takes about one
// setWebhook a second from a bot, and a replica refused with 429 (another
// one is repairing) looks again when Telegram says.
func (h *Healer) repair(ctx context.Context, log *slog.Logger, ch *bot.Channel, st *WebhookState, reason string, now, due time.Time) (time.Time, bool) {
	if err := h.cfg.Service.Setup(ctx, ch, false); err != nil {
		err = ch.TG.Scrub(err)
		var api *bot.APIError
		if errors.As(err, &api) && api.Code == http.StatusTooManyRequests {
			log.Info("telegram webhook drifted; another replica is registering it", "reason", reason)
			return now.Add(time.Duration(max(api.RetryAfter, 1)) * time.Second), false
		}
		st.CheckError = "setWebhook: " + err.Error()
		log.Warn("telegram webhook drifted and could not be registered again", "reason", reason, "err", err)
		return due, false
	}
	st.URL, st.Repairs, st.LastRepair, st.LastRepairReason = st.Expected, st.Repairs+1, now, reason
	log.Warn("telegram webhook drifted; registered again", "reason", reason, "url", st.Expected)
	return due, true
}
