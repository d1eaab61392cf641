// Command turn-telegram binds Telegram bots to Turn.io channels.
//
//	turn-telegram [serve]   run the service (the default)
//	turn-telegram migrate   apply the embedded database migrations and exit
//	turn-telegram queue     list, retry or discard waiting and dead deliveries
//	turn-telegram channels  add, list, change and remove hosted channels
//
// Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	return runIO(ctx, args, getenv, os.Stdout, stderr)
}

// runIO is runContext with the commands' output going to stdout.
func runIO(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
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
		err = queue(ctx, args[1:], getenv, stdout, stderr)
	case "channels":
		err = channelsCmd(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stderr, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "turn-telegram: unknown command %q\n%s\n", cmd, usage)
		return 2
	}
	var ce *configError
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, queueUsage)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, ue.usage)
		return 2
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "turn-telegram: configuration: %s\n", ce)
		return 2
	default:
		fmt.Fprintf(stderr, "turn-telegram: %v\n", err)
		return 1
	}
}

const usage = `usage: turn-telegram [serve|migrate|queue|channels]
  serve     run the connector (default)
  migrate   apply database migrations and exit
  queue     see, retry or discard waiting and dead deliveries
  channels  add, list, change and remove the channels kept in the store
Configuration is read from the environment: see README.md.`
