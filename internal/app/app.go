// Package app is the service's composition root: it builds the store, the
// delivery engine, the Telegram/Turn bridge, the hosted channels' registry,
// syncer and webhook healer, and the HTTP routes from one Config, and runs
// them. cmd/turn-telegram, the load test and the end-to-end tests all build
// the service here, so what is measured and tested is what runs.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
)

// Config is everything the service is built from.
type Config struct {
	// Store, when set, is used as it is (and not closed by Close);
	// otherwise New opens PostgreSQL at DatabaseURL, or the embedded store
	// in DataDir, and migrates it.
	Store       store.Store
	DatabaseURL string
	DataDir     string

	// Listener, when set, is where Run serves Handler; otherwise the
	// caller serves it.
	Listener net.Listener
	// PublicURL is this service's address as Telegram and Turn reach it.
	PublicURL string

	// Channels are served from the configuration (not the store); Polling
	// makes them poll getUpdates instead of taking Telegram's webhook.
	Channels []bot.ChannelConfig
	Polling  bool

	// Hosted, when set, serves the channels kept in the store too.
	Hosted *Hosted
	// AdminToken, when set, serves the operator's API under /admin.
	AdminToken string

	// Bot and Engine are the bridge's and the engine's options; New fills
	// in their Logger, PublicURL and Worker.
	Bot    bot.Options
	Engine delivery.Options
	// WebhookCheck is how often each webhook is checked (0: a minute).
	WebhookCheck time.Duration
	// ShutdownTimeout is how long Run lets in-flight work finish once its
	// context ends. A negative one stops as a killed process would: no
	// drain, leases kept until they expire (for crash tests).
	ShutdownTimeout time.Duration

	Logger *slog.Logger
	// Redactor hides secrets in what the admin API answers; each stored
	// channel's secrets are added to it as the channel loads.
	Redactor *Redactor
}

// Hosted is how channels kept in the store are opened and followed.
type Hosted struct {
	SecretKey         []byte // seals the stored channels' secrets
	SecretKeyPrevious []byte // also opens them, while a rotation runs
	SyncInterval      time.Duration
	TelegramAPIURL    string
	TurnAPIURL        string
}

// App is the built service.
type App struct {
	cfg      Config
	st       store.Store
	ownStore bool
	worker   string
	engine   *delivery.Engine
	svc      *bot.Service
	healer   *channels.Healer
	reg      *channels.Registry // nil unless hosted
	syncer   *channels.Syncer   // nil unless hosted
	static   []*bot.Channel
	handler  http.Handler

	mu    sync.Mutex
	setUp map[*bot.Channel]bool
	tried map[*bot.Channel]bool // a setup attempt was answered
}

// New builds the service; it touches the store but neither Telegram nor
// Turn.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Redactor == nil {
		cfg.Redactor = NewRedactor()
	}
	log := cfg.Logger
	a := &App{cfg: cfg, st: cfg.Store, worker: workerName(), setUp: map[*bot.Channel]bool{}, tried: map[*bot.Channel]bool{}}
	if a.st == nil {
		st, err := OpenStore(ctx, cfg.DatabaseURL, cfg.DataDir, log)
		if err != nil {
			return nil, err
		}
		a.st, a.ownStore = st, true
	}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	eopt := cfg.Engine
	eopt.Worker, eopt.Logger = a.worker, log
	a.engine = delivery.New(a.st, eopt)

	bopt := cfg.Bot
	bopt.PublicURL, bopt.Logger = cfg.PublicURL, log
	// One lookup hook: a channel added a moment ago at another replica is
	// looked up in the store before its webhook is answered 404.
	bopt.Lookup = func(ctx context.Context, key string) {
		if a.syncer != nil {
			a.syncer.Lookup(ctx, key)
		}
	}
	a.svc = bot.NewService(a.st, bopt, a.engine.Notify)
	a.svc.Register(a.engine)
	a.healer = channels.NewHealer(channels.HealerConfig{Service: a.svc, Interval: cfg.WebhookCheck, Logger: log})

	var reserved []string
	for _, cc := range cfg.Channels {
		ch, err := a.svc.AddChannel(cc)
		if err != nil {
			return nil, fmt.Errorf("channel %s: %w", cc.Key, err)
		}
		a.static = append(a.static, ch)
		reserved = append(reserved, cc.Key)
	}
	if h := cfg.Hosted; h != nil {
		reg, err := NewRegistry(h, a.st, cfg.PublicURL, log)
		if err != nil {
			return nil, err
		}
		a.reg = reg
		a.syncer = channels.NewSyncer(channels.SyncConfig{
			Registry: reg, Service: a.svc, Healer: a.healer, Interval: h.SyncInterval,
			Reserved: reserved, Secrets: cfg.Redactor.Add, Logger: log,
		})
		// Serve the stored channels from the first request on.
		if err := a.syncer.Sync(ctx); err != nil {
			log.Warn("channels not loaded yet; retrying", "err", err)
		}
	}
	var adm *admin
	if cfg.AdminToken != "" {
		adm = &admin{token: cfg.AdminToken, reg: a.reg, st: a.st, syncer: a.syncer, healer: a.healer, svc: a.svc, red: cfg.Redactor, log: log}
	}
	a.handler = newRouter(routes{svc: a.svc, st: a.st, admin: adm, metrics: metricsHandler(a.st, a.svc.Channels, a.healer), unready: a.unready})
	ok = true
	return a, nil
}

