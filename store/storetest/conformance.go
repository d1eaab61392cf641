package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// conformanceCase is one behaviour every Store must have.
type conformanceCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run is the conformance suite: every method and every semantic stated in
// package store's doc comments. open must return a fresh, migrated store,
// closed when its t ends; the cases run in parallel, one store each.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	var cases []conformanceCase
	cases = append(cases, queueCases...)
	cases = append(cases, laneCases...)
	cases = append(cases, leaseCases...)
	cases = append(cases, batchCases...)
	cases = append(cases, stateCases...)
	cases = append(cases, operatorCases...)
	cases = append(cases, concurrencyCases...)
	cases = append(cases, activityCases...)
	cases = append(cases, channelCases...)
	cases = append(cases, fairCases...)
	cases = append(cases, requestCases...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open(t))
		})
	}
}

// The channel most cases use.
const ch = "chan-a"

// job is a job of ch in lane.
func job(lane string) store.NewJob {
	return store.NewJob{Channel: ch, Kind: store.KindUpdate, Lane: lane}
}

// enqueue enqueues jobs in one batch and returns their ids.
func enqueue(t *testing.T, s store.Store, jobs ...store.NewJob) []int64 {
	t.Helper()
	ids, err := s.Enqueue(t.Context(), store.Batch{Jobs: jobs})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if len(ids) != len(jobs) {
		t.Fatalf("Enqueue returned %d ids for %d jobs", len(ids), len(jobs))
	}
	return ids
}

// enqueueOne enqueues one job and returns its id, which must be new.
func enqueueOne(t *testing.T, s store.Store, j store.NewJob) int64 {
	t.Helper()
	id := enqueue(t, s, j)[0]
	if id == 0 {
		t.Fatalf("Enqueue(%+v) = 0, want a new id", j)
	}
	return id
}

// claim claims with p, filling in a worker name and a long lease.
func claim(t *testing.T, s store.Store, p store.ClaimParams) []store.Job {
	t.Helper()
	if p.Worker == "" {
		p.Worker = "test-worker"
	}
	if p.Lease == 0 {
		p.Lease = time.Minute
	}
	jobs, err := s.Claim(t.Context(), p)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return jobs
}

// claimIDs claims up to limit jobs of kinds and returns their ids in order.
func claimIDs(t *testing.T, s store.Store, limit int, kinds ...store.Kind) []int64 {
	t.Helper()
	return jobIDs(claim(t, s, store.ClaimParams{Limit: limit, Kinds: kinds}))
}

// claimOne claims one job, which must be there.
func claimOne(t *testing.T, s store.Store, kinds ...store.Kind) store.Job {
	t.Helper()
	jobs := claim(t, s, store.ClaimParams{Limit: 1, Kinds: kinds})
	if len(jobs) != 1 {
		t.Fatalf("Claim returned %d jobs, want 1", len(jobs))
	}
	return jobs[0]
}

// noClaim checks that nothing is claimable.
func noClaim(t *testing.T, s store.Store, why string) {
	t.Helper()
	if got := claimIDs(t, s, 100); len(got) != 0 {
		t.Fatalf("%s: claimed %v, want nothing", why, got)
	}
}

// waitClaim polls until p claims something, failing after timeout.
func waitClaim(t *testing.T, s store.Store, p store.ClaimParams, timeout time.Duration) []store.Job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if jobs := claim(t, s, p); len(jobs) > 0 {
			return jobs
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing claimable after %v", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jobIDs(jobs []store.Job) []int64 {
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return ids
}

func equalIDs(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s: got ids %v, want %v", what, got, want)
	}
}

func complete(t *testing.T, s store.Store, j store.Job, b store.Batch) {
	t.Helper()
	if err := s.Complete(t.Context(), j, b); err != nil {
		t.Fatalf("Complete(%d): %v", j.ID, err)
	}
}

func isErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// jobInfo returns the operator view of job id.
func jobInfo(t *testing.T, s store.Store, id int64) store.JobInfo {
	t.Helper()
	jobs, err := s.ListJobs(t.Context(), store.JobFilter{})
	noErr(t, "ListJobs", err)
	for _, j := range jobs {
		if j.ID == id {
			return j
		}
	}
	t.Fatalf("job %d not listed", id)
	return store.JobInfo{}
}

// micro is t at the precision stores keep.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
