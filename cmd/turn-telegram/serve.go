package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
)

// openStore opens PostgreSQL when DATABASE_URL is set, else the embedded
// store in DATA_DIR, and applies migrations.
func openStore(ctx context.Context, c *config, log *slog.Logger) (store.Store, error) {
	var (
		st  store.Store
		err error
	)
	if c.DatabaseURL != "" {
		log.Info("store: postgresql")
		st, err = store.OpenPostgres(ctx, c.DatabaseURL)
	} else {
		log.Info("store: embedded sqlite", "dir", c.DataDir)
		st, err = store.OpenSQLite(ctx, c.DataDir)
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

func migrate(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	c, err := loadConfig(getenv, false)
	if err != nil {
		return err
	}
	log := newLogger(stderr, c.LogLevel, newRedactor(c.secrets()...))
	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	log.Info("migrations applied")
	return st.Close()
}

func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	c, err := loadConfig(getenv, true)
	if err != nil {
		return err
	}
	red := newRedactor(c.secrets()...)
	log := newLogger(stderr, c.LogLevel, red)
	slog.SetDefault(log)

	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.Close()

	// The worker name identifies this run's leases, released at the end.
	worker := workerName()
	engine := delivery.New(st, delivery.Options{
		Worker: worker, Concurrency: c.Workers, MaxAttempts: c.MaxAttempts, MaxAge: c.MaxAge, Lease: c.Lease, Logger: log,
		ChannelWorkers: c.channelWorkers(),
		// Media downloads wait on Turn's links: they get workers of their
		// own, so a hanging link never holds a delivery worker.
		Isolated: map[store.Kind]int{store.KindFetch: c.MediaWorkers},
	})
	publicURL := c.PublicURL
	if publicURL == "" {
		publicURL = "http://" + localAddr(c.ListenAddr)
		log.Warn("PUBLIC_URL is not set: media links point at " + publicURL + ", which Turn can reach only if it runs beside this service")
	}
	var syncer *channels.Syncer
	svc := bot.NewService(st, bot.Options{
		PublicURL:            publicURL,
		MediaLinkTTL:         c.MediaLinkTTL,
		ReadReceipts:         c.ReadReceipts,
		MediaAllowedNetworks: c.MediaAllowed,
		Limits:               bot.Limits{PerSecond: c.TelegramRate, Shared: c.DatabaseURL != ""},
		Logger:               log,
		Lookup: func(ctx context.Context, key string) {
			if syncer != nil {
				syncer.Lookup(ctx, key)
			}
		},
	}, engine.Notify)
	svc.Register(engine)
	healer := channels.NewHealer(channels.HealerConfig{Service: svc, Interval: c.WebhookCheck, Logger: log})

	var envCh *bot.Channel
	if c.TelegramToken != "" {
		envCh, err = svc.AddChannel(bot.ChannelConfig{
			Key:            c.TurnNumberID,
			TelegramToken:  c.TelegramToken,
			TelegramAPIURL: c.TelegramAPIURL,
			WebhookSecret:  c.WebhookSecret,
			TurnAPIURL:     c.TurnAPIURL,
			TurnNumberID:   c.TurnNumberID,
			TurnToken:      c.TurnToken,
			TurnHMACSecret: c.TurnHMACSecret,
		})
		if err != nil {
			return err
		}
	}
	var reg *channels.Registry
	if c.hosted() {
		if reg, err = newRegistry(c, st, log); err != nil {
			return err
		}
		var reserved []string
		if envCh != nil {
			reserved = append(reserved, envCh.Config.Key)
		}
		syncer = channels.NewSyncer(channels.SyncConfig{
			Registry: reg, Service: svc, Healer: healer, Interval: c.SyncInterval,
			Reserved: reserved, Secrets: red.Add, Logger: log,
		})
		// Serve the stored channels from the first request on.
		if err := syncer.Sync(ctx); err != nil {
			log.Warn("channels not loaded yet; retrying", "err", err)
		}
	}

	ln, err := net.Listen("tcp", c.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on LISTEN_ADDR %s: %w", c.ListenAddr, err)
	}
	var adm *admin
	if c.AdminToken != "" {
		adm = &admin{token: c.AdminToken, reg: reg, st: st, syncer: syncer, healer: healer, red: red, log: log}
	}
	srv := &http.Server{
		Handler:           newRouter(routes{svc: svc, st: st, syncer: syncer, admin: adm, metrics: metricsHandler(st, healer)}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Answers are small and quick; media links set a deadline per
		// piece instead (bot.copyPaced).
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	attrs := []any{"addr", ln.Addr().String(), "hosted", c.hosted(), "admin", adm != nil}
	if envCh != nil {
		attrs = append(attrs, "mode", c.TelegramMode, "channel", envCh.Config.Key)
	}
	log.Info("turn-telegram serving", attrs...)

	// Work that stops with ctx: the engine drains in-flight jobs itself.
	work, cancelWork := context.WithCancel(ctx)
	defer cancelWork()
	var wg sync.WaitGroup
	goRun := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	goRun(func() { _ = engine.Run(work, c.ShutdownTimeout) })
	if envCh != nil {
		polling := c.TelegramMode == "polling"
		elog := log.With("channel", envCh.Config.Key)
		goRun(func() {
			if !retry(work, elog, "telegram setup", func() error { return svc.Setup(work, envCh, polling) }) {
				return
			}
			if polling {
				_ = svc.Poll(work, envCh)
			} else {
				healer.Watch(envCh)
			}
		})
	}
	if syncer != nil {
		goRun(func() { syncer.Run(work) })
	}
	goRun(func() { healer.Run(work) })
	goRun(func() { prune(work, st, log) })

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		cancelWork()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Stop taking work (new requests, polling, claims) at once; let what is
	// in flight finish within SHUTDOWN_TIMEOUT; then hand what is left to
	// the other replicas instead of making them wait for its leases.
	log.Info("shutting down: no new requests or claims; finishing in-flight work", "timeout", c.ShutdownTimeout.String())
	cancelWork()
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	wg.Wait()
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	if n, err := st.ReleaseLeases(rctx, worker); err != nil {
		log.Warn("could not release unfinished jobs; other replicas take them when their leases expire", "err", err)
	} else if n > 0 {
		log.Info("released unfinished jobs to other replicas", "count", n)
	}
	log.Info("stopped")
	return nil
}

// workerName identifies this run's claims: host, pid and a random part, so
// that two runs in one process never share leases.
func workerName() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// newRegistry is the channel registry over st, with the keys of c.
func newRegistry(c *config, st store.Store, log *slog.Logger) (*channels.Registry, error) {
	keys, err := channels.NewKeyring(c.SecretKey, c.SecretKeyPrevious)
	if err != nil {
		return nil, &configError{"SECRET_KEY", err.Error()}
	}
	return channels.New(channels.Config{
		Store: st, Keys: keys, PublicURL: c.PublicURL,
		TelegramAPIURL: c.TelegramAPIURL, TurnAPIURL: c.TurnAPIURL, Logger: log,
	}), nil
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
// any Telegram or Turn redelivery, so de-duplication does not need them) and
// refreshes the queue's planner statistics, on which claim speed depends.
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

func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
