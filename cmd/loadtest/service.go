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
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
)

// serviceSpec is how a scenario needs the connector set up.
type serviceSpec struct {
	store    string // sqlite or postgres
	polling  bool
	rate     float64 // TELEGRAM_RATE_LIMIT
	workers  int
	idle     int // >0: an HTTP client keeping this many idle connections per host
	pgURL    string
	pgPool   int
	logLevel slog.Level
	// channels served: the first of loadChannels, or as many as this (at
	// most len(loadChannels)).
	channels int
	// channelWorkers is delivery.Options.ChannelWorkers (0: the engine's
	// default); mediaWorkers > 0 gives media fetches (store.KindFetch) a
	// pool of their own of that size (delivery.Options.Isolated).
	channelWorkers int
	mediaWorkers   int
}

// service is the connector as cmd/turn-telegram wires it: the store, the
// delivery engine, bot.Service with its channels, and the routes on a real
// net/http server, here on loopback.
type service struct {
	st      *countingStore
	srv     *http.Server
	url     string
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	cleanup func()
}

func startService(ctx context.Context, spec serviceSpec, w worldInfo, logOut io.Writer) (*service, error) {
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: spec.logLevel}))
	raw, cleanup, err := openStore(ctx, spec)
	if err != nil {
		return nil, err
	}
	st := &countingStore{Store: raw}
	s := &service{st: st, cleanup: cleanup}
	eopt := delivery.Options{
		Concurrency: spec.workers, MaxAttempts: 20, MaxAge: 24 * time.Hour, Logger: log,
		ChannelWorkers: spec.channelWorkers,
	}
	if spec.mediaWorkers > 0 {
		eopt.Isolated = map[store.Kind]int{store.KindFetch: spec.mediaWorkers}
	}
	engine := delivery.New(st, eopt)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.close()
		return nil, err
	}
	s.url = "http://" + ln.Addr().String()
	opt := bot.Options{
		PublicURL:    s.url,
		MediaLinkTTL: 24 * time.Hour,
		ReadReceipts: true,
		// The world serves media links from loopback.
		MediaAllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Limits:               bot.Limits{PerSecond: spec.rate, Shared: spec.store == "postgres"},
		Logger:               log,
	}
	if spec.idle > 0 {
		opt.HTTPClient = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConns:        spec.idle * 4,
			MaxIdleConnsPerHost: spec.idle,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}}
	}
	svc := bot.NewService(st, opt, engine.Notify)
	svc.Register(engine)
	var chs []*bot.Channel
	for _, k := range loadChannels[:min(max(1, spec.channels), len(loadChannels))] {
		ch, err := svc.AddChannel(bot.ChannelConfig{
			Key:            k.key,
			TelegramToken:  k.botToken,
			TelegramAPIURL: w.Telegram,
			WebhookSecret:  k.webhookSecret,
			TurnAPIURL:     w.Turn,
			TurnNumberID:   k.key,
			TurnToken:      k.turnToken,
			TurnHMACSecret: k.hmacSecret,
		})
		if err != nil {
			ln.Close()
			s.close()
			return nil, err
		}
		chs = append(chs, ch)
	}
	s.srv = &http.Server{
		Handler:           router(svc, st),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { _ = s.srv.Serve(ln) }()

	work, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, ch := range chs {
		if err := svc.Setup(ctx, ch, spec.polling); err != nil {
			s.close()
			return nil, fmt.Errorf("telegram setup of %s: %w", ch.Config.Key, err)
		}
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = engine.Run(work, 5*time.Second) }()
	if spec.polling {
		for _, ch := range chs {
			s.wg.Add(1)
			go func() { defer s.wg.Done(); _ = svc.Poll(work, ch) }()
		}
	}
	return s, nil
}

// router is cmd/turn-telegram's, less /metrics and the health checks,
// which no load touches.
func router(svc *bot.Service, st store.Store) http.Handler {
	r := mux.NewRouter()
	svc.Routes(r, nil)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := st.Ping(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}).Methods(http.MethodGet)
	return r
}

// close stops the connector: no new requests, the engine and poller end
// (in-flight jobs get 5 s), the store closes and its schema or directory
// goes.
func (s *service) close() {
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = s.srv.Shutdown(ctx)
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.cleanup != nil {
		s.cleanup()
	}
}

// openStore opens a fresh, migrated store: a new schema on the PostgreSQL
// server, or a new directory for the embedded store.
func openStore(ctx context.Context, spec serviceSpec) (store.Store, func(), error) {
	if spec.store == "sqlite" {
		dir, err := os.MkdirTemp("", "loadtest-sqlite-")
		if err != nil {
			return nil, nil, err
		}
		st, err := store.OpenSQLite(ctx, dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return st, func() { st.Close(); os.RemoveAll(dir) }, nil
	}
	schema, dsn, err := createSchema(ctx, spec.pgURL, spec.pgPool)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		dropSchema(spec.pgURL, schema)
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		dropSchema(spec.pgURL, schema)
		return nil, nil, err
	}
	return st, func() { st.Close(); dropSchema(spec.pgURL, schema) }, nil
}

// createSchema makes a schema of its own on the server at base and returns
// it with a URL working in it (search_path), and pool_max_conns when pool
// is set.
func createSchema(ctx context.Context, base string, pool int) (schema, dsn string, err error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", errors.New("the database URL must be a postgres:// URL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = "loadtest_" + hex.EncodeToString(b[:])
	if err := adminExec(ctx, base, "CREATE SCHEMA "+schema); err != nil {
		return "", "", fmt.Errorf("create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	if pool > 0 {
		q.Set("pool_max_conns", strconv.Itoa(pool))
	}
	u.RawQuery = q.Encode()
	return schema, u.String(), nil
}

func dropSchema(base, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := adminExec(ctx, base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		fmt.Fprintf(os.Stderr, "loadtest: drop schema %s: %v\n", schema, err)
	}
}

func adminExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
