package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// Task is a claimed job being handled. A handler reports partial progress
// with Advance and sets the writes that go with the job's end with OnDone and
// OnDead; the engine applies them atomically with the state change.
type Task struct {
	store.Job
	st   store.Queue
	done store.Batch
	dead store.Batch
}

// Advance records that the first n parts of the job are done, with b.
func (t *Task) Advance(ctx context.Context, n int, b store.Batch) error {
	if err := t.st.Advance(ctx, t.Job, n, b); err != nil {
		return err
	}
	t.Progress = n
	return nil
}

// OnDone sets the writes applied when the job completes.
func (t *Task) OnDone(b store.Batch) { t.done = b }

// OnDead sets the writes applied if the job is dead-lettered (e.g. a
// "failed" status for Turn).
func (t *Task) OnDead(b store.Batch) { t.dead = b }

// Handler delivers one job. It returns nil when the job is done, or an error
// classified with this package's constructors.
type Handler func(ctx context.Context, t *Task) error

// Options tune the engine; zero values take the defaults in brackets.
type Options struct {
	Worker      string        // identifies this process [host:pid]
	Concurrency int           // jobs handled at once [16]
	Lease       time.Duration // claim lease, renewed while a job runs; a dead worker's jobs return after it [20s]
	Poll        time.Duration // how often to look for due work without a nudge [250ms]
	MaxAttempts int           // failed attempts before dead-lettering [20]
	MaxAge      time.Duration // age after which a failing job is dead-lettered [24h]
	BaseBackoff time.Duration // first retry delay, doubled per attempt [1s]
	MaxBackoff  time.Duration // cap on the retry delay [10m]
	// ChannelWorkers caps the jobs one channel has in hand at once, so a
	// channel's backlog or hanging sends never hold every worker while other
	// channels wait [Concurrency: no cap].
	ChannelWorkers int
	// Isolated gives these kinds a pool of their own, of the given size, so
	// that (for example) slow media downloads never hold a delivery worker.
	Isolated map[store.Kind]int
	Logger   *slog.Logger
}

