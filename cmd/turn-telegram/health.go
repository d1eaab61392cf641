package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

const healthUsage = `usage: turn-telegram health [-live] [-addr HOST:PORT]
Asks the service running beside it whether it is ready (GET /readyz) or,
with -live, alive (GET /healthz); exits 0 if so, 1 if not. For container
health checks: the image has no curl. The address defaults to LISTEN_ADDR
(default :8080) on loopback.`

// health is a container's health check of the service beside it.
func health(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	live := fs.Bool("live", false, "check liveness (/healthz) instead of readiness (/readyz)")
	addr := fs.String("addr", "", "the service's address (default: LISTEN_ADDR on loopback)")
	if err := fs.Parse(args); err != nil {
		return &flagError{err.Error()}
	}
	if *addr == "" {
		*addr = getenv("LISTEN_ADDR")
		if *addr == "" {
			*addr = ":8080"
		}
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return &flagError{fmt.Sprintf("-addr %q: %v", *addr, err)}
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %d: %s", path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	_, err = fmt.Fprint(stdout, string(body))
	return err
}
