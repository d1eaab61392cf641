package storetest

import (
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var leaseCases = []conformanceCase{
	{"LeaseExpiryTakeover", testLeaseTakeover},
	{"ExpiredLeaseNotTakenStillFinishes", testExpiredNotTaken},
	{"FinishedJobRefusesFinishing", testFinishedRefuses},
	{"RetryCountsAttempts", testRetryAttempts},
	{"AdvanceKeepsProgress", testAdvance},
	{"KillWithBatch", testKill},
}

// finishers are the four finishing calls, each with a batch (where it takes
// one) whose effect shows whether it was applied.
var finishers = []struct {
	name string
	call func(t *testing.T, s store.Store, j store.Job, b store.Batch) error
}{
	{"Advance", func(t *testing.T, s store.Store, j store.Job, b store.Batch) error {
		return s.Advance(t.Context(), j, 1, b)
	}},
	{"Complete", func(t *testing.T, s store.Store, j store.Job, b store.Batch) error {
		return s.Complete(t.Context(), j, b)
	}},
	{"Retry", func(t *testing.T, s store.Store, j store.Job, _ store.Batch) error {
		return s.Retry(t.Context(), j, time.Time{}, "stale", false)
	}},
	{"Kill", func(t *testing.T, s store.Store, j store.Job, b store.Batch) error {
		return s.Kill(t.Context(), j, "stale", b)
	}},
}

// markBatch is a batch whose application is visible as message map
// (ch, 99, telegramID).
func markBatch(telegramID int) store.Batch {
	return store.Batch{
		Maps: []store.MessageMap{{Channel: ch, ChatID: 99, TelegramID: telegramID, TurnID: "applied"}},
		Jobs: []store.NewJob{{Channel: ch, Kind: store.KindStatus, Lane: "marks", Priority: 100}},
	}
}

// notApplied checks that markBatch(telegramID) left no trace.
func notApplied(t *testing.T, s store.Store, what string, telegramID int) {
	t.Helper()
	if _, err := s.TurnID(t.Context(), ch, 99, telegramID); err == nil {
		t.Fatalf("%s: its batch was applied", what)
	}
}

func testLeaseTakeover(t *testing.T, s store.Store) {
	const lease = 300 * time.Millisecond
	id := enqueueOne(t, s, job("chat:1"))
	p := store.ClaimParams{Worker: "w1", Limit: 1, Lease: lease}
	claimed := time.Now()
	old := claim(t, s, p)
	if len(old) != 1 || old[0].Attempts != 1 {
		t.Fatalf("first claim: %+v", old)
	}
	if again := claim(t, s, store.ClaimParams{Worker: "w2", Limit: 1, Lease: lease}); len(again) != 0 &&
		time.Since(claimed) < lease {
		t.Fatalf("job %d claimed twice within its lease", id)
	}
	p.Worker = "w2"
	p.Lease = time.Minute
	taken := waitClaim(t, s, p, 10*time.Second)
	if time.Since(claimed) < lease {
		t.Fatalf("job taken over %v after its claim, before the lease of %v expired", time.Since(claimed), lease)
	}
	if taken[0].ID != id || taken[0].Attempts != 2 || taken[0].Token == old[0].Token {
		t.Fatalf("takeover: %+v, want job %d, attempt 2, a new token", taken[0], id)
	}
	for i, f := range finishers {
		err := f.call(t, s, old[0], markBatch(i))
		isErr(t, f.name+" with the old token", err, store.ErrLeaseLost)
		notApplied(t, s, f.name+" with the old token", i)
	}
	// The new holder is unaffected.
	noErr(t, "Advance with the new token", s.Advance(t.Context(), taken[0], 2, store.Batch{}))
	complete(t, s, taken[0], store.Batch{})
	if info := jobInfo(t, s, id); info.State != store.StateDone || info.Progress != 2 {
		t.Fatalf("job after the new holder completed: %+v", info)
	}
}

func testExpiredNotTaken(t *testing.T, s store.Store) {
	enqueueOne(t, s, job("chat:1"))
	jobs := claim(t, s, store.ClaimParams{Limit: 1, Lease: 20 * time.Millisecond})
	if len(jobs) != 1 {
		t.Fatalf("claimed %d jobs", len(jobs))
	}
	time.Sleep(50 * time.Millisecond)
	// Nobody took it over: the late worker's result still counts.
	complete(t, s, jobs[0], markBatch(1))
	if _, err := s.TurnID(t.Context(), ch, 99, 1); err != nil {
		t.Fatalf("batch of a late but uncontested Complete: %v", err)
	}
}

func testFinishedRefuses(t *testing.T, s store.Store) {
	ids := enqueue(t, s, job("a"), job("b"), job("c"))
	jobs := claim(t, s, store.ClaimParams{Limit: 3})
	complete(t, s, jobs[0], store.Batch{})
	noErr(t, "Kill", s.Kill(t.Context(), jobs[1], "dead", store.Batch{}))
	forged := jobs[2]
	forged.Token = "forged"
	stale := []struct {
		name string
		job  store.Job
	}{
		{"done", jobs[0]},
		{"dead", jobs[1]},
		{"wrong token", forged},
		{"never claimed", store.Job{ID: ids[2]}},
		{"unknown id", store.Job{ID: ids[2] + 1000, Token: jobs[2].Token}},
	}
	n := 0
	for _, st := range stale {
		for _, f := range finishers {
			n++
			err := f.call(t, s, st.job, markBatch(n))
			isErr(t, f.name+" of a "+st.name+" job", err, store.ErrLeaseLost)
			notApplied(t, s, f.name+" of a "+st.name+" job", n)
		}
	}
	if info := jobInfo(t, s, ids[0]); info.State != store.StateDone {
		t.Fatalf("done job became %s", info.State)
	}
	if info := jobInfo(t, s, ids[1]); info.State != store.StateDead || info.LastError != "dead" {
		t.Fatalf("dead job became %+v", info)
	}
	complete(t, s, jobs[2], store.Batch{})
}

func testRetryAttempts(t *testing.T, s store.Store) {
	id := enqueueOne(t, s, job("chat:1"))
	j := claimOne(t, s)
	noErr(t, "Retry", s.Retry(t.Context(), j, time.Time{}, "boom", false))
	if info := jobInfo(t, s, id); info.State != store.StatePending || info.Attempts != 1 || info.LastError != "boom" {
		t.Fatalf("after a counted retry: %+v", info)
	}
	j = claimOne(t, s)
	if j.Attempts != 2 || j.LastError != "boom" {
		t.Fatalf("second claim: attempts %d, last error %q; want 2, boom", j.Attempts, j.LastError)
	}
	noErr(t, "Retry(uncount)", s.Retry(t.Context(), j, time.Time{}, "429", true))
	if info := jobInfo(t, s, id); info.Attempts != 1 {
		t.Fatalf("after an uncounted retry: attempts %d, want 1", info.Attempts)
	}
	j = claimOne(t, s)
	if j.Attempts != 2 || j.LastError != "429" {
		t.Fatalf("claim after an uncounted retry: attempts %d, last error %q; want 2, 429", j.Attempts, j.LastError)
	}
	at := time.Now().Add(time.Hour)
	noErr(t, "Retry(later)", s.Retry(t.Context(), j, at, "later", false))
	noClaim(t, s, "retry in an hour")
	if info := jobInfo(t, s, id); !info.NextAttempt.Equal(micro(at)) || info.Attempts != 2 {
		t.Fatalf("after a retry in an hour: %+v, want next attempt %v, attempts 2", info, micro(at))
	}
}

func testAdvance(t *testing.T, s store.Store) {
	id := enqueueOne(t, s, job("chat:1"))
	j := claimOne(t, s)
	for part := 1; part <= 2; part++ {
		b := store.Batch{Maps: []store.MessageMap{{Channel: ch, ChatID: 1, TelegramID: 10 + part, TurnID: "t"}}}
		noErr(t, "Advance", s.Advance(t.Context(), j, part, b))
		if _, err := s.TurnID(t.Context(), ch, 1, 10+part); err != nil {
			t.Fatalf("Advance's batch: %v", err)
		}
	}
	info := jobInfo(t, s, id)
	if info.Progress != 2 || info.Attempts != 1 || info.State != store.StatePending {
		t.Fatalf("after Advance: %+v", info)
	}
	// Advance extends nothing: the job stays leased to its worker.
	noClaim(t, s, "advanced job still leased")
	noErr(t, "Retry", s.Retry(t.Context(), j, time.Time{}, "crash", false))
	next := claimOne(t, s)
	if next.ID != id || next.Progress != 2 || next.Attempts != 2 {
		t.Fatalf("claim after Advance: %+v, want progress 2, attempt 2", next)
	}
	err := s.Advance(t.Context(), j, 3, markBatch(1))
	isErr(t, "Advance with the old token", err, store.ErrLeaseLost)
	notApplied(t, s, "stale Advance", 1)
	if info := jobInfo(t, s, id); info.Progress != 2 {
		t.Fatalf("stale Advance changed progress to %d", info.Progress)
	}
}

func testKill(t *testing.T, s store.Store) {
	ids := enqueue(t, s, job("chat:1"), job("chat:1"))
	j := claimOne(t, s)
	failed := store.NewJob{Channel: ch, Kind: store.KindStatus, Lane: statusLane(1),
		Payload: []byte(`{"status":"failed"}`)}
	noErr(t, "Kill", s.Kill(t.Context(), j, "403: blocked", store.Batch{
		Jobs: []store.NewJob{failed},
		Maps: []store.MessageMap{{Channel: ch, ChatID: 1, TelegramID: 5, TurnID: "t5"}},
	}))
	info := jobInfo(t, s, ids[0])
	if info.State != store.StateDead || info.LastError != "403: blocked" || info.Attempts != 1 {
		t.Fatalf("killed job: %+v", info)
	}
	if _, err := s.TurnID(t.Context(), ch, 1, 5); err != nil {
		t.Fatalf("Kill's batch map: %v", err)
	}
	status := claimOne(t, s, store.KindStatus)
	if string(status.Payload) != `{"status":"failed"}` || status.Lane != statusLane(1) {
		t.Fatalf("Kill's batch job: %+v", status)
	}
	equalIDs(t, "dead head does not block", claimIDs(t, s, 10), ids[1:])
}
