package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Group commit. Every queue write (an Enqueue, a claimed job's advance,
// completion, retry or death, each with its Batch) goes to a committer,
// which puts whatever has arrived while the previous commit was in flight
// into one transaction and commits it once: one fsync for many callers.
// Nothing waits on a timer: under light load a group is one write, under
// heavy load groups grow until a bound. Each caller gets its answer only
// after the commit that holds its rows.

// Bounds of one group, so that one transaction stays short and its locks
// are held briefly.
const (
	groupMaxOps   = 256
	groupMaxBytes = 4 << 20
)

// writeOp is one caller's write.
type writeOp struct {
	ctx   context.Context
	fin   *finish // nil for an Enqueue
	batch Batch
	req   *Request // an Accept's request; nil otherwise

	ids   []int64 // the ids of batch.Jobs, 0 for duplicates (Enqueue)
	known string  // the request's first message id, when it repeats one
	err   error
	done  chan struct{}
}

// finish is a claimed job's change of state.
type finish struct {
	job      Job
	state    State     // the new state (StatePending: stays pending)
	progress int       // parts done; -1 keeps the stored value
	nextAt   time.Time // the next attempt (zero keeps it)
	reason   string    // last_error (empty keeps it)
	uncount  bool      // the attempt does not count (a throttle)
	release  bool      // the lease ends
}

func (op *writeOp) size() int {
	n := 64
	for _, j := range op.batch.Jobs {
		n += len(j.Payload) + len(j.Lane) + len(j.DedupKey) + 64
	}
	return n + 128*(len(op.batch.Maps)+len(op.batch.Callbacks)+len(op.batch.Sent)+len(op.batch.ClearGone))
}

// groupRunner runs fn in one transaction of the dialect, committing when it
// returns nil.
type groupRunner func(ctx context.Context, fn func(tx groupTx) error) error

// committer gathers writeOps into groups and commits each group once.
type committer struct {
	in      chan *writeOp
	run     groupRunner
	written func(jobs int) // after a commit, how many jobs it inserted
	stop    chan struct{}
	wg      sync.WaitGroup

	mu     sync.RWMutex // held to send, so that none is sent after close
	closed bool
}

// errClosed: the store was closed while the write waited.
var errClosed = errors.New("store: closed")

// newCommitter starts n committers (each one transaction at a time) over run.
func newCommitter(n int, run groupRunner, written func(int)) *committer {
	c := &committer{in: make(chan *writeOp, 4*groupMaxOps), run: run, written: written, stop: make(chan struct{})}
	for range n {
		c.wg.Add(1)
		go c.loop()
	}
	return c
}

// do applies op in a group and returns once the group has committed (or
// failed). A caller's context ending before its op joins a group withdraws
// it; once in a group the op is committed or not with the group, and the
// caller is told which, so an acknowledged write is never lost and a
// failed one never half-applied.
func (c *committer) do(ctx context.Context, op *writeOp) error {
	op.ctx = ctx
	op.done = make(chan struct{})
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	select {
	case c.in <- op:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	<-op.done
	return op.err
}

// close stops the committers once the groups in flight are committed, and
// fails what is still queued.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.stop)
	c.mu.Unlock()
	c.wg.Wait()
	c.drain()
}

func (c *committer) loop() {
	defer c.wg.Done()
	var carry *writeOp
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-c.in:
			case <-c.stop:
				return
			}
		}
		group, bytes := []*writeOp{first}, first.size()
		keys := newGroupKeys()
		keys.add(first)
	gather:
		for len(group) < groupMaxOps && bytes < groupMaxBytes {
			select {
			case op := <-c.in:
				if keys.conflicts(op) {
					carry = op // it goes first in the next group
					break gather
				}
				keys.add(op)
				group = append(group, op)
				bytes += op.size()
			default:
				break gather
			}
		}
		c.commit(group)
	}
}

// drain fails what is still queued when the store closes.
func (c *committer) drain() {
	for {
		select {
		case op := <-c.in:
			op.err = errClosed
			close(op.done)
		default:
			return
		}
	}
}

// commit applies a group. When the group's transaction fails, each of its
// ops is tried alone, so one bad write (or a deadlock with another replica)
// never fails the others.
func (c *committer) commit(group []*writeOp) {
	live := group[:0:0]
	for _, op := range group {
		if err := op.ctx.Err(); err != nil {
			op.err = err // withdrawn before it was written
			close(op.done)
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	err := c.apply(live)
	if err != nil && len(live) > 1 {
		for _, op := range live {
			if err := c.apply([]*writeOp{op}); err != nil {
				op.err = err
			}
			close(op.done)
		}
		return
	}
	for _, op := range live {
		if err != nil {
			op.err = err
		}
		close(op.done)
	}
}

// apply runs one transaction for ops. An op's own ErrLeaseLost is set on
// the op and does not fail the transaction; a returned error failed it all.
func (c *committer) apply(ops []*writeOp) error {
	// The transaction is not bound to any one caller's context: it must
	// end the same way for every caller in it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, op := range ops {
		op.err, op.ids, op.known = nil, nil, ""
	}
	var done func() int
	err := c.run(ctx, func(tx groupTx) error {
		var err error
		done, err = applyGroup(ctx, tx, now(), ops)
		return err
	})
	if errors.Is(err, errSplit) && len(ops) == 1 {
		return nil // rolled back: the op's lease was lost, and it is told so
	}
	if err != nil {
		for _, op := range ops {
			op.err, op.ids, op.known = nil, nil, ""
		}
		return err
	}
	jobs := done()
	groupCommits.Inc()
	groupWrites.Add(float64(len(ops)))
	if c.written != nil {
		c.written(jobs)
	}
	return nil
}

// The changes of state a claimed job can make.
func advanceOf(j Job, progress int) *finish {
	return &finish{job: j, state: StatePending, progress: progress}
}

func completeOf(j Job) *finish {
	return &finish{job: j, state: StateDone, progress: -1, release: true}
}

func retryOf(j Job, at time.Time, reason string, uncount bool) *finish {
	if at.IsZero() {
		at = now()
	}
	return &finish{job: j, state: StatePending, progress: -1, nextAt: at, reason: reason, uncount: uncount, release: true}
}

func killOf(j Job, reason string) *finish {
	return &finish{job: j, state: StateDead, progress: -1, reason: reason, release: true}
}

// acceptOn applies b through c unless req repeats a request accepted within
// RequestWindow, and returns the message id req is known by.
func acceptOn(ctx context.Context, c *committer, req Request, b Batch) (string, error) {
	if err := checkBatch(b); err != nil {
		return "", fmt.Errorf("store: accept: %w", err)
	}
	if req.Channel == "" || len(req.Digest) == 0 || req.TurnID == "" {
		return "", errors.New("store: accept: a request needs a Channel, a Digest and a TurnID")
	}
	op := &writeOp{batch: b, req: &req}
	if err := c.do(ctx, op); err != nil {
		return "", fmt.Errorf("store: accept: %w", err)
	}
	if op.known != "" {
		return op.known, nil
	}
	return req.TurnID, nil
}

// finishJob applies f with b through c.
func finishJob(ctx context.Context, c *committer, op string, f *finish, b Batch) error {
	if err := checkBatch(b); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if err := c.do(ctx, &writeOp{fin: f, batch: b}); err != nil {
		return fmt.Errorf("store: %s job %d: %w", op, f.job.ID, err)
	}
	return nil
}
