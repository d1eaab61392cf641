package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/internal/app"
	"github.com/turn-telegram/turn-telegram/store"
)

// openStore opens the store c names and applies migrations.
func openStore(ctx context.Context, c *config, log *slog.Logger) (store.Store, error) {
	return app.OpenStore(ctx, c.DatabaseURL, c.DataDir, log)
}

// newRegistry is the registry of the channels kept in st.
func newRegistry(c *config, st store.Store, log *slog.Logger) (*channels.Registry, error) {
	return app.NewRegistry(c.hostedConfig(), st, c.PublicURL, log)
}

const serveUsage = `usage: turn-telegram [serve]
Runs the connector: both webhooks, delivery, and the channels configured by
the environment or kept in the store. Settings come from the environment
(see README.md, Configuration); SIGTERM stops it gracefully.`

// serve runs the service as the environment configures it, until ctx ends.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	c, err := loadConfig(getenv, true)
	if err != nil {
		return err
	}
	red := app.NewRedactor(c.secrets()...)
	log := app.NewLogger(stderr, c.LogLevel, red)
	slog.SetDefault(log)
	b := app.BuildInfo()
	log.Info("turn-telegram starting", "version", b.Version, "revision", b.Revision, "go", b.GoVersion)

	ln, err := net.Listen("tcp", c.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on LISTEN_ADDR %s: %w", c.ListenAddr, err)
	}
	defer ln.Close()
	cfg := c.appConfig()
	cfg.Listener, cfg.Logger, cfg.Redactor = ln, log, red
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + localAddr(c.ListenAddr)
		log.Warn("PUBLIC_URL is not set: media links point at " + cfg.PublicURL + ", which Turn can reach only if it runs beside this service")
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	attrs := []any{"addr", ln.Addr().String(), "hosted", c.hosted(), "admin", c.AdminToken != ""}
	if c.TelegramToken != "" {
		attrs = append(attrs, "mode", c.TelegramMode, "channel", c.TurnNumberID)
	}
	log.Info("turn-telegram serving", attrs...)
	if err := a.Run(ctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
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
