package main

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Every message the load generator makes carries a marker with its sequence
// number in its text ("LTSEQ42Z"), and every button it offers one in its
// reply id ("LTBTN42Z"), so the fakes' hooks can tell which message reached
// the fake on the other side without decoding the payload.
const (
	seqMarker = "LTSEQ"
	btnMarker = "LTBTN"
)

func marker(prefix string, seq int) string { return prefix + strconv.Itoa(seq) + "Z" }

// findMarker returns the number after the first prefix in b, or -1.
func findMarker(b []byte, prefix string) int {
	i := bytes.Index(b, []byte(prefix))
	if i < 0 {
		return -1
	}
	n, digits := 0, 0
	for _, c := range b[i+len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		digits++
	}
	if digits == 0 {
		return -1
	}
	return n
}

// stamps holds one timestamp per sequence number, safe for concurrent use:
// nanoseconds since the run's base, plus one so that 0 means "not yet".
type stamps []atomic.Int64

func newStamps(n int) stamps { return make(stamps, n) }

func (s stamps) set(seq int, base time.Time, at time.Time) bool {
	if seq < 0 || seq >= len(s) {
		return false
	}
	return s[seq].CompareAndSwap(0, int64(at.Sub(base))+1)
}

func (s stamps) get(seq int) (time.Duration, bool) {
	if seq < 0 || seq >= len(s) {
		return 0, false
	}
	v := s[seq].Load()
	return time.Duration(v - 1), v != 0
}

// pressable is a message with buttons as Telegram accepted it.
type pressable struct {
	seq   int
	chat  int64
	msgID int
	data  string
}

// recorder is the state of one run that the fakes' hooks and the load
// generator share.
type recorder struct {
	base time.Time
	n    int

	chat    []int64 // chat of each seq
	start   stamps  // request sent, or due (fixed rate)
	accept  stamps  // accepted by the service
	deliver stamps  // accepted by the fake on the other side
	press   stamps  // button pressed
	reply   stamps  // button reply accepted by Turn

	duplicates atomic.Int64
	statuses   atomic.Int64
	turnRej    atomic.Int64
	tgRefused  atomic.Int64
	tooMany    atomic.Int64
	answered   atomic.Int64
	edited     atomic.Int64

	// Polling: update_id given to each pushed seq, in push order; a
	// getUpdates offset confirms every update below it.
	mu        sync.Mutex
	updateIDs []int64
	confirmed int

	// buttons receives every message with buttons Telegram accepted, and
	// replied every seq whose button reply Turn accepted.
	buttons func(p pressable)
	replied func(seq int)
}

func newRecorder(n int) *recorder {
	return &recorder{
		base:    time.Now(),
		n:       n,
		chat:    make([]int64, n),
		start:   newStamps(n),
		accept:  newStamps(n),
		deliver: newStamps(n),
		press:   newStamps(n),
		reply:   newStamps(n),
	}
}

// confirm marks every pushed update below offset accepted at `at`.
func (r *recorder) confirm(offset int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.confirmed < len(r.updateIDs) {
		id := r.updateIDs[r.confirmed]
		if id == 0 || id >= offset {
			return
		}
		r.accept.set(r.confirmed, r.base, at)
		r.confirmed++
	}
}

// delivered records seq reaching the other side, counting repeats.
func (r *recorder) delivered(seq int, at time.Time) {
	if seq < 0 || seq >= r.n {
		return
	}
	if !r.deliver.set(seq, r.base, at) {
		r.duplicates.Add(1)
	}
}

// outcome is the e2e summary of seqs [0, n): delivered, lost, out of order
// and the latencies, given which seqs were accepted.
type outcome struct {
	delivered, lost, outOfOrder int
	e2e                         []time.Duration
	deliveries                  []time.Duration // delivery times since base, sorted by Dist
	first, last                 time.Duration
}

func (r *recorder) outcome(n int) outcome {
	var o outcome
	lastByChat := map[int64]time.Duration{}
	o.first = -1
	for seq := range min(n, r.n) {
		if _, ok := r.accept.get(seq); !ok {
			continue
		}
		d, ok := r.deliver.get(seq)
		if !ok {
			o.lost++
			continue
		}
		o.delivered++
		s, _ := r.start.get(seq)
		o.e2e = append(o.e2e, d-s)
		o.deliveries = append(o.deliveries, d)
		// Seqs of a chat are sent in order, so their deliveries must be too.
		if prev, ok := lastByChat[r.chat[seq]]; ok && d < prev {
			o.outOfOrder++
		}
		lastByChat[r.chat[seq]] = d
		if o.first < 0 || s < o.first {
			o.first = s
		}
		o.last = max(o.last, d)
	}
	return o
}
