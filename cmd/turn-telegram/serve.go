package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/turn-telegram/turn-telegram/bot"
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
	log := newLogger(stderr, c.LogLevel, c.DatabaseURL)
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
	log := newLogger(stderr, c.LogLevel, c.TelegramToken, c.TurnToken, c.TurnHMACSecret, c.WebhookSecret,
		bot.DerivedWebhookSecret(c.TelegramToken), c.DatabaseURL)
	slog.SetDefault(log)

	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.Close()

	engine := delivery.New(st, delivery.Options{
		Concurrency: c.Workers, MaxAttempts: c.MaxAttempts, MaxAge: c.MaxAge, Lease: c.Lease, Logger: log,
	})
	publicURL := c.PublicURL
	if publicURL == "" {
		publicURL = "http://" + localAddr(c.ListenAddr)
		log.Warn("PUBLIC_URL is not set: media links point at " + publicURL + ", which Turn can reach only if it runs beside this service")
	}
	svc := bot.NewService(st, bot.Options{
		PublicURL:    publicURL,
		MediaLinkTTL: c.MediaLinkTTL,
		ReadReceipts: c.ReadReceipts,
		Limits:       bot.Limits{PerSecond: c.TelegramRate, Shared: c.DatabaseURL != ""},
		Logger:       log,
	}, engine.Notify)
	svc.Register(engine)
	ch, err := svc.AddChannel(bot.ChannelConfig{
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

	ln, err := net.Listen("tcp", c.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on LISTEN_ADDR %s: %w", c.ListenAddr, err)
	}
	srv := &http.Server{
		Handler:           newRouter(svc, st),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("turn-telegram serving", "addr", ln.Addr().String(), "mode", c.TelegramMode, "channel", c.TurnNumberID)

	// Work that stops with ctx: the engine drains in-flight jobs itself.
	work, cancelWork := context.WithCancel(ctx)
	defer cancelWork()
	var wg sync.WaitGroup
	goRun := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	goRun(func() { _ = engine.Run(work, c.ShutdownTimeout) })
	goRun(func() {
		if !retry(work, log, "telegram setup", func() error { return svc.Setup(work, ch, c.TelegramMode == "polling") }) {
			return
		}
		if c.TelegramMode == "polling" {
			_ = svc.Poll(work, ch)
		}
	})
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
	log.Info("shutting down: no new requests; finishing in-flight work", "timeout", c.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	cancelWork()
	wg.Wait()
	log.Info("stopped")
	return nil
}

func newRouter(svc *bot.Service, st store.Store) http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/channels/{channel}/turn", func(w http.ResponseWriter, r *http.Request) {
		svc.TurnWebhook(w, r, mux.Vars(r)["channel"])
	}).Methods(http.MethodPost)
	r.HandleFunc("/channels/{channel}/telegram", func(w http.ResponseWriter, r *http.Request) {
		svc.TelegramWebhook(w, r, mux.Vars(r)["channel"])
	}).Methods(http.MethodPost)
	r.HandleFunc("/media/{token}", func(w http.ResponseWriter, r *http.Request) {
		svc.Media(w, r, mux.Vars(r)["token"])
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	}).Methods(http.MethodGet)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "store unreachable\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	}).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.Handler()).Methods(http.MethodGet)
	return r
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

// prune forgets delivered jobs after a week: long past any Telegram or Turn
// redelivery, so de-duplication does not need them any more.
func prune(ctx context.Context, st store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
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