// unready says why the configured channels keep the process out of
// rotation: before their first setup attempt has been answered, or while
// Telegram or Turn refuses their credentials (the pod would serve nobody).
// Telegram merely down does not count: the service keeps accepting and
// queueing. With hosted channels readiness is about the process alone, so
// that one bad tenant never takes a replica out of rotation; their health
// is in the admin API and turn_telegram_credentials_refused.
func (a *App) unready() string {
	if a.cfg.Hosted != nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ch := range a.static {
		if !a.tried[ch] {
			return "starting: channel " + ch.Config.Key + " is being set up with Telegram"
		}
		if p := ch.Problems(); len(p) > 0 {
			return "channel " + ch.Config.Key + ": " + strings.Join(p, "; ")
		}
	}
	return ""
}

// NewRegistry is the registry of the channels kept in st.
func NewRegistry(h *Hosted, st store.Store, publicURL string, log *slog.Logger) (*channels.Registry, error) {
	keys, err := channels.NewKeyring(h.SecretKey, h.SecretKeyPrevious)
	if err != nil {
		return nil, &SettingError{Var: "SECRET_KEY", Msg: err.Error()}
	}
	return channels.New(channels.Config{
		Store: st, Keys: keys, PublicURL: publicURL,
		TelegramAPIURL: h.TelegramAPIURL, TurnAPIURL: h.TurnAPIURL, Logger: log,
	}), nil
}

// SettingError names the one setting that is wrong.
type SettingError struct {
	Var string
	Msg string
}

func (e *SettingError) Error() string { return e.Var + " " + e.Msg }

// Handler serves every route: both webhooks, media links, health,
// readiness, metrics and, with an AdminToken, /admin.
func (a *App) Handler() http.Handler { return a.handler }

// Service is the bridge, for tests that add or pause channels.
func (a *App) Service() *bot.Service { return a.svc }

// Store is the store the service runs on.
func (a *App) Store() store.Store { return a.st }

// Channels are the channels served from the configuration, in its order.
func (a *App) Channels() []*bot.Channel { return a.static }

// Setup registers the configured channels with Telegram (webhook or
// polling) once; Run does it too, retrying, for those not yet set up.
// Callers that must not let traffic in before (tests, the load test) call
// it first.
func (a *App) Setup(ctx context.Context) error {
	for _, ch := range a.static {
		if err := a.setup(ctx, ch); err != nil {
			return fmt.Errorf("telegram setup of %s: %w", ch.Config.Key, err)
		}
	}
	return nil
}

func (a *App) setup(ctx context.Context, ch *bot.Channel) error {
	a.mu.Lock()
	done := a.setUp[ch]
	a.mu.Unlock()
	if done {
		return nil
	}
	err := a.svc.Setup(ctx, ch, a.cfg.Polling)
	a.mu.Lock()
	if ctx.Err() == nil {
		a.tried[ch] = true
	}
	a.setUp[ch] = err == nil
	a.mu.Unlock()
	return err
}

