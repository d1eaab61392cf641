package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var concurrencyCases = []conformanceCase{
	{"ConcurrentClaims", testConcurrentClaims},
	{"ConcurrentEnqueueAndClaim", testConcurrentEnqueueAndClaim},
	{"ConcurrentDedup", testConcurrentDedup},
}

// laneChecker records what workers hold and process, and reports a lane held
// twice at once, a job processed twice, or a lane processed out of id order.
type laneChecker struct {
	t         *testing.T
	mu        sync.Mutex
	holder    map[string]int64 // lane -> job in hand
	done      map[int64]bool
	processed map[string][]int64 // lane -> jobs, in processing order
	count     int
}

func newLaneChecker(t *testing.T) *laneChecker {
	return &laneChecker{t: t, holder: map[string]int64{}, done: map[int64]bool{}, processed: map[string][]int64{}}
}

func (c *laneChecker) take(j store.Job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lane := j.Channel + "/" + j.Lane
	if h, ok := c.holder[lane]; ok {
		c.t.Errorf("lane %s: job %d claimed while job %d is in hand", lane, j.ID, h)
	}
	c.holder[lane] = j.ID
}

// release must come before Complete: once Complete commits, the lane's next
// job may be claimed.
func (c *laneChecker) release(j store.Job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lane := j.Channel + "/" + j.Lane
	delete(c.holder, lane)
	if c.done[j.ID] {
		c.t.Errorf("job %d processed twice", j.ID)
	}
	c.done[j.ID] = true
	c.processed[lane] = append(c.processed[lane], j.ID)
	c.count++
}

func (c *laneChecker) processedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// check verifies that every lane went in id order and that want jobs were
// processed.
func (c *laneChecker) check(want int) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count != want {
		c.t.Fatalf("processed %d jobs, want %d", c.count, want)
	}
	for lane, ids := range c.processed {
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				c.t.Fatalf("lane %s processed out of order: %v", lane, ids)
			}
		}
	}
}

// work runs workers, spread over stores, that claim and complete until total
// jobs are processed (or the deadline passes).
func work(t *testing.T, stores []store.Store, c *laneChecker, workers, limit, total int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var wg sync.WaitGroup
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for c.processedCount() < total && time.Now().Before(deadline) && !t.Failed() {
				jobs, err := s.Claim(t.Context(), store.ClaimParams{
					Worker: fmt.Sprintf("w%d", w), Limit: limit, Lease: time.Minute})
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if len(jobs) == 0 {
					time.Sleep(time.Millisecond)
					continue
				}
				for _, j := range jobs {
					c.take(j)
				}
				for _, j := range jobs {
					time.Sleep(50 * time.Microsecond) // the work
					c.release(j)
					if err := s.Complete(t.Context(), j, store.Batch{}); err != nil {
						t.Errorf("Complete(%d): %v", j.ID, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	c.check(total)
}

func testConcurrentClaims(t *testing.T, s store.Store) { concurrentClaims(t, []store.Store{s}, ch) }

func testConcurrentEnqueueAndClaim(t *testing.T, s store.Store) {
	concurrentEnqueueAndClaim(t, []store.Store{s}, ch)
}

// concurrentClaims: 8 workers claim 200 jobs of 20 lanes of channel.
func concurrentClaims(t *testing.T, stores []store.Store, channel string) {
	const jobs, lanes = 200, 20
	var batch []store.NewJob
	for i := range jobs {
		batch = append(batch, store.NewJob{Channel: channel, Kind: store.KindUpdate,
			Lane: fmt.Sprintf("chat:%d", i%lanes), Priority: i % 3})
	}
	enqueue(t, stores[0], batch...)
	work(t, stores, newLaneChecker(t), 8, 3, jobs)
	for _, s := range stores {
		noClaim(t, s, "all processed")
	}
}

// concurrentEnqueueAndClaim: 4 producers enqueue 100 jobs into 5 lanes of
// channel while 4 workers claim them.
func concurrentEnqueueAndClaim(t *testing.T, stores []store.Store, channel string) {
	const producers, perProducer, lanes = 4, 25, 5
	var wg sync.WaitGroup
	var enqueued atomic.Int32
	for p := range producers {
		s := stores[(p+1)%len(stores)]
		wg.Go(func() {
			for i := range perProducer {
				lane := fmt.Sprintf("chat:%d", (p+i)%lanes)
				if _, err := s.Enqueue(t.Context(), store.Batch{Jobs: []store.NewJob{
					{Channel: channel, Kind: store.KindUpdate, Lane: lane}}}); err != nil {
					t.Errorf("Enqueue: %v", err)
					return
				}
				enqueued.Add(1)
			}
		})
	}
	work(t, stores, newLaneChecker(t), 4, 2, producers*perProducer)
	wg.Wait()
	if n := enqueued.Load(); n != producers*perProducer {
		t.Fatalf("enqueued %d", n)
	}
}

// Replicas runs the concurrency checks with producers and workers spread
// over stores that share one database, as replicas of the service do: every
// job processed exactly once, each lane in order and by one worker at a time.
func Replicas(t *testing.T, stores ...store.Store) {
	if len(stores) < 2 {
		t.Fatalf("storetest.Replicas: %d stores, want at least 2", len(stores))
	}
	t.Run("ConcurrentClaims", func(t *testing.T) { concurrentClaims(t, stores, "replicas-1") })
	t.Run("ConcurrentEnqueueAndClaim", func(t *testing.T) { concurrentEnqueueAndClaim(t, stores, "replicas-2") })
	t.Run("ConcurrentAccepts", func(t *testing.T) { concurrentAccepts(t, stores) })
}

func testConcurrentDedup(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	var created atomic.Int32
	for range 8 {
		wg.Go(func() {
			ids, err := s.Enqueue(t.Context(), store.Batch{Jobs: []store.NewJob{
				{Channel: ch, Kind: store.KindUpdate, Lane: "chat:1", DedupKey: "update-1"}}})
			if err != nil {
				t.Errorf("Enqueue: %v", err)
				return
			}
			if ids[0] != 0 {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	if n := created.Load(); n != 1 {
		t.Fatalf("8 concurrent enqueues of one key created %d jobs, want 1", n)
	}
}
