package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var queueCases = []conformanceCase{
	{"Basics", testBasics},
	{"EnqueueClaimFields", testEnqueueClaimFields},
	{"EnqueueRejectsIncompleteJobs", testEnqueueRejects},
	{"Dedup", testDedup},
	{"LaneHeadOnlyPerClaim", testLaneHeadOnly},
	{"PriorityThenID", testPriority},
	{"Kinds", testKinds},
	{"NotBefore", testNotBefore},
}

func testBasics(t *testing.T, s store.Store) {
	noErr(t, "Ping", s.Ping(t.Context()))
	noErr(t, "Migrate again", s.Migrate(t.Context()))
	ids, err := s.Enqueue(t.Context(), store.Batch{})
	noErr(t, "Enqueue(empty)", err)
	if len(ids) != 0 {
		t.Fatalf("Enqueue(empty) = %v, want no ids", ids)
	}
	noClaim(t, s, "empty queue")
}

func testEnqueueClaimFields(t *testing.T, s store.Store) {
	before := micro(time.Now())
	ids := enqueue(t, s,
		store.NewJob{Channel: ch, Kind: store.KindOutbound, Lane: "chat:1", DedupKey: "d1", Priority: 3,
			Payload: []byte(`{"a":1}`)},
		store.NewJob{Channel: ch, Kind: store.KindOutbound, Lane: "chat:2", Priority: 3},
	)
	after := micro(time.Now())
	if ids[0] == 0 || ids[1] <= ids[0] {
		t.Fatalf("ids = %v, want new ids, increasing", ids)
	}
	jobs := claim(t, s, store.ClaimParams{Limit: 10})
	if len(jobs) != 2 {
		t.Fatalf("claimed %d jobs, want 2", len(jobs))
	}
	j := jobs[0]
	if j.ID != ids[0] || j.Channel != ch || j.Kind != store.KindOutbound || j.Lane != "chat:1" ||
		j.DedupKey != "d1" || j.Priority != 3 || !bytes.Equal(j.Payload, []byte(`{"a":1}`)) ||
		j.Progress != 0 || j.Attempts != 1 || j.LastError != "" {
		t.Fatalf("claimed %+v, not what was enqueued", j)
	}
	if j.CreatedAt.Before(before) || j.CreatedAt.After(after) || j.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt = %v, want UTC within [%v, %v]", j.CreatedAt, before, after)
	}
	if j.Token == "" || jobs[1].Token == "" || j.Token == jobs[1].Token {
		t.Fatalf("tokens %q, %q: want distinct, non-empty", j.Token, jobs[1].Token)
	}
	if len(jobs[1].Payload) != 0 || jobs[1].DedupKey != "" {
		t.Fatalf("job without payload or key claimed as %+v", jobs[1])
	}
}

func testEnqueueRejects(t *testing.T, s store.Store) {
	for _, j := range []store.NewJob{
		{Kind: store.KindUpdate, Lane: "l"},
		{Channel: ch, Lane: "l"},
		{Channel: ch, Kind: store.KindUpdate},
	} {
		if _, err := s.Enqueue(t.Context(), store.Batch{Jobs: []store.NewJob{job("ok"), j}}); err == nil {
			t.Fatalf("Enqueue(%+v) succeeded, want an error", j)
		}
	}
	noClaim(t, s, "a refused batch adds nothing")
}

