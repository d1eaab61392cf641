// Command loadtest measures how fast the connector is and how close that is
// to what the machine allows.
//
// It wires the connector in this process exactly as cmd/turn-telegram does
// (bot.NewService, delivery.New, the routes on a real net/http server on
// loopback, a real store: PostgreSQL in a fresh schema it creates and drops,
// or the embedded SQLite store in a temporary directory) and points it at
// the strict fakes, bot/telegramtest and turn/turntest, which run with the
// load generator in a child process (-role world) so that the CPU and
// memory measured here are the connector's alone. Recording proxies in
// front of the fakes tell the load generator when each message reached the
// other side. All traffic stays on loopback.
//
// Scenarios (-scenarios):
//
//	ceiling         the database's own rate of committed single-row inserts at the same concurrency
//	inbound-flood   -concurrency connections post updates to the Telegram webhook as fast as it answers
//	inbound-rate    updates arrive at the webhook at -rate for -duration; accept and end-to-end latency
//	polling-rate    the same through getUpdates long polling, for -poll-duration
//	polling-flood   10 s worth of -rate updates wait at once; how fast polling takes them in
//	outbound-flood  -concurrency connections post signed Turn webhooks as fast as they are answered
//	broadcast       -broadcast messages to as many chats, sent under the fake's rate limit (-broadcast-rate)
//	buttons         journeys ask, people press, replies reach Turn: button round trips
//	noisy-neighbour two channels: A broadcasts -noisy-broadcast and has -noisy-hangs media links that hang,
//	                while B holds a conversation (a message each way every second); B's end-to-end latency
//	large-media     -media-docs documents of -media-mb MiB posted at once; peak memory and time to deliver
//	hosted          (only when named; PostgreSQL) -hosted-channels channels in the store on two replicas,
//	                traffic on -hosted-busy of them: memory per channel, add-to-live time per
//	                -hosted-sync interval, sync pass cost, healer calls per second, admin list latency
//
// For each it prints throughput, latency percentiles of acceptance and of
// end-to-end delivery, CPU seconds per 1,000 messages (this process, and
// the PostgreSQL server's processes), and peak memory (VmHWM, and the Go
// heap). Usage:
//
//	go run ./cmd/loadtest [-store sqlite|postgres|both] [-scenarios a,b] [-quick]
//	    [-duration 60s] [-rate 1000] [-chats 1000] [-broadcast 10000] [-cpuprofile prefix]
//
// docs/benchmarks.md has the figures of a run and how to read them.
package main

import (
	"context"
	"fmt"
	"github.com/turn-telegram/turn-telegram/store"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"
)

