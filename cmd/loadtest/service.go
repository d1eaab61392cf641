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
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/internal/app"
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

// service is the connector as cmd/turn-telegram runs it, built by the
// same composition root (internal/app), here on loopback: store, delivery
// engine, bridge, routes, webhook healer and pruning.
type service struct {
	st      *countingStore
	app     *app.App
	url     string
	cancel  context.CancelFunc
	done    chan struct{}
	cleanup func()
}

func startService(ctx context.Context, spec serviceSpec, w worldInfo, logOut io.Writer) (*service, error) {
	raw, cleanup, err := openStore(ctx, spec)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, err
	}
	url := "http://" + ln.Addr().String()
	cfg := serviceConfig(spec, ln, url, logOut)
	for _, k := range loadChannels[:min(max(1, spec.channels), len(loadChannels))] {
		cfg.Channels = append(cfg.Channels, bot.ChannelConfig{
			Key:            k.key,
			TelegramToken:  k.botToken,
			TelegramAPIURL: w.Telegram,
			WebhookSecret:  k.webhookSecret,
			TurnAPIURL:     w.Turn,
			TurnNumberID:   k.key,
			TurnToken:      k.turnToken,
			TurnHMACSecret: k.hmacSecret,
		})
	}
	return runService(ctx, cfg, raw, cleanup)
}

// serviceConfig is the service of spec as cmd/turn-telegram configures
// it, serving on ln at publicURL, without channels.
func serviceConfig(spec serviceSpec, ln net.Listener, publicURL string, logOut io.Writer) app.Config {
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: spec.logLevel}))
	cfg := app.Config{
		Listener:  ln,
		PublicURL: publicURL,
		Polling:   spec.polling,
		Bot: bot.Options{
			MediaLinkTTL: 24 * time.Hour,
			ReadReceipts: true,
			// The world serves media links from loopback.
			MediaAllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			Limits:               bot.Limits{PerSecond: spec.rate, Shared: spec.store == "postgres"},
		},
		Engine: delivery.Options{
			Concurrency: spec.workers, MaxAttempts: 20, MaxAge: 24 * time.Hour,
			ChannelWorkers: spec.channelWorkers,
		},
		ShutdownTimeout: 5 * time.Second,
		Logger:          log,
	}
	if spec.mediaWorkers > 0 {
		cfg.Engine.Isolated = map[store.Kind]int{store.KindFetch: spec.mediaWorkers}
	}
	if spec.idle > 0 {
		cfg.Bot.HTTPClient = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConns:        spec.idle * 4,
			MaxIdleConnsPerHost: spec.idle,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}}
	}
	return cfg
}

// runService builds the service of cfg on raw (counted) with internal/app,
// sets up its configured channels and runs it; cleanup runs when it closes.
func runService(ctx context.Context, cfg app.Config, raw store.Store, cleanup func()) (*service, error) {
	st := &countingStore{Store: raw}
	s := &service{st: st, cleanup: cleanup, url: cfg.PublicURL}
	cfg.Store = st
	a, err := app.New(ctx, cfg)
	if err != nil {
		cfg.Listener.Close()
		s.close()
		return nil, err
	}
	s.app = a
	// Every bot is set up before the load starts.
	if err := a.Setup(ctx); err != nil {
		cfg.Listener.Close()
		s.close()
		return nil, err
	}
	work, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() { defer close(s.done); _ = a.Run(work) }()
	return s, nil
}

// hostedSpec is a replica of a hosted deployment: channels kept in the
// store, an admin API, behind a shared PUBLIC_URL.
type hostedSpec struct {
	serviceSpec
	dsn          string // the shared schema
	publicURL    string // the load balancer in front of every replica
	secretKey    []byte
	adminToken   string
	syncInterval time.Duration
	webhookCheck time.Duration
	telegram     string
	turn         string
}

// startHostedService starts one replica of a hosted deployment on its own
// pool to the shared schema, as cmd/turn-telegram does with SECRET_KEY,
// ADMIN_TOKEN and DATABASE_URL set (and no channel of its environment).
// Its own address is s.url; Telegram and Turn reach it at publicURL.
func startHostedService(ctx context.Context, h hostedSpec, logOut io.Writer) (*service, error) {
	raw, err := store.OpenPostgres(ctx, h.dsn)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		raw.Close()
		return nil, err
	}
	if h.channelWorkers == 0 {
		h.channelWorkers = max(1, h.workers/4) // as cmd/turn-telegram when hosting
	}
	cfg := serviceConfig(h.serviceSpec, ln, h.publicURL, logOut)
	// The logger of cmd/turn-telegram: every stored channel's secrets are
	// added to its redactor as the channel loads.
	red := app.NewRedactor(h.adminToken)
	cfg.Logger, cfg.Redactor = app.NewLogger(logOut, h.logLevel.String(), red), red
	cfg.AdminToken, cfg.WebhookCheck = h.adminToken, h.webhookCheck
	cfg.Hosted = &app.Hosted{SecretKey: h.secretKey, SyncInterval: h.syncInterval, TelegramAPIURL: h.telegram, TurnAPIURL: h.turn}
	s, err := runService(ctx, cfg, raw, func() { raw.Close() })
	if err != nil {
		return nil, err
	}
	s.url = "http://" + ln.Addr().String()
	return s, nil
}

// close stops the connector as SIGTERM does (no new requests, in-flight
// jobs get 5 s, leases handed over), then the store closes and its schema
// or directory goes.
func (s *service) close() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	if s.app != nil {
		_ = s.app.Close()
	}
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