func (o *Options) defaults() {
	if o.Worker == "" {
		host, _ := os.Hostname()
		o.Worker = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Lease <= 0 {
		o.Lease = 20 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 20
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Engine claims and runs jobs until its context ends.
type Engine struct {
	st       store.Queue
	opt      Options
	handlers map[store.Kind]Handler
	kinds    []store.Kind
	live     atomic.Pointer[[]*pool] // the pools of the current Run
	now      func() time.Time
	outages  outages
}

// New makes an engine over st.
func New(st store.Queue, opt Options) *Engine {
	opt.defaults()
	return &Engine{
		st:       st,
		opt:      opt,
		handlers: map[store.Kind]Handler{},
		now:      time.Now,
	}
}

// Handle registers the handler for a kind. Call before Run.
func (e *Engine) Handle(kind store.Kind, h Handler) {
	if _, ok := e.handlers[kind]; !ok {
		e.kinds = append(e.kinds, kind)
	}
	e.handlers[kind] = h
}

// Notify nudges the pools that handle these kinds (all, when none is
// named) to look for work now, after an enqueue.
func (e *Engine) Notify(kinds ...store.Kind) {
	pools := e.live.Load()
	if pools == nil {
		return // not running: Run looks for work when it starts
	}
	for _, p := range *pools {
		if len(kinds) == 0 || slices.ContainsFunc(kinds, func(k store.Kind) bool { return slices.Contains(p.kinds, k) }) {
			p.nudge()
		}
	}
}

// claimCooldown is the least time between two claims of a busy pool: the
// nudges of a flood of enqueues are gathered into claims of several jobs
// (a claim costs the database about the same for one job as for ten)
// instead of one query per message. An idle pool claims at once.
const claimCooldown = 5 * time.Millisecond

// pool is a set of workers with the kinds they claim. Each channel has at
// most cap of the pool's jobs in hand, and channels take turns (after is
// where the previous claim stopped), so one channel's backlog never holds
// every worker while another waits.
type pool struct {
	kinds []store.Kind
	size  int
	cap   int
	wake  chan struct{}

	mu    sync.Mutex
	held  map[string]int // jobs in hand per channel
	total int
	after string
}

func (p *pool) nudge() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// pools splits the registered kinds: each isolated kind gets its own pool,
// the rest share the main one.
func (e *Engine) pools() []*pool {
	main := &pool{size: e.opt.Concurrency, cap: e.opt.ChannelWorkers}
	out := []*pool{main}
	for _, k := range e.kinds {
		if n, ok := e.opt.Isolated[k]; ok && n > 0 {
			out = append(out, &pool{kinds: []store.Kind{k}, size: n, cap: n})
			continue
		}
		main.kinds = append(main.kinds, k)
	}
	if len(main.kinds) == 0 {
		out = out[1:]
	}
	for _, p := range out {
		if p.cap <= 0 || p.cap > p.size {
			p.cap = p.size
		}
		p.held = map[string]int{}
		p.wake = make(chan struct{}, 1)
	}
	return out
}

// Run claims and handles jobs until ctx is done, then waits for the jobs in
// hand. Handlers get a context that outlives ctx by up to drain, so a
// shutdown lets in-flight sends finish instead of cutting them mid-call.
func (e *Engine) Run(ctx context.Context, drain time.Duration) error {
	var wg sync.WaitGroup
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(drain, cancelJobs)
	})
	defer stop()
	pools := e.pools()
	e.live.Store(&pools)
	defer e.live.Store(nil)
	var loops sync.WaitGroup
	for _, p := range pools {
		loops.Go(func() { e.loop(ctx, jobCtx, p, &wg) })
	}
	loops.Wait()
	wg.Wait()
	return nil
}

// loop claims for one pool until ctx is done.
func (e *Engine) loop(ctx, jobCtx context.Context, p *pool, wg *sync.WaitGroup) {
	ticker := time.NewTicker(e.opt.Poll)
	defer ticker.Stop()
	backoff := time.Duration(0)
	var last time.Time // the last claim
	more := false      // the last claim did not look at every channel
	for {
		p.mu.Lock()
		free := p.size - p.total
		busy := p.total > 0
		held := maps.Clone(p.held)
		after := p.after
		p.mu.Unlock()
		if wait := claimCooldown - time.Since(last); (busy || more) && free > 0 && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue // the pool has changed meanwhile: look again
		}
		claimed := 0
		more = false
		if free > 0 && ctx.Err() == nil {
			// A claim is not cancelled by shutdown: cut mid-statement it may
			// commit leases whose jobs this process would then never run.
			// The jobs it returns are handled within the drain like others.
			last = time.Now()
			var resume string
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			jobs, err := e.st.Claim(cctx, store.ClaimParams{
				Worker: e.opt.Worker, Kinds: p.kinds, Limit: free, Lease: e.opt.Lease,
				PerChannel: p.cap, Held: held, After: after, Resume: &resume,
			})
			cancel()
			if err != nil && ctx.Err() == nil {
				backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
				e.opt.Logger.Warn("claim failed; store unreachable?", "err", err, "retry_in", backoff.String())
				resume = after
			} else {
				backoff = 0
			}
			claimed = len(jobs)
			// Channels take turns: the next claim starts where this one
			// stopped, and at once when this one found less than it could
			// take but did not look at every channel.
			more = err == nil && claimed < free && (after != "" || resume != "")
			p.mu.Lock()
			p.after = resume
			for _, j := range jobs {
				p.held[j.Channel]++
				p.total++
			}
			p.mu.Unlock()
			for _, j := range jobs {
				wg.Add(1)
				go func(j store.Job) {
					defer func() {
						p.mu.Lock()
						if p.held[j.Channel]--; p.held[j.Channel] <= 0 {
							delete(p.held, j.Channel)
						}
						p.total--
						p.mu.Unlock()
						wg.Done()
						p.nudge()
					}()
					e.run(jobCtx, j)
				}(j)
			}
		}
		if more && ctx.Err() == nil {
			continue
		}
		if claimed > 0 && claimed == free {
			// Maybe more is due: claim again as soon as a slot frees.
			select {
			case <-ctx.Done():
			case <-p.wake:
			case <-ticker.C:
			}
		} else {
			wait := e.opt.Poll
			if backoff > 0 {
				wait = backoff
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-p.wake:
			case <-t.C:
			}
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (e *Engine) run(ctx context.Context, j store.Job) {
	log := e.opt.Logger.With("job", j.ID, "kind", j.Kind, "channel", j.Channel, "lane", j.Lane, "attempt", j.Attempts)
	h := e.handlers[j.Kind]
	t := &Task{Job: j, st: e.st}
	start := e.now()
	var err error
	if h == nil {
		err = Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
	} else {
		stop := e.keepLease(ctx, log, t)
		err = safeCall(ctx, h, t)
		stop()
	}
	observe(j.Channel, j.Kind, start, err)

	ferr := e.settle(ctx, log, t, err, start)
	for wait := 100 * time.Millisecond; ferr != nil && !errors.Is(ferr, store.ErrLeaseLost) && wait < 30*time.Second; wait *= 2 {
		// The store is unreachable (a restart, a network blip). Keep trying
		// to record the outcome: giving up means the job runs again after
		// its lease, and a delivered message would be delivered twice.
		log.Warn("could not record job outcome; retrying", "err", ferr, "retry_in", wait.String())
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		if ctx.Err() != nil {
			break
		}
		ferr = e.settle(ctx, log, t, err, start)
	}
	if ferr != nil {
		if errors.Is(ferr, store.ErrLeaseLost) {
			log.Warn("job lease lost; another worker owns it now")
		} else {
			// The lease will expire and the job will run again: at least once.
			log.Error("could not record job outcome", "err", ferr, "outcome_err", err)
		}
	}
}

// settle records the outcome of an attempt: done, retry, pause or dead.
func (e *Engine) settle(ctx context.Context, log *slog.Logger, t *Task, err error, start time.Time) error {
	var ferr error
	switch class, wait := ClassOf(err); {
	case err == nil:
		ferr = e.st.Complete(ctx, t.Job, t.done)
		if ferr == nil {
			log.Debug("job done", "took", time.Since(start).String())
			e.outages.succeeded(e.opt.Logger, t.Channel, t.Kind, e.now())
		}
	case class == ClassThrottled:
		log.Info("job throttled", "wait", wait.String(), "err", err)
		ferr = e.st.Retry(ctx, t.Job, e.now().Add(wait), err.Error(), true)
	case class == ClassPermanent || class == ClassGone:
		ferr = e.kill(ctx, log, t, err.Error())
	default:
		if t.Attempts >= e.opt.MaxAttempts {
			ferr = e.kill(ctx, log, t, fmt.Sprintf("gave up after %d attempts: %v", t.Attempts, err))
		} else if age := e.now().Sub(t.CreatedAt); age > e.opt.MaxAge {
			ferr = e.kill(ctx, log, t, fmt.Sprintf("gave up after %s: %v", age.Round(time.Second), err))
		} else {
			d := e.backoff(t.Attempts)
			e.outages.failed(t.Channel, t.Kind, e.now())
			log.Warn("job failed; will retry", "err", err, "retry_in", d.String())
			ferr = e.st.Retry(ctx, t.Job, e.now().Add(d), err.Error(), false)
		}
	}
	return ferr
}

// keepLease renews the job's lease while its handler runs, so a slow upload
// keeps its job while a dead process's jobs return within one short lease.
func (e *Engine) keepLease(ctx context.Context, log *slog.Logger, t *Task) (stop func()) {
	done := make(chan struct{})
	job := t.Job // a copy: the handler may update t while this runs
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(e.opt.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := e.st.Extend(ctx, job, e.opt.Lease); err != nil {
					log.Warn("could not renew job lease", "err", err)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (e *Engine) kill(ctx context.Context, log *slog.Logger, t *Task, reason string) error {
	log.Error("job dead-lettered", "reason", reason)
	if err := e.st.Kill(ctx, t.Job, reason, t.dead); err != nil {
		return err
	}
	deadJobs.WithLabelValues(string(t.Kind)).Inc()
	return nil
}

// backoff is exponential with full jitter over the upper half, so retries of
// many jobs after one outage spread out instead of arriving together.
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.opt.BaseBackoff
	for i := 1; i < attempt && d < e.opt.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, e.opt.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func safeCall(ctx context.Context, h Handler, t *Task) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(fmt.Errorf("handler panic: %v", r))
		}
	}()
	return h(ctx, t)
}
