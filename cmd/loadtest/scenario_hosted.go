package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/internal/app"
	"github.com/turn-telegram/turn-telegram/store"
)

// The hosted scenario: -hosted-channels channels kept in PostgreSQL,
// served by two replicas (two app.App in this process, each with its own
// pool, as two processes would have) behind one loopback load balancer
// at their shared PUBLIC_URL, the fakes in the world process. It measures
// what 1,000 channels cost: memory per channel, the time from adding a
// channel to it being served by both replicas (admin API and the CLI's
// channels.Registry.Add, at each -hosted-sync interval), the store calls of
// a sync pass, the healer's getWebhookInfo calls per second, the admin
// list's latency, and the busy channels' end-to-end latency both ways.

// HostedReport is every figure of the hosted scenario.
type HostedReport struct {
	Channels     int              `json:"channels"`
	Busy         int              `json:"busy"`
	WebhookCheck string           `json:"webhook_check"`
	Memory       []HostedMemory   `json:"memory"`
	Bulk         []HostedBulk     `json:"bulk_adds"`
	Startup      []HostedStartup  `json:"startup,omitempty"`
	Live         []HostedLive     `json:"live"`
	Sync         []HostedSync     `json:"sync"`
	Healer       []HostedHealer   `json:"healer"`
	AdminList    []HostedList     `json:"admin_list"`
	Traffic      []HostedTrafficR `json:"traffic"`
	Notes        []string         `json:"notes,omitempty"`
}

// HostedMemory is this process (two replicas, the operator's registry and
// the load balancer; the fakes are in the world process) with so many
// channels served by each replica, after a GC.
type HostedMemory struct {
	Channels int    `json:"channels"`
	RSS      uint64 `json:"rss_bytes"`       // VmRSS after runtime.GC and debug.FreeOSMemory
	Heap     uint64 `json:"heap_bytes"`      // live heap objects after the GC
	GoTotal  uint64 `json:"go_total_bytes"`  // all memory the Go runtime has mapped
	Routines int    `json:"goroutines"`      // of the process
	WorldRSS uint64 `json:"world_rss_bytes"` // the fakes' process, for scale
}

