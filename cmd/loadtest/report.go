package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Machine is where the figures were measured.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  string `json:"mem_total"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Postgres  string `json:"postgres,omitempty"`
	PGConfig  string `json:"postgres_config,omitempty"`
	SQLite    string `json:"sqlite,omitempty"`
	StartedAt string `json:"started_at"`
}

func describeMachine(ctx context.Context, c *config) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), StartedAt: time.Now().UTC().Format(time.RFC3339)}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	for _, st := range c.stores {
		switch st {
		case "postgres":
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if conn, err := pgx.Connect(cctx, c.databaseURL); err == nil {
				var v, sc, fs, sb string
				_ = conn.QueryRow(cctx, `SELECT current_setting('server_version'), current_setting('synchronous_commit'),
					current_setting('fsync'), current_setting('shared_buffers')`).Scan(&v, &sc, &fs, &sb)
				m.Postgres = v
				m.PGConfig = fmt.Sprintf("synchronous_commit=%s fsync=%s shared_buffers=%s", sc, fs, sb)
				conn.Close(cctx)
			} else {
				m.Postgres = "unreachable: " + err.Error()
			}
			cancel()
		case "sqlite":
			if db, err := sql.Open("sqlite", ":memory:"); err == nil {
				_ = db.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&m.SQLite)
				db.Close()
				m.SQLite = "SQLite " + m.SQLite + " (modernc.org/sqlite, pure Go)"
			}
		}
	}
	return m
}

func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func printMachine(out io.Writer, m Machine, c *config) {
	fmt.Fprintf(out, "machine: %d CPUs (%s), %s RAM, Linux %s, %s\n", m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.Go)
	if m.Postgres != "" {
		fmt.Fprintf(out, "postgres: %s (%s), pool %d connections\n", m.Postgres, m.PGConfig, c.pgPool())
	}
	if m.SQLite != "" {
		fmt.Fprintf(out, "embedded: %s\n", m.SQLite)
	}
	where := "fakes and load generator in a child process: CPU and memory below are the connector's"
	if c.inprocess {
		where = "fakes and load generator in this process: CPU and memory below include them"
	}
	fmt.Fprintf(out, "%s; delivery workers %d, per-channel cap %d (0: engine default), media pool %d (0: shared)\n", where, c.workers, c.channelWorkers, c.mediaWorkers)
}

// report collects runs and prints them.
type report struct {
	Machine Machine        `json:"machine"`
	Config  map[string]any `json:"config"`
	Runs    []Run          `json:"runs"`
}

func (c *config) summary() map[string]any {
	return map[string]any{
		"stores": c.stores, "scenarios": c.scenarios, "duration": c.duration.String(), "flood": c.flood.String(),
		"poll_duration": c.pollFor.String(), "rate": c.rate, "chats": c.chats, "concurrency": c.concurrency,
		"broadcast": c.broadcast, "broadcast_rate": c.bcastRate, "button_chats": c.buttonChats,
		"buttons_duration": c.buttonsFor.String(), "workers": c.workers, "pool_max_conns": c.pgPool(),
		"http_idle_per_host": c.idlePerHost, "inprocess": c.inprocess, "quick": c.quick,
		"channel_workers": c.channelWorkers, "media_workers": c.mediaWorkers,
		"noisy_broadcast": c.noisyCount, "noisy_hangs": c.noisyHangs, "noisy_limit": c.noisyLimit.String(),
		"media_docs": c.mediaDocs, "media_mb": c.mediaMB, "media_limit": c.mediaLimit.String(),
	}
}

func (rep *report) add(out io.Writer, r Run, ceilings map[int]Ceiling, conc int) {
	rep.Runs = append(rep.Runs, r)
	fmt.Fprintf(out, "\n== %s / %s: %s\n", r.Store, r.Scenario, r.Describe)
	res, u := r.Result, r.Usage
	if r.Scenario == "ceiling" {
		if r.Ceiling == nil {
			fmt.Fprintf(out, "  failed: %s\n", strings.Join(res.Notes, "; "))
			return
		}
		fmt.Fprintf(out, "  %.0f committed inserts/s with %d writers on %d connection(s); latency %s\n",
			r.Ceiling.Rate, r.Ceiling.Concurrency, r.Ceiling.Conns, r.Ceiling.Latency)
		return
	}
	fmt.Fprintf(out, "  sent %d  accepted %d  rejected %d  errors %d", res.Sent, res.Accepted, res.Rejected, res.Errors)
	if res.Late > 0 {
		fmt.Fprintf(out, "  (late sends %d)", res.Late)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "  accept   %7.0f/s  %s\n", res.AcceptRate, res.Accept)
	ce, ok := ceilings[conc]
	if flood := r.Scenario == "inbound-flood" || r.Scenario == "outbound-flood" || r.Scenario == "broadcast"; flood && ok && ce.Rate > 0 && res.AcceptRate > 0 {
		fmt.Fprintf(out, "           = %.0f %% of the database's %.0f committed inserts/s at %d writers\n",
			100*res.AcceptRate/ce.Rate, ce.Rate, ce.Concurrency)
	}
	if r.Scenario == "buttons" {
		fmt.Fprintf(out, "  round trips %d (answered %d, keyboards replaced %d, lost %d)\n", res.RoundTrips, res.Answered, res.Edited, res.Lost)
		fmt.Fprintf(out, "  turn->telegram  %s\n", res.Outbound)
		fmt.Fprintf(out, "  press->turn     %s\n", res.PressToTurn)
		fmt.Fprintf(out, "  round trip      %s\n", res.RoundTrip)
	} else {
		fmt.Fprintf(out, "  delivered %d  lost %d  duplicates %d  out of order %d\n", res.Delivered, res.Lost, res.Duplicates, res.OutOfOrder)
		fmt.Fprintf(out, "  delivery %7.1f/s (steady %.1f/s, busiest second %.0f)  e2e %s\n", res.DeliverRate, res.SteadyRate, res.MaxRate1s, res.EndToEnd)
	}
	if nr := res.Noisy; nr != nil {
		fmt.Fprintf(out, "  A: drained %v  delivery %.1f/s  429s %d;  hanging media: %d accepted, %d link GETs held, %d sent\n",
			nr.ADrained, res.DeliverRate, nr.TooManyA, nr.HangsAccepted, nr.HangsHeld, nr.HangsSent)
		for _, l := range []struct {
			name string
			leg  Leg
		}{{"B in  (webhook -> Turn)", nr.In}, {"B out (Turn webhook -> Telegram)", nr.Out}} {
			fmt.Fprintf(out, "  %s: sent %d accepted %d delivered %d undelivered %d over 1s %d  429s %d\n",
				l.name, l.leg.Sent, l.leg.Accepted, l.leg.Delivered, l.leg.Undelivered, l.leg.Over1s, nr.TooManyB)
			fmt.Fprintf(out, "      e2e %s;  worst 10 s window %s;  accept %s\n", l.leg.EndToEnd, l.leg.WorstP99, l.leg.Accept)
		}
		fmt.Fprintf(out, "  B's conversation lasted %.1fs\n", nr.Conversation)
	}
	if m := res.Media; m != nil {
		fmt.Fprintf(out, "  media: %d x %.1f MB; uploads verified (length and sha256) %d, mismatched %d, by file_id %d; links fetched %d (%.1f MB)\n",
			m.Docs, mb(uint64(m.Size)), m.Verified, m.Mismatched, m.ByFileID, m.Fetched, mb(uint64(m.Served)))
		fmt.Fprintf(out, "  time to deliver all: %.2fs (first post to last upload accepted)\n", res.DrainSeconds)
	}
	if res.MaxPending > 0 {
		fmt.Fprintf(out, "  most updates waiting at Telegram: %d\n", res.MaxPending)
	}
	fmt.Fprintf(out, "  telegram: 429s %d  retry_after violations %d  other refusals %d  new connections %d;  turn: refusals %d  statuses %d  new connections %d\n",
		res.TooManyRequests, res.PauseViolations, res.TelegramRefused, res.TelegramConns, res.TurnRejected, res.Statuses, res.TurnConns)
	per := func(cpu float64) string {
		if r.Messages == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fs/1000", cpu/float64(r.Messages)*1000)
	}
	fmt.Fprintf(out, "  cpu      service %.1fs (%s)", u.ServiceCPU, per(u.ServiceCPU))
	if r.Store == "postgres" {
		fmt.Fprintf(out, "  postgres %.1fs (%s)", u.PostgresCPU, per(u.PostgresCPU))
	}
	if u.WorldCPU > 0 {
		fmt.Fprintf(out, "  fakes+load %.1fs", u.WorldCPU)
	}
	fmt.Fprintf(out, "  in %.1fs wall\n", u.Wall)
	fmt.Fprintf(out, "  memory   peak RSS %.1f MB  peak heap %.1f MB  Go total %.1f MB  (%d GCs)\n",
		mb(u.PeakRSS), mb(u.PeakHeap), mb(u.PeakGoTotal), u.GCCycles)
	if len(r.StoreCalls) > 0 {
		fmt.Fprintf(out, "  store    %s (%.1f jobs per claim)\n", formatCalls(r.StoreCalls, r.Messages), r.JobsPerClaim)
	}
	if r.Commits > 0 {
		fmt.Fprintf(out, "  commits  %.0f group commits for %.0f writes: %.1f writes per commit\n", r.Commits, r.CommittedWrites, r.CommittedWrites/r.Commits)
	}
	if r.Logged.Warn+r.Logged.Error > 0 {
		fmt.Fprintf(out, "  service logged %d warnings and %d errors\n", r.Logged.Warn, r.Logged.Error)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// summary prints the figures the targets are about, per store.
func (rep *report) summary(out io.Writer, c *config) {
	fmt.Fprintf(out, "\n== targets (measured here, not asserted)\n")
	for _, st := range c.stores {
		get := func(name string) *Run {
			for i := range rep.Runs {
				if rep.Runs[i].Store == st && rep.Runs[i].Scenario == name {
					return &rep.Runs[i]
				}
			}
			return nil
		}
		var ceiling *Ceiling
		for i := range rep.Runs {
			r := rep.Runs[i]
			if r.Store == st && r.Scenario == "ceiling" && r.Ceiling != nil && r.Ceiling.Concurrency == c.concurrency {
				ceiling = r.Ceiling
			}
		}
		fmt.Fprintf(out, "%s:\n", st)
		if r := get("inbound-flood"); r != nil {
			line := fmt.Sprintf("  durable inbound accept: %.0f updates/s (target >= 2000)", r.Result.AcceptRate)
			if ceiling != nil {
				line += fmt.Sprintf(", %.0f %% of the database's %.0f/s at %d writers (target >= 50 %%)",
					100*r.Result.AcceptRate/ceiling.Rate, ceiling.Rate, ceiling.Concurrency)
			}
			fmt.Fprintln(out, line)
		}
		if r := get("inbound-rate"); r != nil {
			achieved := 0.0
			if c.duration > 0 {
				achieved = float64(r.Result.Accepted) / c.duration.Seconds()
			}
			fmt.Fprintf(out, "  end to end at %.0f/s for %s: offered %.0f/s, accept p99 %s, e2e p99 %s (target < 50ms), lost %d (target 0)\n",
				c.rate, c.duration, achieved, fmtMS(r.Result.Accept.P99), fmtMS(r.Result.EndToEnd.P99), r.Result.Lost)
		}
		if r := get("polling-rate"); r != nil {
			fmt.Fprintf(out, "  polling at %.0f/s: e2e p99 %s, lost %d\n", c.rate, fmtMS(r.Result.EndToEnd.P99), r.Result.Lost)
		}
		if r := get("outbound-flood"); r != nil {
			fmt.Fprintf(out, "  outbound webhook accept: %.0f req/s (target >= 2000), p99 %s (target < 50ms)\n",
				r.Result.AcceptRate, fmtMS(r.Result.Accept.P99))
		}
		if r := get("broadcast"); r != nil {
			dev := 0.0
			if c.bcastRate > 0 {
				dev = 100 * (r.Result.SteadyRate - c.bcastRate) / c.bcastRate
			}
			fmt.Fprintf(out, "  broadcast of %d at %.0f/s: delivered %d, steady %.1f/s (%+.1f %%; target within 2 %%), overall %.1f/s, 429s %d (target 0), accepted at %.0f/s, peak RSS %.1f MB (target < 150 MB at 100,000)\n",
				c.broadcast, c.bcastRate, r.Result.Delivered, r.Result.SteadyRate, dev, r.Result.DeliverRate,
				r.Result.TooManyRequests, r.Result.AcceptRate, mb(r.Usage.PeakRSS))
		}
		if r := get("noisy-neighbour"); r != nil && r.Result.Noisy != nil {
			nr := r.Result.Noisy
			fmt.Fprintf(out, "  noisy neighbour (channel workers %d, media workers %d): B e2e in p50 %s p95 %s p99 %s max %s, out p50 %s p95 %s p99 %s max %s (target p99 < 1s throughout; worst 10 s window p99 in %s out %s; undelivered in %d out %d); A drained %v at %.1f/s (steady %.1f/s), 429s A %d B %d\n",
				c.channelWorkers, c.mediaWorkers,
				fmtMS(nr.In.EndToEnd.P50), fmtMS(nr.In.EndToEnd.P95), fmtMS(nr.In.EndToEnd.P99), fmtMS(nr.In.EndToEnd.Max),
				fmtMS(nr.Out.EndToEnd.P50), fmtMS(nr.Out.EndToEnd.P95), fmtMS(nr.Out.EndToEnd.P99), fmtMS(nr.Out.EndToEnd.Max),
				fmtMS(nr.In.WorstP99.P99), fmtMS(nr.Out.WorstP99.P99), nr.In.Undelivered, nr.Out.Undelivered,
				nr.ADrained, r.Result.DeliverRate, r.Result.SteadyRate, nr.TooManyA, nr.TooManyB)
		}
		if r := get("large-media"); r != nil && r.Result.Media != nil {
			m := r.Result.Media
			fmt.Fprintf(out, "  large media: %d x %.0f MB, %d delivered (%d verified), all in %.2fs, peak RSS %.1f MB (target < 150 MB)\n",
				m.Docs, mb(uint64(m.Size)), r.Result.Delivered, m.Verified, r.Result.DrainSeconds, mb(r.Usage.PeakRSS))
		}
		if r := get("buttons"); r != nil {
			fmt.Fprintf(out, "  button round trips: %d, round trip p50 %s p99 %s, press->turn p99 %s\n",
				r.Result.RoundTrips, fmtMS(r.Result.RoundTrip.P50), fmtMS(r.Result.RoundTrip.P99), fmtMS(r.Result.PressToTurn.P99))
		}
	}
}

func (rep *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// countingWriter is the service's log file, counting warnings and errors.
type countingWriter struct {
	mu sync.Mutex
	f  *os.File
	n  logCount
}

type logCount struct {
	Warn  int `json:"warn"`
	Error int `json:"error"`
}

func (a logCount) minus(b logCount) logCount { return logCount{a.Warn - b.Warn, a.Error - b.Error} }

func openLog(path string) (*countingWriter, string, error) {
	var (
		f   *os.File
		err error
	)
	if path == "" {
		f, err = os.CreateTemp("", "loadtest-service-*.log")
	} else {
		f, err = os.Create(path)
	}
	if err != nil {
		return nil, "", err
	}
	return &countingWriter{f: f}, f.Name(), nil
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n.Warn += bytes.Count(p, []byte(`"level":"WARN"`))
	w.n.Error += bytes.Count(p, []byte(`"level":"ERROR"`))
	return w.f.Write(p)
}

func (w *countingWriter) snapshot() logCount {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *countingWriter) Close() error { return w.f.Close() }