func testDedup(t *testing.T, s store.Store) {
	keyed := func(channel string, kind store.Kind, key string) store.NewJob {
		return store.NewJob{Channel: channel, Kind: kind, Lane: "lane-" + key, DedupKey: key}
	}
	// The first job of each key is brought to a state, then the key is
	// enqueued again.
	finish := []struct {
		state string
		fn    func(t *testing.T, j store.Job)
	}{
		{"leased", func(*testing.T, store.Job) {}},
		{"done", func(t *testing.T, j store.Job) { complete(t, s, j, store.Batch{}) }},
		{"dead", func(t *testing.T, j store.Job) {
			noErr(t, "Kill", s.Kill(t.Context(), j, "gave up", store.Batch{}))
		}},
		{"retrying", func(t *testing.T, j store.Job) {
			noErr(t, "Retry", s.Retry(t.Context(), j, time.Now().Add(time.Hour), "later", false))
		}},
	}
	var firsts []int64
	for _, f := range finish {
		firsts = append(firsts, enqueueOne(t, s, keyed(ch, store.KindUpdate, f.state)))
	}
	jobs := claim(t, s, store.ClaimParams{Limit: 100})
	equalIDs(t, "first jobs", jobIDs(jobs), firsts)
	for i, f := range finish {
		f.fn(t, jobs[i])
	}
	enqueueOne(t, s, keyed(ch, store.KindUpdate, "pending"))
	for _, state := range []string{"pending", "leased", "done", "dead", "retrying"} {
		if id := enqueue(t, s, keyed(ch, store.KindUpdate, state))[0]; id != 0 {
			t.Fatalf("same key while the first job is %s: id %d, want 0", state, id)
		}
		if id := enqueue(t, s, keyed(ch, store.KindOutbound, state))[0]; id == 0 {
			t.Fatalf("same key, other kind (first %s): id 0, want new", state)
		}
		if id := enqueue(t, s, keyed("chan-b", store.KindUpdate, state))[0]; id == 0 {
			t.Fatalf("same key, other channel (first %s): id 0, want new", state)
		}
	}
	// Within one batch; jobs without a key are never duplicates.
	ids := enqueue(t, s, keyed(ch, store.KindStatus, "twice"), keyed(ch, store.KindStatus, "twice"),
		job("no-key"), job("no-key"))
	if ids[0] == 0 || ids[1] != 0 || ids[2] == 0 || ids[3] == 0 || ids[3] == ids[2] {
		t.Fatalf("ids = %v, want [new 0 new new]", ids)
	}
	// A duplicate does not stop the rest of its batch.
	ids, err := s.Enqueue(t.Context(), store.Batch{
		Jobs: []store.NewJob{keyed(ch, store.KindStatus, "twice")},
		Maps: []store.MessageMap{{Channel: ch, ChatID: 1, TelegramID: 2, TurnID: "turn-2"}},
	})
	noErr(t, "Enqueue(duplicate + map)", err)
	if ids[0] != 0 {
		t.Fatalf("duplicate id = %d, want 0", ids[0])
	}
	if got, err := s.TurnID(t.Context(), ch, 1, 2); err != nil || got != "turn-2" {
		t.Fatalf("TurnID after a batch with a duplicate = %q, %v; want turn-2", got, err)
	}
}

// laneCase enqueues two jobs in one lane, claims the first, brings it to a
// state with prepare, and checks what is claimable next (want, from the two
// ids).
func laneCase(prepare func(t *testing.T, s store.Store, first store.Job), want func(ids []int64) []int64) func(t *testing.T, s store.Store) {
	return func(t *testing.T, s store.Store) {
		ids := enqueue(t, s, job("chat:1"), job("chat:1"))
		first := claimOne(t, s)
		if first.ID != ids[0] {
			t.Fatalf("claimed %d, want the lane's head %d", first.ID, ids[0])
		}
		prepare(t, s, first)
		equalIDs(t, "next claim", claimIDs(t, s, 10), want(ids))
	}
}

func none([]int64) []int64       { return nil }
func head(ids []int64) []int64   { return ids[:1] }
func second(ids []int64) []int64 { return ids[1:2] }

var laneCases = []conformanceCase{
	{"LaneBlockedWhileHeadLeased", laneCase(func(*testing.T, store.Store, store.Job) {}, none)},
	{"LaneBlockedWhileHeadAdvanced", laneCase(func(t *testing.T, s store.Store, j store.Job) {
		noErr(t, "Advance", s.Advance(t.Context(), j, 1, store.Batch{}))
	}, none)},
	{"LaneBlockedWhileHeadWaitsToRetry", laneCase(func(t *testing.T, s store.Store, j store.Job) {
		noErr(t, "Retry", s.Retry(t.Context(), j, time.Now().Add(time.Hour), "later", false))
	}, none)},
	{"LaneBlockedWhileHeadThrottled", laneCase(func(t *testing.T, s store.Store, j store.Job) {
		noErr(t, "Retry", s.Retry(t.Context(), j, time.Now().Add(time.Hour), "429", true))
	}, none)},
	{"LaneHeadRetriedNowComesFirst", laneCase(func(t *testing.T, s store.Store, j store.Job) {
		noErr(t, "Retry", s.Retry(t.Context(), j, time.Time{}, "again", false))
	}, head)},
	{"LaneUnblockedByDone", laneCase(func(t *testing.T, s store.Store, j store.Job) {
		complete(t, s, j, store.Batch{})
	}, second)},
	{"LaneUnblockedByDead", laneCase(func(t *testing.T, s store.Store, j store.Job) {
		noErr(t, "Kill", s.Kill(t.Context(), j, "bad", store.Batch{}))
	}, second)},
	{"LaneUnblockedByDiscard", laneCase(func(t *testing.T, s store.Store, j store.Job) {
		noErr(t, "Retry", s.Retry(t.Context(), j, time.Now().Add(time.Hour), "later", false))
		noErr(t, "Discard", s.Discard(t.Context(), j.ID))
	}, second)},
	{"LanesIndependent", testLanesIndependent},
}