// HostedBulk is channels added through channels.Registry.Add (the CLI's
// code path), Concurrency at a time, until Channels are stored.
type HostedBulk struct {
	From        int     `json:"from"`
	To          int     `json:"to"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Add         Dist    `json:"add"`         // one Registry.Add call
	ServedBoth  float64 `json:"served_both"` // seconds from the first add until both replicas serve them all
	// The adds' store.Channels calls (Registry.Add checks the key and the
	// bot against every channel) and the records they read.
	ChannelsCalls int64   `json:"channels_calls"`
	ChannelsRows  int64   `json:"channels_rows"`
	ChannelsMS    float64 `json:"channels_mean_ms"`
}

// HostedStartup is replicas started on a store holding Channels: how long
// app.New took (it runs the first sync pass).
type HostedStartup struct {
	Channels int     `json:"channels"`
	NewA     float64 `json:"app_new_a_s"`
	NewB     float64 `json:"app_new_b_s"`
}

// HostedLive is channels added one by one while Hosted are served: the
// add call, and the time from its start to each replica serving it.
type HostedLive struct {
	Path     string `json:"path"` // admin (POST /admin/channels on A) or cli (Registry.Add)
	Interval string `json:"sync_interval"`
	Hosted   int    `json:"hosted"`
	Call     Dist   `json:"call"`
	LiveA    Dist   `json:"live_a"`
	LiveB    Dist   `json:"live_b"`
	Both     Dist   `json:"live_both"`
	Missed   int    `json:"missed"` // not served by both within 4 intervals
}

// HostedSync is one replica's sync passes over a window in which nothing
// changed: each pass is one Channels(since) call.
type HostedSync struct {
	Replica  string  `json:"replica"`
	Interval string  `json:"sync_interval"`
	Window   float64 `json:"window_s"`
	Calls    int64   `json:"channels_calls"` // store.Channels calls (a pass is one)
	Rows     int64   `json:"rows"`           // records they returned
	MeanMS   float64 `json:"mean_ms"`
	Other    int64   `json:"other_channel_calls"` // Channel, PutChannel, DeleteChannel meanwhile
}

// HostedHealer is the getWebhookInfo calls both replicas made, per second
// of a window.
type HostedHealer struct {
	What      string  `json:"what"`
	Window    float64 `json:"window_s"`
	Calls     int     `json:"calls"`
	PerSecond []int   `json:"per_second"`
	Mean      float64 `json:"mean"`
	P50       int     `json:"p50"`
	P99       int     `json:"p99"`
	Max       int     `json:"max"`
	Zero      int     `json:"zero_seconds"` // seconds without a call
}

// HostedList is GET /admin/channels as an operator asks it.
type HostedList struct {
	Query    string `json:"query"`
	Channels int    `json:"channels"` // in the answer (all pages, when paging)
	Pages    int    `json:"pages"`
	Bytes    int    `json:"bytes"`
	Latency  Dist   `json:"latency"` // one request (one page)
	Walk     Dist   `json:"walk"`    // every page, when paging
}

// HostedTrafficR is the busy channels' traffic while Hosted are served.
type HostedTrafficR struct {
	Hosted int           `json:"hosted"`
	Busy   int           `json:"busy"`
	Rate   float64       `json:"rate_per_channel"`
	In     HostedTraffic `json:"in"`  // Telegram -> Turn
	Out    HostedTraffic `json:"out"` // Turn -> Telegram
}

// loadBalancer spreads requests over the replicas, round robin, at the
// deployment's PUBLIC_URL.
type loadBalancer struct {
	url      string
	srv      *http.Server
	backends atomic.Pointer[[]*url.URL]
	next     atomic.Uint64
}

func startLoadBalancer() (*loadBalancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	lb := &loadBalancer{url: "http://" + ln.Addr().String()}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			bs := lb.backends.Load()
			if bs == nil || len(*bs) == 0 {
				return
			}
			r.SetURL((*bs)[lb.next.Add(1)%uint64(len(*bs))])
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second},
		ErrorLog:  nil,
	}
	lb.srv = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = lb.srv.Serve(ln) }()
	return lb, nil
}

func (lb *loadBalancer) set(svcs ...*service) {
	var bs []*url.URL
	for _, s := range svcs {
		u, _ := url.Parse(s.url)
		bs = append(bs, u)
	}
	lb.backends.Store(&bs)
}

func (lb *loadBalancer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = lb.srv.Shutdown(ctx)
}

// hostedRun is the state of one hosted scenario.
type hostedRun struct {
	c      *config
	out    io.Writer
	logw   io.Writer
	w      *worldHandle
	lb     *loadBalancer
	spec   hostedSpec
	a, b   *service
	cli    *channels.Registry
	cliSt  *countingStore
	rep    *HostedReport
	admin  *http.Client
	next   int // the next hosted channel index to add
	stored int // channels stored
}

func runHosted(ctx context.Context, c *config, st string, logw *countingWriter, out io.Writer) (Run, error) {
	r := Run{Store: st, Scenario: "hosted"}
	r.Describe = fmt.Sprintf("%d hosted channels on two replicas sharing PostgreSQL (sync intervals %s, webhook check %s), traffic on %d of them at %.1f/s each way",
		c.hostedChannels, joinDurations(c.hostedSync), c.hostedCheck, c.hostedBusy, c.hostedRate)
	if st != "postgres" {
		r.Result.Notes = append(r.Result.Notes, "hosted needs PostgreSQL (replicas share the store): skipped")
		return r, nil
	}
	w, err := spawnWorld(c.inprocess)
	if err != nil {
		return r, fmt.Errorf("start fakes: %w", err)
	}
	defer w.close()
	samples := c.hostedAdds * 2 * len(c.hostedSync)
	if _, err := w.run(ctx, runRequest{Scenario: "hosted-setup", Count: c.hostedChannels + samples}); err != nil {
		return r, err
	}
	schema, dsn, err := createSchema(ctx, c.databaseURL, c.poolConns)
	if err != nil {
		return r, err
	}
	defer dropSchema(c.databaseURL, schema)
	raw, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		return r, err
	}
	defer raw.Close()
	if err := raw.Migrate(ctx); err != nil {
		return r, err
	}
	lb, err := startLoadBalancer()
	if err != nil {
		return r, err
	}
	defer lb.close()

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	h := &hostedRun{
		c: c, out: out, logw: logw, w: w, lb: lb,
		rep:   &HostedReport{Channels: c.hostedChannels, Busy: c.hostedBusy, WebhookCheck: c.hostedCheck.String()},
		admin: &http.Client{Timeout: time.Minute},
		cliSt: &countingStore{Store: raw},
	}
	h.spec = hostedSpec{
		serviceSpec: serviceSpec{store: "postgres", rate: 30, workers: c.workers, pgURL: c.databaseURL, pgPool: c.poolConns,
			logLevel: slog.LevelInfo, channelWorkers: c.channelWorkers, mediaWorkers: c.mediaWorkers},
		dsn: dsn, publicURL: lb.url, secretKey: key, adminToken: "loadtest-admin-token-0123456789",
		webhookCheck: c.hostedCheck, telegram: w.info.Telegram, turn: w.info.Turn,
	}
	// The operator's registry, as `turn-telegram channels` builds it.
	h.cli, err = app.NewRegistry(&app.Hosted{SecretKey: key, TelegramAPIURL: w.info.Telegram, TurnAPIURL: w.info.Turn}, h.cliSt, lb.url,
		slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		return r, err
	}
	defer h.stop()
	err = h.phases(ctx)
	r.Hosted = h.rep
	return r, err
}

func (h *hostedRun) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	h.rep.Notes = append(h.rep.Notes, s)
	fmt.Fprintf(h.out, "  [%s] %s\n", time.Now().Format("15:04:05"), s)
}

func (h *hostedRun) start(ctx context.Context, interval time.Duration) error {
	h.spec.syncInterval = interval
	if h.c.cpuProfile != "" && h.stored > 0 {
		if f, err := os.Create(h.c.cpuProfile + "-postgres-hosted-startup.cpu.pprof"); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			} else {
				f.Close()
			}
		}
	}
	t0 := time.Now()
	a, err := startHostedService(ctx, h.spec, h.logw)
	if err != nil {
		return fmt.Errorf("replica A: %w", err)
	}
	ta := time.Since(t0)
	t1 := time.Now()
	b, err := startHostedService(ctx, h.spec, h.logw)
	if err != nil {
		a.close()
		return fmt.Errorf("replica B: %w", err)
	}
	tb := time.Since(t1)
	h.a, h.b = a, b
	h.lb.set(a, b)
	if h.stored > 0 {
		h.rep.Startup = append(h.rep.Startup, HostedStartup{Channels: h.stored, NewA: ta.Seconds(), NewB: tb.Seconds()})
		h.note("replicas started with %d channels (sync %s): app.New %.2fs and %.2fs", h.stored, interval, ta.Seconds(), tb.Seconds())
	}
	return nil
}

func (h *hostedRun) stop() {
	for _, s := range []*service{h.a, h.b} {
		if s != nil {
			s.close()
		}
	}
	h.a, h.b = nil, nil
}

func (h *hostedRun) phases(ctx context.Context) error {
	c := h.c
	if err := h.start(ctx, c.hostedSync[0]); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	h.memory(ctx, 0)
	steps := []int{min(c.hostedBusy, c.hostedChannels), c.hostedChannels}
	for i, to := range steps {
		if i > 0 && to == steps[i-1] {
			continue
		}
		if err := h.bulk(ctx, to); err != nil {
			return err
		}
		// Let every replica's healer make its first check of them.
		h.waitChecked(ctx, to)
		time.Sleep(time.Second)
		h.memory(ctx, to)
		if to == c.hostedBusy && to != c.hostedChannels {
			h.traffic(ctx, min(c.hostedBusy, to), 10*time.Second)
		}
	}
	full := time.Now()
	for i, interval := range c.hostedSync {
		if i > 0 {
			h.stop()
			// The healer's first checks start as each replica starts.
			full = time.Now()
			if err := h.start(ctx, interval); err != nil {
				return err
			}
			time.Sleep(time.Second)
		}
		if i == 0 {
			h.adminList(ctx)
			h.traffic(ctx, c.hostedBusy, c.hostedTraffic)
		}
		h.live(ctx, "admin", interval)
		h.live(ctx, "cli", interval)
		quiet := max(3*interval, 10*time.Second)
		if i == 0 {
			// Long enough to see the healer over two check intervals.
			quiet = max(quiet, time.Until(full.Add(2*c.hostedCheck+5*time.Second)))
		}
		h.quiet(ctx, interval, quiet, full)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// waitChecked waits until both replicas' healers have checked the
// webhook of every one of n channels (as their admin APIs show), at most a
// minute, and notes how long that took.
func (h *hostedRun) waitChecked(ctx context.Context, n int) {
	t0 := time.Now()
	checked := func(s *service) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/admin/channels", nil)
		req.Header.Set("Authorization", "Bearer "+h.spec.adminToken)
		resp, err := h.admin.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		var views []channels.View
		if json.NewDecoder(resp.Body).Decode(&views) != nil {
			return 0
		}
		k := 0
		for _, v := range views {
			if v.Webhook != nil && !v.Webhook.CheckedAt.IsZero() {
				k++
			}
		}
		return k
	}
	var a, b int
	for time.Since(t0) < time.Minute && ctx.Err() == nil {
		if a, b = checked(h.a), checked(h.b); a >= n && b >= n {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	h.note("every webhook checked by A (%d) and B (%d) of %d channels %.1fs after the adds", a, b, n, time.Since(t0).Seconds())
}

// memory records this process's memory with n channels served by each
// replica.
func (h *hostedRun) memory(ctx context.Context, n int) {
	runtime.GC()
	debug.FreeOSMemory()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	m := HostedMemory{Channels: n, RSS: statusKB(os.Getpid(), "VmRSS:"), Heap: s[0].Value.Uint64(), GoTotal: s[1].Value.Uint64(),
		Routines: runtime.NumGoroutine(), WorldRSS: statusKB(h.w.pid(), "VmRSS:")}
	h.rep.Memory = append(h.rep.Memory, m)
	if h.c.memProfile != "" && n > 0 {
		if f, err := os.Create(fmt.Sprintf("%s-postgres-hosted-%d.heap.pprof", h.c.memProfile, n)); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	h.note("memory with %d channels on each replica: RSS %.1f MiB, heap %.1f MiB, Go total %.1f MiB, %d goroutines (world RSS %.1f MiB)",
		n, mb(m.RSS), mb(m.Heap), mb(m.GoTotal), m.Routines, mb(m.WorldRSS))
}

// statusKB is a field of /proc/<pid>/status in bytes (0 if unknown).
func statusKB(pid int, field string) uint64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (h *hostedRun) addRequest(i int) channels.AddRequest {
	hb := hostedChannel(i)
	return channels.AddRequest{BotToken: hb.token, NumberID: hb.number, HMACSecret: hb.hmacSecret, ChannelToken: hb.turnToken}
}

// served reports whether s serves hosted channel i.
func served(s *service, i int) bool {
	_, ok := s.app.Service().Channel(hostedChannel(i).key)
	return ok
}

// bulk adds channels through the CLI's code path until `to` are stored.
func (h *hostedRun) bulk(ctx context.Context, to int) error {
	const conc = 4
	from := h.next
	n0, d0 := h.cliSt.opCount(opChannels)
	rows0 := h.cliSt.channelRows.Load()
	t0 := time.Now()
	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs []error
		wg   sync.WaitGroup
	)
	idx := make(chan int)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				s := time.Now()
				_, err := h.cli.Add(ctx, h.addRequest(i))
				mu.Lock()
				lat = append(lat, time.Since(s))
				if err != nil {
					errs = append(errs, fmt.Errorf("add %d: %w", i, err))
				}
				mu.Unlock()
			}
		}()
	}
	for i := from; i < to; i++ {
		idx <- i
	}
	close(idx)
	wg.Wait()
	h.next, h.stored = to, to
	added := time.Since(t0)
	if len(errs) > 0 {
		return errors.Join(errs[:min(len(errs), 5)]...)
	}
	ok := waitUntil(ctx, time.Minute, func() bool {
		return len(h.a.app.Service().Channels()) >= to && len(h.b.app.Service().Channels()) >= to
	})
	both := time.Since(t0)
	if !ok {
		h.note("after a minute the replicas serve %d and %d of %d channels", len(h.a.app.Service().Channels()), len(h.b.app.Service().Channels()), to)
	}
	n1, d1 := h.cliSt.opCount(opChannels)
	b := HostedBulk{From: from, To: to, Concurrency: conc, Seconds: added.Seconds(), Add: distOf(lat), ServedBoth: both.Seconds(),
		ChannelsCalls: n1 - n0, ChannelsRows: h.cliSt.channelRows.Load() - rows0}
	if b.ChannelsCalls > 0 {
		b.ChannelsMS = ms((d1 - d0) / time.Duration(b.ChannelsCalls))
	}
	h.rep.Bulk = append(h.rep.Bulk, b)
	h.note("added channels %d..%d with Registry.Add, %d at a time: %.1fs (%.0f/s), one add %s; both replicas serve them %.1fs after the first; the adds made %d Channels(0) calls reading %d records, %.2f ms each",
		from, to-1, conc, added.Seconds(), float64(to-from)/added.Seconds(), b.Add, both.Seconds(), b.ChannelsCalls, b.ChannelsRows, b.ChannelsMS)
	return nil
}

// live adds -hosted-adds channels one by one, a random 0.2 to 0.8
// intervals apart, through path, and times each until both replicas serve
// it.
func (h *hostedRun) live(ctx context.Context, path string, interval time.Duration) {
	n := h.c.hostedAdds
	type sample struct {
		i             int
		start         time.Time
		call, la, lb_ time.Duration
	}
	var (
		mu      sync.Mutex
		pending []*sample
		done    []*sample
		stop    = make(chan struct{})
		watcher sync.WaitGroup
	)
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			mu.Lock()
			keep := pending[:0]
			for _, s := range pending {
				now := time.Since(s.start)
				if s.la == 0 && served(h.a, s.i) {
					s.la = now
				}
				if s.lb_ == 0 && served(h.b, s.i) {
					s.lb_ = now
				}
				if (s.la != 0 && s.lb_ != 0) || now > 4*interval+5*time.Second {
					done = append(done, s)
				} else {
					keep = append(keep, s)
				}
			}
			pending = keep
			left := len(pending)
			mu.Unlock()
			select {
			case <-stop:
				if left == 0 {
					return
				}
			case <-t.C:
			}
		}
	}()
	hosted := h.stored
	for k := range n {
		if k > 0 {
			time.Sleep(time.Duration(float64(interval) * (0.2 + 0.6*mrand.Float64())))
		}
		i := h.next
		h.next++
		s := &sample{i: i, start: time.Now()}
		mu.Lock()
		pending = append(pending, s)
		mu.Unlock()
		var err error
		if path == "admin" {
			err = h.adminAdd(ctx, i)
		} else {
			_, err = h.cli.Add(ctx, h.addRequest(i))
		}
		s.call = time.Since(s.start)
		if err != nil {
			h.note("%s add of channel %d: %v", path, i, err)
		}
		h.stored++
	}
	close(stop)
	watcher.Wait()
	var call, la, lb, both []time.Duration
	missed := 0
	for _, s := range done {
		call = append(call, s.call)
		if s.la == 0 || s.lb_ == 0 {
			missed++
			continue
		}
		la, lb, both = append(la, s.la), append(lb, s.lb_), append(both, max(s.la, s.lb_))
	}
	l := HostedLive{Path: path, Interval: interval.String(), Hosted: hosted, Call: distOf(call), LiveA: distOf(la), LiveB: distOf(lb), Both: distOf(both), Missed: missed}
	h.rep.Live = append(h.rep.Live, l)
	h.note("%d %s adds at %d hosted, sync %s: call %s; served by A %s, by B %s, by both %s (target < %s); %d missed",
		n, path, hosted, interval, l.Call, l.LiveA, l.LiveB, l.Both, 2*interval, missed)
}

func (h *hostedRun) adminAdd(ctx context.Context, i int) error {
	body, _ := json.Marshal(h.addRequest(i))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.a.url+"/admin/channels", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.spec.adminToken)
	resp, err := h.admin.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// adminList times GET /admin/channels on replica A: the whole list, and
// pages of 100 (when the answer pages: a Link header with rel="next").
func (h *hostedRun) adminList(ctx context.Context) {
	const n = 40
	get := func(u string) (int, int, string, time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+h.spec.adminToken)
		s := time.Now()
		resp, err := h.admin.Do(req)
		if err != nil {
			return 0, 0, "", 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(s)
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, 0, "", d, fmt.Errorf("%s %v", resp.Status, err)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(body, &list); err != nil {
			return 0, 0, "", d, err
		}
		return len(list), len(body), resp.Header.Get("X-Next-After"), d, nil
	}
	for _, q := range []string{"", "?limit=100"} {
		l := HostedList{Query: "/admin/channels" + q}
		var lat, walk []time.Duration
		for k := range n {
			count, size, next, d, err := get(h.a.url + "/admin/channels" + q)
			if err != nil {
				h.note("GET %s: %v", l.Query, err)
				return
			}
			lat = append(lat, d)
			if k > 0 {
				continue
			}
			l.Channels, l.Bytes, l.Pages = count, size, 1
			if q == "" || next == "" {
				continue
			}
		}
		if q != "" {
			// Walk every page, n/4 times.
			for range n / 4 {
				s := time.Now()
				after, total, pages := "", 0, 0
				for {
					u := h.a.url + "/admin/channels" + q
					if after != "" {
						u += "&after=" + url.QueryEscape(after)
					}
					count, _, next, d, err := get(u)
					if err != nil {
						h.note("GET %s: %v", u, err)
						return
					}
					lat = append(lat, d)
					total, pages = total+count, pages+1
					if next == "" || pages > 100 {
						break
					}
					after = next
				}
				walk = append(walk, time.Since(s))
				l.Channels, l.Pages = total, pages
			}
		}
		l.Latency, l.Walk = distOf(lat), distOf(walk)
		h.rep.AdminList = append(h.rep.AdminList, l)
		h.note("GET %s with %d hosted: %d channels in %d page(s), first answer %d bytes; one request %s; every page %s",
			l.Query, h.stored, l.Channels, l.Pages, l.Bytes, l.Latency, l.Walk)
	}
}

// traffic runs the busy channels' traffic through the load balancer.
func (h *hostedRun) traffic(ctx context.Context, busy int, d time.Duration) {
	res, err := h.w.run(ctx, runRequest{Scenario: "hosted-traffic", Service: h.lb.url, Count: busy, Rate: h.c.hostedRate, Duration: d, DrainLimit: 30 * time.Second})
	if err != nil || res.HostedIn == nil || res.HostedOut == nil {
		h.note("traffic: %v", err)
		return
	}
	t := HostedTrafficR{Hosted: h.stored, Busy: busy, Rate: h.c.hostedRate, In: *res.HostedIn, Out: *res.HostedOut}
	h.rep.Traffic = append(h.rep.Traffic, t)
	h.note("traffic on %d of %d hosted channels, %.1f/s each way each for %s: in (Telegram->Turn) %d/%d delivered, e2e %s; out (Turn->Telegram) %d/%d delivered, e2e %s",
		busy, h.stored, h.c.hostedRate, d, t.In.Delivered, t.In.Accepted, t.In.EndToEnd, t.Out.Delivered, t.Out.Accepted, t.Out.EndToEnd)
}

// quiet watches a window in which nothing changes: the sync passes'
// store calls, and the healer's calls per second since `since`.
func (h *hostedRun) quiet(ctx context.Context, interval, window time.Duration, since time.Time) {
	type snap struct {
		n, rows, other int64
		t              time.Duration
	}
	take := func(s *service) snap {
		n, t := s.st.opCount(opChannels)
		var other int64
		for _, op := range []int{opChannel, opPutChannel, opDeleteChannel} {
			k, _ := s.st.opCount(op)
			other += k
		}
		return snap{n: n, t: t, rows: s.st.channelRows.Load(), other: other}
	}
	a0, b0 := take(h.a), take(h.b)
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(window):
	}
	wall := time.Since(t0)
	for _, r := range []struct {
		name string
		s    *service
		s0   snap
	}{{"A", h.a, a0}, {"B", h.b, b0}} {
		s1 := take(r.s)
		hs := HostedSync{Replica: r.name, Interval: interval.String(), Window: wall.Seconds(), Calls: s1.n - r.s0.n, Rows: s1.rows - r.s0.rows, Other: s1.other - r.s0.other}
		if hs.Calls > 0 {
			hs.MeanMS = ms((s1.t - r.s0.t) / time.Duration(hs.Calls))
		}
		h.rep.Sync = append(h.rep.Sync, hs)
		h.note("replica %s, nothing changing for %.0fs at sync %s with %d hosted: %d Channels(since) calls (%.2f per interval), %d rows, %.2f ms each; %d other channel calls",
			r.name, wall.Seconds(), interval, h.stored, hs.Calls, float64(hs.Calls)/(wall.Seconds()/interval.Seconds()), hs.Rows, hs.MeanMS, hs.Other)
	}
	res, err := h.w.run(ctx, runRequest{Scenario: "hosted-calls"})
	if err != nil {
		h.note("healer calls: %v", err)
		return
	}
	calls := res.HostedCalls["getWebhookInfo"]
	end := time.Now().Unix() - 1
	first := since.Unix()
	h.healerWindow(fmt.Sprintf("getWebhookInfo, both replicas, the first 10 s of the phase, %d channels (sync %s)", h.stored, interval), calls, first, min(first+10, end))
	if end-first > 20 {
		h.healerWindow(fmt.Sprintf("getWebhookInfo, both replicas, from 10 s after they serve %d channels to the end of the quiet window (check every %s)", h.stored, h.c.hostedCheck), calls, first+10, end)
	}
}

func (h *hostedRun) healerWindow(what string, calls map[int64]int, from, to int64) HostedHealer {
	hh := HostedHealer{What: what, Window: float64(to - from)}
	for s := from; s < to; s++ {
		n := calls[s]
		hh.PerSecond = append(hh.PerSecond, n)
		hh.Calls += n
		if n == 0 {
			hh.Zero++
		}
	}
	if len(hh.PerSecond) > 0 {
		sorted := slices.Clone(hh.PerSecond)
		sort.Ints(sorted)
		hh.Mean = float64(hh.Calls) / float64(len(sorted))
		hh.P50 = sorted[len(sorted)/2]
		hh.P99 = sorted[min(len(sorted)-1, int(0.99*float64(len(sorted))))]
		hh.Max = sorted[len(sorted)-1]
	}
	h.rep.Healer = append(h.rep.Healer, hh)
	h.note("%s: %d calls over %.0fs, per second mean %.1f p50 %d p99 %d max %d, %d seconds without any; per second: %s",
		what, hh.Calls, hh.Window, hh.Mean, hh.P50, hh.P99, hh.Max, hh.Zero, compactSeries(hh.PerSecond))
	return hh
}

// compactSeries prints a per-second series, runs of one value as v*n.
func compactSeries(xs []int) string {
	var parts []string
	for i := 0; i < len(xs); {
		j := i
		for j < len(xs) && xs[j] == xs[i] {
			j++
		}
		if j-i > 2 {
			parts = append(parts, fmt.Sprintf("%d*%d", xs[i], j-i))
		} else {
			for k := i; k < j; k++ {
				parts = append(parts, strconv.Itoa(xs[k]))
			}
		}
		i = j
	}
	return strings.Join(parts, " ")
}

func joinDurations(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return strings.Join(s, " and ")
}
