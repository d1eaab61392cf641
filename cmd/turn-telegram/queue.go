package main

import (
	"context"
	"errors"
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

// queueRequest is a parsed queue command, checked before anything opens.
type queueRequest struct {
	sub    string
	filter store.JobFilter
	ids    []int64
}

// parseQueue reads the subcommand and its flags; an invalid value is a
// usage error naming the flag.
func parseQueue(args []string) (queueRequest, error) {
	q := queueRequest{sub: "stats"}
	if len(args) > 0 {
		q.sub, args = args[0], args[1:]
	}
	switch q.sub {
	case "stats":
		if len(args) > 0 {
			return q, errUsage
		}
	case "list":
		fs := flag.NewFlagSet("queue list", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		state := fs.String("state", "", "pending or dead (default: both)")
		kind := fs.String("kind", "", "update, outbound, status or fetch")
		channel := fs.String("channel", "", "channel key")
		limit := fs.Int("limit", 50, "at most this many")
		if err := fs.Parse(args); err != nil {
			return q, &flagError{err.Error()}
		}
		if fs.NArg() > 0 {
			return q, &flagError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
		}
		switch store.State(*state) {
		case "", store.StatePending, store.StateDead:
		default:
			return q, &flagError{fmt.Sprintf("-state %q: must be pending or dead", *state)}
		}
		switch store.Kind(*kind) {
		case "", store.KindUpdate, store.KindOutbound, store.KindStatus, store.KindFetch:
		default:
			return q, &flagError{fmt.Sprintf("-kind %q: must be update, outbound, status or fetch", *kind)}
		}
		if *limit < 1 || *limit > 10000 {
			return q, &flagError{fmt.Sprintf("-limit %d: must be from 1 to 10000", *limit)}
		}
		q.filter = store.JobFilter{Channel: *channel, Kind: store.Kind(*kind), State: store.State(*state), Limit: *limit}
	case "retry", "discard":
		if len(args) == 0 {
			return q, errUsage
		}
		for _, a := range args {
			id, err := strconv.ParseInt(a, 10, 64)
			if err != nil || id <= 0 {
				return q, &flagError{fmt.Sprintf("%q is not a job id", a)}
			}
			q.ids = append(q.ids, id)
		}
	default:
		return q, errUsage
	}
	return q, nil
}

// flagError is an invalid command line: exit 2 with the reason.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

// queue lets an operator see and act on the delivery queue.
func queue(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	q, err := parseQueue(args)
	if err != nil {
		return err
	}
	c, err := loadConfig(getenv, false)
	if err != nil {
		return err
	}
	red := app.NewRedactor(c.secrets()...)
	st, err := openStore(ctx, c, app.NewLogger(io.Discard, "error", red))
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w\nA running service holds the embedded store: use its admin API (GET /admin/queue, /admin/queue/jobs with ADMIN_TOKEN)", err)
	}
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
	switch q.sub {
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
		jobs, err := st.ListJobs(ctx, q.filter)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tCHANNEL\tKIND\tLANE\tSTATE\tATTEMPTS\tAGE\tLAST ERROR")
		for _, j := range jobs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Channel, j.Kind, j.Lane, j.State, j.Attempts, age(j.CreatedAt), red.String(j.LastError))
		}
		return w.Flush()
	}
	for _, id := range q.ids {
		var err error
		if q.sub == "retry" {
			err = st.Requeue(ctx, id)
		} else {
			err = st.Discard(ctx, id)
		}
		if err != nil {
			return fmt.Errorf("%s job %d: %w", q.sub, id, err)
		}
		fmt.Fprintf(stdout, "%s: job %d\n", q.sub, id)
	}
	return nil
}

func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String()
}
