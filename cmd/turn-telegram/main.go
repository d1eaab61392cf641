// Command turn-telegram binds Telegram bots to Turn.io channels.
//
//	turn-telegram [serve]   run the service (the default)
//	turn-telegram migrate   apply the embedded database migrations and exit
//	turn-telegram queue     list, retry or discard waiting and dead deliveries
//	turn-telegram channels  add, list, change and remove hosted channels
//	turn-telegram health    ask the running service whether it is ready
//	turn-telegram version   the build's version
//
// Configuration comes from the environment; see README.md. This package
// only parses and dispatches: the service is built by internal/app.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/turn-telegram/turn-telegram/internal/app"
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

// command is one subcommand, in its own file.
type command struct {
	name    string
	summary string
	usage   string // printed for -h, before anything is opened
	run     func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error
	// logs: the command writes JSON log lines to stderr, so its failure
	// is one too.
	logs bool
}

// commands is the dispatch table; the first is the default.
var commands = []command{
	{"serve", "run the connector (default)", serveUsage,
		func(ctx context.Context, _ []string, getenv func(string) string, _, stderr io.Writer) error {
			return serve(ctx, getenv, stderr)
		}, true},
	{"migrate", "apply database migrations and exit", migrateUsage,
		func(ctx context.Context, _ []string, getenv func(string) string, _, stderr io.Writer) error {
			return migrate(ctx, getenv, stderr)
		}, true},
	{"queue", "see, retry or discard waiting and dead deliveries", queueUsage, queue, false},
	{"channels", "add, list, change and remove the channels kept in the store", channelsUsage, channelsCmd, false},
	{"health", "check the service beside it (container health checks)", healthUsage, health, false},
	{"version", "print the build's version", "usage: turn-telegram version",
		func(_ context.Context, _ []string, _ func(string) string, stdout, _ io.Writer) error {
			_, err := fmt.Fprintln(stdout, app.BuildInfo().String())
			return err
		}, false},
}

// helpFlags ask for a command's usage.
var helpFlags = []string{"-h", "-help", "--help", "help"}

// runIO is runContext with the commands' output going to stdout.
func runIO(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := commands[0].name
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage())
		return 0
	case "--version", "-version":
		fmt.Fprintln(stdout, app.BuildInfo().String())
		return 0
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "turn-telegram: unknown command %q\n%s\n", name, usage())
		return 2
	}
	cmd := commands[i]
	// Help is answered before any setting is read or any store opened.
	if slices.ContainsFunc(args, func(a string) bool { return slices.Contains(helpFlags, a) }) {
		fmt.Fprintln(stdout, cmd.usage)
		return 0
	}
	err := cmd.run(ctx, args, getenv, stdout, stderr)
	var ce *configError
	var ue *usageError
	var fe *flagError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &fe):
		fmt.Fprintf(stderr, "turn-telegram %s: %s\n%s\n", cmd.name, fe.msg, cmd.usage)
		return 2
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, cmd.usage)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, ue.usage)
		return 2
	case errors.As(err, &ce):
		if cmd.logs {
			failed(stderr, "configuration: "+ce.Error(), "setting", ce.Var)
		} else {
			fmt.Fprintf(stderr, "turn-telegram: configuration: %s\n", ce)
		}
		return 2
	case cmd.logs:
		failed(stderr, err.Error())
		return 1
	default:
		fmt.Fprintf(stderr, "turn-telegram: %v\n", err)
		return 1
	}
}

// failed logs a command's failure as the JSON line its logs are made of.
func failed(stderr io.Writer, msg string, attrs ...any) {
	slog.New(slog.NewJSONHandler(stderr, nil)).Error("turn-telegram: "+msg, attrs...)
}

// usage lists the commands.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: turn-telegram [COMMAND] [-h]\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	b.WriteString("  --version print the build's version\n\n")
	b.WriteString("Settings, from the environment (each also as NAME_FILE, a file holding the value; see README.md):\n")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(&b, "  %-24s %-26s %s\n", s.name, def, s.doc)
	}
	return strings.TrimRight(b.String(), "\n")
}