// Run runs the service until ctx ends: the HTTP server (with a Listener),
// the delivery engine, polling or webhook healing of the configured
// channels, the hosted channels' sync and pruning. Then it stops taking
// work at once, lets what is in flight finish within ShutdownTimeout, and
// hands what is left to the other replicas.
func (a *App) Run(ctx context.Context) error {
	log := a.cfg.Logger
	drain := max(a.cfg.ShutdownTimeout, 0)
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var wg sync.WaitGroup
	goRun := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	goRun(func() { _ = a.engine.Run(work, drain) })
	for _, ch := range a.static {
		elog := log.With("channel", ch.Config.Key)
		goRun(func() {
			if !retry(work, elog, "telegram setup", func() error { return a.setup(work, ch) }) {
				return
			}
			if a.cfg.Polling {
				elog.Info("polling getUpdates")
				_ = a.svc.Poll(work, ch)
			} else {
				a.healer.Watch(ch)
			}
		})
	}
	if a.syncer != nil {
		goRun(func() { a.syncer.Run(work) })
	}
	goRun(func() { a.healer.Run(work) })
	goRun(func() { prune(work, a.st, log) })

	var srv *http.Server
	errc := make(chan error, 1)
	if a.cfg.Listener != nil {
		srv = &http.Server{
			Handler:           a.handler,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			// Answers are small and quick; media links set a deadline per
			// piece instead (bot.copyPaced).
			WriteTimeout: 30 * time.Second,
			IdleTimeout:  2 * time.Minute,
			ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		go func() { errc <- srv.Serve(a.cfg.Listener) }()
	}
	select {
	case err := <-errc:
		cancelWork()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	if a.cfg.ShutdownTimeout < 0 {
		// As if killed: nothing drains and the leases stay.
		cancelWork()
		if srv != nil {
			_ = srv.Close()
		}
		wg.Wait()
		return nil
	}
	log.Info("shutting down: no new requests or claims; finishing in-flight work", "timeout", drain.String())
	cancelWork()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), drain)
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("http shutdown", "err", err)
		}
		cancel()
	}
	wg.Wait()
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	if n, err := a.st.ReleaseLeases(rctx, a.worker); err != nil {
		log.Warn("could not release unfinished jobs; other replicas take them when their leases expire", "err", err)
	} else if n > 0 {
		log.Info("released unfinished jobs to other replicas", "count", n)
	}
	return nil
}

// Close closes the store New opened.
func (a *App) Close() error {
	if a.ownStore && a.st != nil {
		return a.st.Close()
	}
	return nil
}

// OpenStore opens PostgreSQL when databaseURL is set, else the embedded
// store in dataDir, and applies migrations.
func OpenStore(ctx context.Context, databaseURL, dataDir string, log *slog.Logger) (store.Store, error) {
	var (
		st  store.Store
		err error
	)
	if databaseURL != "" {
		log.Info("store: postgresql")
		st, err = store.OpenPostgres(ctx, databaseURL)
	} else {
		log.Info("store: embedded sqlite", "dir", dataDir)
		st, err = store.OpenSQLite(ctx, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return st, nil
}

// workerName identifies this run's claims: host, pid and a random part, so
// that two runs in one process never share leases.
func workerName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// retry runs f until it succeeds or ctx ends, backing off; it reports
// whether f succeeded. Telegram being down at start-up delays, not stops.
func retry(ctx context.Context, log *slog.Logger, what string, f func() error) bool {
	d := time.Second
	for {
		err := f()
		if err == nil {
			return true
		}
		log.Warn(what+" failed; retrying", "err", err, "retry_in", d.String())
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		d = min(2*d, time.Minute)
	}
}

// prune runs every minute: it forgets delivered jobs after a week (long past
// any Telegram or Turn redelivery, so de-duplication does not need them),
// Turn requests past their window, and refreshes the queue's planner
// statistics, on which claim speed depends.
func prune(ctx context.Context, st store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if n, err := st.Prune(ctx, time.Now().Add(-7*24*time.Hour)); err != nil && ctx.Err() == nil {
			log.Warn("prune failed", "err", err)
		} else if n > 0 {
			log.Info("pruned delivered jobs", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