func main() {
	c, err := parseConfig(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	if c.role == "world" {
		if err := runWorldProcess(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest world:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// Run is one scenario on one store, with everything measured.
type Run struct {
	Store    string   `json:"store"`
	Scenario string   `json:"scenario"`
	Describe string   `json:"describe"`
	Result   Result   `json:"result"`
	Usage    Usage    `json:"usage"`
	Messages int      `json:"messages"` // what CPU per 1,000 messages divides by
	Ceiling  *Ceiling `json:"ceiling,omitempty"`
	Logged   logCount `json:"logged"`
	// StoreCalls are the connector's calls to the store, busiest first.
	StoreCalls   []StoreCall `json:"store_calls,omitempty"`
	JobsPerClaim float64     `json:"jobs_per_claim,omitempty"`
	// Commits and CommittedWrites are the store's group commits in the
	// run: writes per commit is the mean group size.
	Commits         float64 `json:"commits,omitempty"`
	CommittedWrites float64 `json:"committed_writes,omitempty"`
	// Hosted is the hosted scenario's figures.
	Hosted *HostedReport `json:"hosted,omitempty"`
}

func run(ctx context.Context, c *config, out io.Writer) error {
	logw, logPath, err := openLog(c.logPath)
	if err != nil {
		return err
	}
	defer logw.Close()
	m := describeMachine(ctx, c)
	printMachine(out, m, c)
	rep := &report{Machine: m, Config: c.summary()}
	for _, st := range c.stores {
		ceilings := map[int]Ceiling{}
		for _, name := range c.scenarios {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if name == "ceiling" {
				for _, r := range runCeilings(ctx, c, st) {
					if r.Ceiling != nil {
						ceilings[r.Ceiling.Concurrency] = *r.Ceiling
					}
					rep.add(out, r, nil, 0)
				}
				continue
			}
			if name == "hosted" {
				fmt.Fprintf(out, "\n== %s / hosted\n", st)
				r, err := runHosted(ctx, c, st, logw, out)
				rep.Runs = append(rep.Runs, r)
				if err != nil {
					return fmt.Errorf("%s / %s: %w", st, name, err)
				}
				continue
			}
			r, err := runScenario(ctx, c, st, name, logw)
			if err != nil {
				return fmt.Errorf("%s / %s: %w", st, name, err)
			}
			rep.add(out, r, ceilings, c.concurrency)
		}
	}
	rep.summary(out, c)
	fmt.Fprintf(out, "\nservice log: %s\n", logPath)
	if c.jsonOut != "" {
		return rep.writeJSON(c.jsonOut)
	}
	return nil
}

// plan is what a scenario asks of the world and of the service.
func plan(c *config, st, name string) (runRequest, serviceSpec, string) {
	spec := serviceSpec{store: st, rate: 30, workers: c.workers, idle: c.idlePerHost, pgURL: c.databaseURL, pgPool: c.poolConns, logLevel: slog.LevelInfo,
		channelWorkers: c.channelWorkers, mediaWorkers: c.mediaWorkers}
	req := runRequest{Scenario: name, Chats: c.chats, Concurrency: c.concurrency, DrainLimit: time.Minute}
	var what string
	switch name {
	case "inbound-flood":
		req.Duration = c.flood
		what = fmt.Sprintf("%d connections post updates to the Telegram webhook for %s, %d chats", c.concurrency, c.flood, c.chats)
	case "inbound-rate":
		req.Duration, req.Rate, req.DrainLimit = c.duration, c.rate, c.duration+time.Minute
		what = fmt.Sprintf("%.0f updates/s to the Telegram webhook for %s, %d chats", c.rate, c.duration, c.chats)
	case "polling-rate":
		spec.polling = true
		req.Duration, req.Rate, req.DrainLimit = c.pollFor, c.rate, c.pollFor+time.Minute
		what = fmt.Sprintf("%.0f updates/s through getUpdates for %s, %d chats", c.rate, c.pollFor, c.chats)
	case "polling-flood":
		spec.polling = true
		req.Count, req.DrainLimit = int(c.rate*10), 2*time.Minute
		what = fmt.Sprintf("%d updates waiting at once, taken through getUpdates, %d chats", req.Count, c.chats)
	case "outbound-flood":
		req.Duration, req.SendRate, req.DrainLimit = c.flood, 30, time.Second
		what = fmt.Sprintf("%d connections post Turn webhooks for %s, %d chats, sending at 30/s", c.concurrency, c.flood, c.chats)
	case "broadcast":
		spec.rate = c.bcastRate
		req.Count, req.SendRate = c.broadcast, c.bcastRate
		req.DrainLimit = time.Duration(float64(c.broadcast)/c.bcastRate*1.5*float64(time.Second)) + time.Minute
		if c.bcastDrain > 0 {
			req.DrainLimit = c.bcastDrain
		}
		what = fmt.Sprintf("%d messages to %d chats posted by %d connections, sent at %.0f/s", c.broadcast, c.broadcast, c.concurrency, c.bcastRate)
	case "buttons":
		// Polling: the fake posts webhook updates one at a time, where
		// Telegram uses up to 40 connections, so presses would queue in the
		// fake rather than in the connector.
		spec.rate, spec.polling = 1000, true
		req.Duration, req.Chats, req.SendRate = c.buttonsFor, c.buttonChats, 1000
		what = fmt.Sprintf("%d chats doing button round trips for %s, presses through getUpdates", c.buttonChats, c.buttonsFor)
	case "noisy-neighbour":
		spec.rate, spec.channels = c.bcastRate, 2
		req.Count, req.Hangs, req.SendRate, req.Limit = c.noisyCount, c.noisyHangs, c.bcastRate, c.noisyLimit
		req.DrainLimit = 10 * time.Second // B's last messages, once A is done
		what = fmt.Sprintf("channel A: %d documents whose media link hangs, then %d messages to as many chats sent at %.0f/s; channel B meanwhile: a message each way every second, until A drained or %s (channel workers %d, media workers %d)",
			c.noisyHangs, c.noisyCount, c.bcastRate, c.noisyLimit, c.channelWorkers, c.mediaWorkers)
	case "large-media":
		req.Count, req.Size, req.DrainLimit = c.mediaDocs, int64(c.mediaMB)<<20, c.mediaLimit
		what = fmt.Sprintf("%d documents of %d MiB each posted at once to %d chats, media links served on loopback", c.mediaDocs, c.mediaMB, c.mediaDocs)
	}
	return req, spec, what
}

func runScenario(ctx context.Context, c *config, st, name string, logw *countingWriter) (Run, error) {
	req, spec, what := plan(c, st, name)
	r := Run{Store: st, Scenario: name, Describe: what}
	w, err := spawnWorld(c.inprocess)
	if err != nil {
		return r, fmt.Errorf("start fakes: %w", err)
	}
	defer w.close()
	svc, err := startService(ctx, spec, w.info, logw)
	if err != nil {
		return r, fmt.Errorf("start service: %w", err)
	}
	defer svc.close()
	req.Service = svc.url

	var prof *os.File
	if c.cpuProfile != "" {
		if prof, err = os.Create(fmt.Sprintf("%s-%s-%s.cpu.pprof", c.cpuProfile, st, name)); err != nil {
			return r, err
		}
		if err := pprof.StartCPUProfile(prof); err != nil {
			prof.Close()
			return r, err
		}
	}
	logged := logw.snapshot()
	m := startMeter(w.pid(), st == "postgres")
	commits0, writes0 := store.GroupStats()
	res, err := w.run(ctx, req)
	commits1, writes1 := store.GroupStats()
	r.Commits, r.CommittedWrites = commits1-commits0, writes1-writes0
	r.Usage = m.finish()
	r.Logged = logw.snapshot().minus(logged)
	r.StoreCalls, r.JobsPerClaim = svc.st.snapshot(time.Duration(r.Usage.Wall * float64(time.Second)))
	if prof != nil {
		pprof.StopCPUProfile()
		prof.Close()
	}
	if c.memProfile != "" {
		if f, ferr := os.Create(fmt.Sprintf("%s-%s-%s.heap.pprof", c.memProfile, st, name)); ferr == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if err != nil {
		return r, err
	}
	r.Result = res
	r.Messages = res.Accepted
	if name == "buttons" {
		r.Messages = res.RoundTrips
	}
	return r, nil
}

// runCeilings measures the database at the load's concurrency and, for
// PostgreSQL, at the store's pool size, which bounds the connector's own
// concurrency on the database.
func runCeilings(ctx context.Context, c *config, st string) []Run {
	d := min(c.flood, 5*time.Second)
	concs := []int{c.concurrency}
	if st == "postgres" {
		if pool := c.pgPool(); pool != c.concurrency {
			concs = append(concs, pool)
		}
	}
	var runs []Run
	for _, conc := range concs {
		r := Run{Store: st, Scenario: "ceiling", Describe: fmt.Sprintf("%d writers, one committed INSERT each at a time, for %s", conc, d)}
		var (
			ce  Ceiling
			err error
		)
		m := startMeter(0, st == "postgres")
		if st == "postgres" {
			ce, err = ceilingPostgres(ctx, c.databaseURL, conc, d)
		} else {
			ce, err = ceilingSQLite(ctx, conc, d)
		}
		r.Usage = m.finish()
		if err != nil {
			r.Result.Notes = append(r.Result.Notes, err.Error())
		} else {
			r.Ceiling = &ce
			r.Messages = int(ce.Rate * d.Seconds())
		}
		runs = append(runs, r)
	}
	return runs
}

// pgPool is the connector's PostgreSQL pool size: pool_max_conns, or the
// store's default of 32.
func (c *config) pgPool() int {
	if c.poolConns > 0 {
		return c.poolConns
	}
	return 32
}
