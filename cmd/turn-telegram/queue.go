package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/turn-telegram/turn-telegram/internal/app"
	"github.com/turn-telegram/turn-telegram/store"
)

const queueUsage = `usage: turn-telegram queue [list|stats|retry ID...|discard ID...]
  stats                 waiting and dead jobs per channel, kind and state (default)
  list [-state dead] [-kind outbound] [-channel KEY] [-limit 50]
                        the jobs themselves, newest first, with their last error
  retry ID...           make dead jobs pending again
  discard ID...         delete dead (or waiting, unclaimed) jobs`

// queue lets an operator see and act on the delivery queue.
func queue(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := loadConfig(getenv, false)
	if err != nil {
		return err
	}
	red := app.NewRedactor(c.secrets()...)
	st, err := openStore(ctx, c, app.NewLogger(io.Discard, "error", red))
	if err != nil {
		return err
	}
	defer st.Close()
	// Last errors are printed through the redactor the service logs with:
	// a secret that reached one never reaches a terminal.
	if c.hosted() {
		reg, err := newRegistry(c, st, app.NewLogger(io.Discard, "error", red))
		if err != nil {
			return err
		}
		secrets, err := reg.Secrets(ctx)
		if err != nil {
			return fmt.Errorf("read the channels' secrets to redact what is printed: %w", err)
		}
		red.Add(secrets...)
	}
	sub := "stats"
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "stats":
		stats, err := st.QueueStats(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "CHANNEL\tKIND\tSTATE\tCOUNT\tOLDEST")
		for _, s := range stats {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", s.Channel, s.Kind, s.State, s.Count, age(s.Oldest))
		}
		return w.Flush()
	case "list":
		fs := flag.NewFlagSet("queue list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		state := fs.String("state", "", "pending or dead (default: both)")
		kind := fs.String("kind", "", "update, outbound, status or fetch")
		channel := fs.String("channel", "", "channel key")
		limit := fs.Int("limit", 50, "at most this many")
		if err := fs.Parse(args); err != nil {
			return errUsage
		}
		jobs, err := st.ListJobs(ctx, store.JobFilter{
			Channel: *channel, Kind: store.Kind(*kind), State: store.State(*state), Limit: *limit,
		})
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tCHANNEL\tKIND\tLANE\tSTATE\tATTEMPTS\tAGE\tLAST ERROR")
		for _, j := range jobs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Channel, j.Kind, j.Lane, j.State, j.Attempts, age(j.CreatedAt), red.String(j.LastError))
		}
		return w.Flush()
	case "retry", "discard":
		if len(args) == 0 {
			return errUsage
		}
		for _, a := range args {
			id, err := strconv.ParseInt(a, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a job id", a)
			}
			if sub == "retry" {
				err = st.Requeue(ctx, id)
			} else {
				err = st.Discard(ctx, id)
			}
			if err != nil {
				return fmt.Errorf("%s job %d: %w", sub, id, err)
			}
			fmt.Fprintf(stdout, "%s: job %d\n", sub, id)
		}
		return nil
	}
	return errUsage
}

func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String()
}