func testLanesIndependent(t *testing.T, s store.Store) {
	// Different lanes, and one lane name in different channels, are
	// independent; a lane is shared by all kinds.
	ids := enqueue(t, s,
		store.NewJob{Channel: "c1", Kind: store.KindUpdate, Lane: "same"},
		store.NewJob{Channel: "c2", Kind: store.KindUpdate, Lane: "same"},
		store.NewJob{Channel: "c1", Kind: store.KindUpdate, Lane: "other"},
		store.NewJob{Channel: "c1", Kind: store.KindStatus, Lane: "same"},
		store.NewJob{Channel: "c1", Kind: store.KindUpdate, Lane: "same"},
	)
	equalIDs(t, "heads of independent lanes", claimIDs(t, s, 100), ids[:3])
}

func testLaneHeadOnly(t *testing.T, s store.Store) {
	ids := enqueue(t, s, job("a"), job("a"), job("a"), job("b"), job("b"))
	jobs := claim(t, s, store.ClaimParams{Limit: 10})
	equalIDs(t, "one claim of two lanes", jobIDs(jobs), []int64{ids[0], ids[3]})
	for i, want := range [][]int64{{ids[1], ids[4]}, {ids[2]}} {
		for _, j := range jobs {
			complete(t, s, j, store.Batch{})
		}
		jobs = claim(t, s, store.ClaimParams{Limit: 10})
		equalIDs(t, "round "+string(rune('2'+i)), jobIDs(jobs), want)
	}
}

func testPriority(t *testing.T, s store.Store) {
	var jobs []store.NewJob
	for i, p := range []int{5, 0, 5, 1, -2, 0} {
		j := job(string(rune('a' + i)))
		j.Priority = p
		jobs = append(jobs, j)
	}
	ids := enqueue(t, s, jobs...)
	want := []int64{ids[4], ids[1], ids[5], ids[3], ids[0], ids[2]}
	equalIDs(t, "Limit 2", claimIDs(t, s, 2), want[:2])
	equalIDs(t, "Limit 0 means 1", jobIDs(claim(t, s, store.ClaimParams{})), want[2:3])
	equalIDs(t, "the rest", claimIDs(t, s, 10), want[3:])
}

func testKinds(t *testing.T, s store.Store) {
	mk := func(kind store.Kind, lane string) store.NewJob {
		return store.NewJob{Channel: ch, Kind: kind, Lane: lane}
	}
	ids := enqueue(t, s,
		mk(store.KindUpdate, "chat:1"),
		mk(store.KindOutbound, "chat:1"), // behind an update: blocked for every worker
		mk(store.KindOutbound, "chat:2"),
		mk(store.KindFetch, "fetch:1"),
		mk(store.KindStatus, "status:1"),
	)
	equalIDs(t, "outbound", claimIDs(t, s, 10, store.KindOutbound), ids[2:3])
	equalIDs(t, "fetch+status", claimIDs(t, s, 10, store.KindFetch, store.KindStatus), ids[3:5])
	up := claimOne(t, s, store.KindUpdate)
	equalIDs(t, "outbound while the update is leased", claimIDs(t, s, 10, store.KindOutbound), nil)
	complete(t, s, up, store.Batch{})
	equalIDs(t, "outbound after the update", claimIDs(t, s, 10), ids[1:2])
}

func testNotBefore(t *testing.T, s store.Store) {
	const delay = 400 * time.Millisecond
	notBefore := time.Now().Add(delay)
	j := job("later")
	j.NotBefore = notBefore
	later := enqueueOne(t, s, j)
	now := enqueueOne(t, s, job("now"))
	behind := enqueueOne(t, s, job("later")) // a delayed job blocks its lane
	got := claimIDs(t, s, 10)
	if !slices.Contains(got, now) || slices.Contains(got, behind) {
		t.Fatalf("claimed %v, want %d and not %d", got, now, behind)
	}
	if !slices.Contains(got, later) {
		got = jobIDs(waitClaim(t, s, store.ClaimParams{Limit: 10}, 10*time.Second))
		equalIDs(t, "after NotBefore", got, []int64{later})
	}
	if time.Now().Before(notBefore) {
		t.Fatalf("job %d claimed before its NotBefore", later)
	}
	if info := jobInfo(t, s, behind); info.State != store.StatePending || info.Attempts != 0 {
		t.Fatalf("job behind the delayed one: %+v, want pending, never claimed", info)
	}
	if info := jobInfo(t, s, later); !info.NextAttempt.Equal(micro(notBefore)) {
		t.Fatalf("NextAttempt = %v, want NotBefore %v", info.NextAttempt, micro(notBefore))
	}
}
