// Command turn-telegram binds Telegram bots to Turn.io channels.
//
//	turn-telegram [serve]   run the service (the default)
//	turn-telegram migrate   apply the embedded database migrations and exit
//	turn-telegram queue     list, retry or discard waiting and dead deliveries
//
// Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run is the binary: it stops gracefully on SIGINT or SIGTERM and returns
// the exit code.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, getenv, stderr)
}

// runContext is run with the stop signal given as ctx: a long-running
// command (serve) stops gracefully when ctx ends. Tests call it directly.
func runContext(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, getenv, stderr)
	case "migrate":
		err = migrate(ctx, getenv, stderr)
	case "queue":
		err = queue(ctx, args[1:], getenv, os.Stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stderr, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "turn-telegram: unknown command %q\n%s\n", cmd, usage)
		return 2
	}
	var ce *configError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, queueUsage)
		return 2
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "turn-telegram: configuration: %s\n", ce)
		return 2
	default:
		fmt.Fprintf(stderr, "turn-telegram: %v\n", err)
		return 1
	}
}

const usage = `usage: turn-telegram [serve|migrate|queue]
  serve    run the connector (default)
  migrate  apply database migrations and exit
  queue    see, retry or discard waiting and dead deliveries
Configuration is read from the environment: see README.md.`

// newLogger writes JSON lines and redacts every configured secret from
// every message and attribute, whatever code produced them.
func newLogger(w io.Writer, level string, secrets ...string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	var keep []string
	for _, s := range secrets {
		if len(s) >= 6 {
			keep = append(keep, s)
		}
	}
	redact := func(s string) string {
		for _, sec := range keep {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
		return s
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: lv,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Value.Kind() {
			case slog.KindString:
				return slog.String(a.Key, redact(a.Value.String()))
			case slog.KindAny:
				if err, ok := a.Value.Any().(error); ok {
					return slog.String(a.Key, redact(err.Error()))
				}
				if s, ok := a.Value.Any().(fmt.Stringer); ok {
					return slog.String(a.Key, redact(s.String()))
				}
			}
			return a
		},
	}))
}
