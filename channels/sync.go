package channels

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/store"
)

// SyncConfig configures a Syncer.
type SyncConfig struct {
	Registry *Registry
	Service  *bot.Service
	// Healer, if set, watches the webhook of every channel served.
	Healer *Healer
	// Interval is how often the store is read for changed channels [5s].
	Interval time.Duration
	// Reserved are keys served otherwise (the single channel configured by
	// the environment): stored channels with these keys are not served.
	Reserved []string
	// Secrets is told every channel's secrets before the channel is
	// served, so that a redacting logger can hide them.
	Secrets func(values ...string)
	Logger  *slog.Logger
}

// Syncer makes the service serve the channels in the store: enabled ones
// are added (or replaced when they change), disabled and removed ones are
// dropped. Each pass reads only the channels changed since the last one.
type Syncer struct {
	cfg SyncConfig

	passMu sync.Mutex // one pass at a time
	since  int64

	mu       sync.Mutex
	served   map[string]int64  // key -> version served
	problems map[string]string // key -> why its latest version is not served
	lastKick time.Time
}

// NewSyncer makes a syncer; Run runs it.
func NewSyncer(cfg SyncConfig) *Syncer {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Secrets == nil {
		cfg.Secrets = func(...string) {}
	}
	return &Syncer{cfg: cfg, served: map[string]int64{}, problems: map[string]string{}}
}

// Run syncs every Interval until ctx ends. The first pass has already run
// when Sync returns; Run does not wait for it.
func (s *Syncer) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("channel sync failed; retrying", "err", err, "retry_in", s.cfg.Interval.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync applies the channels changed since the last pass.
func (s *Syncer) Sync(ctx context.Context) error {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	recs, err := s.cfg.Registry.cfg.Store.Channels(ctx, s.since)
	if err != nil {
		return err
	}
	// Open every channel to serve first and tell their secrets in one
	// call: a redactor rebuilt once per pass, not once per channel (with
	// 1,000 channels loaded at start-up, once per channel is quadratic).
	opened := make([]*Channel, len(recs))
	problems := make([]error, len(recs))
	var secrets []string
	for i, rec := range recs {
		if rec.Deleted || rec.Disabled || s.reserved(rec.Key) {
			continue
		}
		opened[i], problems[i] = s.cfg.Registry.cfg.Keys.open(rec)
		if problems[i] == nil {
			secrets = append(secrets, opened[i].SecretValues()...)
		}
	}
	if len(secrets) > 0 {
		s.cfg.Secrets(secrets...)
	}
	for i, rec := range recs {
		s.apply(rec, opened[i], problems[i])
		s.since = max(s.since, rec.Version)
	}
	return nil
}

// Lookup syncs at once when key is not served (at most once a second, so
// that requests for unknown channels cannot load the store), and reports
// whether key is served afterwards. A channel added a moment ago is then
// served by this replica before its next pass.
func (s *Syncer) Lookup(ctx context.Context, key string) bool {
	if _, ok := s.Served(key); ok {
		return true
	}
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.lastKick) < time.Second {
		s.mu.Unlock()
		return false
	}
	s.lastKick = now
	s.mu.Unlock()
	if err := s.Sync(ctx); err != nil {
		return false
	}
	_, ok := s.Served(key)
	return ok
}

// Served reports whether key is served from the store, and which version.
func (s *Syncer) Served(key string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.served[key]
	return v, ok
}

// Problem says why the latest version of key is not served, if so.
func (s *Syncer) Problem(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.problems[key]
}

func (s *Syncer) reserved(key string) bool {
	for _, k := range s.cfg.Reserved {
		if k == key {
			return true
		}
	}
	return false
}

// apply serves or drops one changed channel; c is rec opened (and its
// secrets told), unless rec is to be dropped or openErr says why not.
func (s *Syncer) apply(rec store.ChannelRecord, c *Channel, openErr error) {
	log := s.cfg.Logger.With("channel", rec.Key)
	if s.reserved(rec.Key) {
		if !rec.Deleted {
			log.Warn("stored channel not served: its key is the channel configured by the environment")
		}
		return
	}
	s.mu.Lock()
	_, serving := s.served[rec.Key]
	s.mu.Unlock()
	if rec.Deleted || rec.Disabled {
		s.drop(rec.Key)
		if rec.Disabled {
			s.cfg.Service.PauseChannel(rec.Key)
		}
		if serving {
			log.Info("channel no longer served", "reason", map[bool]string{true: "removed", false: "disabled"}[rec.Deleted], "version", rec.Version)
		}
		return
	}
	if err := openErr; err != nil {
		s.setProblem(rec.Key, openProblem(err))
		if serving {
			log.Error("changed channel cannot be opened; still serving its previous version", "version", rec.Version, "err", err)
		} else {
			log.Error("channel cannot be opened; not served", "version", rec.Version, "err", err)
		}
		return
	}
	ch, err := s.cfg.Service.AddChannel(s.cfg.Registry.Config(c))
	if err != nil {
		s.setProblem(rec.Key, "cannot be served: "+err.Error())
		log.Error("channel cannot be served", "version", rec.Version, "err", err)
		return
	}
	s.mu.Lock()
	s.served[rec.Key] = rec.Version
	delete(s.problems, rec.Key)
	s.mu.Unlock()
	if s.cfg.Healer != nil {
		s.cfg.Healer.Watch(ch)
	}
	if serving {
		log.Info("channel updated", "version", rec.Version, "bot", c.Info.BotUsername)
	} else {
		log.Info("channel served", "version", rec.Version, "bot", c.Info.BotUsername, "turn_number", c.Info.TurnNumberID)
	}
}

func (s *Syncer) drop(key string) {
	s.cfg.Service.RemoveChannel(key)
	if s.cfg.Healer != nil {
		s.cfg.Healer.forget(key)
	}
	s.mu.Lock()
	delete(s.served, key)
	delete(s.problems, key)
	s.mu.Unlock()
}

func (s *Syncer) setProblem(key, p string) {
	s.mu.Lock()
	s.problems[key] = p
	s.mu.Unlock()
}
