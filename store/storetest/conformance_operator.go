package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var operatorCases = []conformanceCase{
	{"ListJobs", testListJobs},
	{"QueueStats", testQueueStats},
	{"Requeue", testRequeue},
	{"RequeuedJobWaitsForItsLane", testRequeueLane},
	{"Discard", testDiscard},
	{"Prune", testPrune},
}

func testListJobs(t *testing.T, s store.Store) {
	later := time.Now().Add(time.Hour)
	delayed := job("d")
	delayed.NotBefore = later
	ids := enqueue(t, s,
		job("a"),
		store.NewJob{Channel: ch, Kind: store.KindOutbound, Lane: "b"},
		store.NewJob{Channel: "chan-b", Kind: store.KindUpdate, Lane: "a"},
		job("c"),
		delayed,
	)
	// One at a time: a claim of two would take one job of each channel.
	first, second := claimOne(t, s), claimOne(t, s)
	equalIDs(t, "claimed", []int64{first.ID, second.ID}, ids[:2])
	complete(t, s, first, store.Batch{})                                         // ids[0] done
	noErr(t, "Kill", s.Kill(t.Context(), second, "no such chat", store.Batch{})) // ids[1] dead

	list := func(f store.JobFilter) []int64 {
		t.Helper()
		infos, err := s.ListJobs(t.Context(), f)
		noErr(t, "ListJobs", err)
		out := make([]int64, len(infos))
		for i, j := range infos {
			out[i] = j.ID
		}
		return out
	}
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	equalIDs(t, "all, newest first", list(store.JobFilter{}), rev)
	equalIDs(t, "channel", list(store.JobFilter{Channel: "chan-b"}), ids[2:3])
	equalIDs(t, "kind", list(store.JobFilter{Kind: store.KindOutbound}), ids[1:2])
	equalIDs(t, "state done", list(store.JobFilter{State: store.StateDone}), ids[:1])
	equalIDs(t, "state pending", list(store.JobFilter{State: store.StatePending}), []int64{ids[4], ids[3], ids[2]})
	equalIDs(t, "channel+kind+state", list(store.JobFilter{Channel: ch, Kind: store.KindUpdate, State: store.StatePending}), []int64{ids[4], ids[3]})
	equalIDs(t, "limit", list(store.JobFilter{Limit: 2}), rev[:2])
	equalIDs(t, "no match", list(store.JobFilter{Channel: "nope"}), nil)

	dead := jobInfo(t, s, ids[1])
	if dead.Channel != ch || dead.Kind != store.KindOutbound || dead.Lane != "b" || dead.State != store.StateDead ||
		dead.Attempts != 1 || dead.LastError != "no such chat" || dead.UpdatedAt.Before(dead.CreatedAt) {
		t.Fatalf("dead job listed as %+v", dead)
	}
	if d := jobInfo(t, s, ids[4]); !d.NextAttempt.Equal(micro(later)) || d.Attempts != 0 || d.State != store.StatePending {
		t.Fatalf("delayed job listed as %+v", d)
	}
	if d := jobInfo(t, s, ids[3]); d.NextAttempt.After(time.Now()) || d.CreatedAt.Location() != time.UTC {
		t.Fatalf("due job listed as %+v", d)
	}
}

func testQueueStats(t *testing.T, s store.Store) {
	ids := enqueue(t, s,
		job("a"), // done below
		store.NewJob{Channel: ch, Kind: store.KindOutbound, Lane: "o"}, // dead below
		job("b"),
		job("c"),
		store.NewJob{Channel: "chan-b", Kind: store.KindUpdate, Lane: "a"},
	)
	// One at a time: a claim of two would take one job of each channel.
	first, second := claimOne(t, s), claimOne(t, s)
	equalIDs(t, "claimed", []int64{first.ID, second.ID}, ids[:2])
	complete(t, s, first, store.Batch{})
	noErr(t, "Kill", s.Kill(t.Context(), second, "x", store.Batch{}))
	stats, err := s.QueueStats(t.Context())
	noErr(t, "QueueStats", err)
	type key struct {
		channel string
		kind    store.Kind
		state   store.State
	}
	want := map[key]struct {
		count  int
		oldest int64
	}{
		{ch, store.KindUpdate, store.StatePending}:       {2, ids[2]},
		{ch, store.KindOutbound, store.StateDead}:        {1, ids[1]},
		{"chan-b", store.KindUpdate, store.StatePending}: {1, ids[4]},
	}
	if len(stats) != len(want) {
		t.Fatalf("QueueStats = %+v, want %d groups (done jobs not counted)", stats, len(want))
	}
	for _, st := range stats {
		w, ok := want[key{st.Channel, st.Kind, st.State}]
		if !ok || st.Count != w.count || !st.Oldest.Equal(jobInfo(t, s, w.oldest).CreatedAt) {
			t.Fatalf("QueueStats group %+v, want %+v (oldest: job %d)", st, w, w.oldest)
		}
	}
}

func testRequeue(t *testing.T, s store.Store) {
	ids := enqueue(t, s, job("a"), job("b"))
	a := claimOne(t, s)
	noErr(t, "Retry", s.Retry(t.Context(), a, time.Time{}, "try", false))
	a = claimOne(t, s)
	noErr(t, "Advance", s.Advance(t.Context(), a, 1, store.Batch{}))
	noErr(t, "Kill", s.Kill(t.Context(), a, "gave up", store.Batch{}))
	isErr(t, "Requeue(pending)", s.Requeue(t.Context(), ids[1]), store.ErrNotFound)
	isErr(t, "Requeue(unknown)", s.Requeue(t.Context(), ids[1]+100), store.ErrNotFound)
	noErr(t, "Requeue", s.Requeue(t.Context(), ids[0]))
	info := jobInfo(t, s, ids[0])
	if info.State != store.StatePending || info.Attempts != 0 || info.NextAttempt.After(time.Now()) {
		t.Fatalf("requeued job: %+v, want pending, due, attempts 0", info)
	}
	isErr(t, "Requeue(twice)", s.Requeue(t.Context(), ids[0]), store.ErrNotFound)
	got := claim(t, s, store.ClaimParams{Limit: 10})
	equalIDs(t, "after requeue", jobIDs(got), ids)
	if got[0].Attempts != 1 || got[0].Progress != 1 || got[0].LastError != "gave up" {
		t.Fatalf("requeued job claimed as %+v, want attempt 1, progress 1 and its last error kept", got[0])
	}
	complete(t, s, got[0], store.Batch{})
	isErr(t, "Requeue(done)", s.Requeue(t.Context(), ids[0]), store.ErrNotFound)
}

func testRequeueLane(t *testing.T, s store.Store) {
	ids := enqueue(t, s, job("chat:1"), job("chat:1"), job("chat:1"))
	first := claimOne(t, s)
	noErr(t, "Kill", s.Kill(t.Context(), first, "x", store.Batch{}))
	second := claimOne(t, s)
	if second.ID != ids[1] {
		t.Fatalf("claimed %d, want %d", second.ID, ids[1])
	}
	noErr(t, "Requeue", s.Requeue(t.Context(), ids[0]))
	// At most one job of a lane in flight: the requeued one waits.
	noClaim(t, s, "lane busy with a later job")
	complete(t, s, second, store.Batch{})
	// Then it is the lane's head, ahead of the third.
	equalIDs(t, "requeued head", claimIDs(t, s, 10), ids[:1])
}

func testDiscard(t *testing.T, s store.Store) {
	ids := enqueue(t, s, job("a"), job("b"), job("c"), job("d"), job("a"))
	jobs := claim(t, s, store.ClaimParams{Limit: 3}) // a, b, c
	noErr(t, "Kill", s.Kill(t.Context(), jobs[0], "x", store.Batch{}))
	complete(t, s, jobs[1], store.Batch{})
	// jobs[2] (c) stays leased; d and the second a are pending.
	noErr(t, "Discard(dead)", s.Discard(t.Context(), ids[0]))
	noErr(t, "Discard(pending)", s.Discard(t.Context(), ids[3]))
	isErr(t, "Discard(done)", s.Discard(t.Context(), ids[1]), store.ErrNotFound)
	if err := s.Discard(t.Context(), ids[2]); err == nil {
		t.Fatal("Discard(leased) succeeded")
	}
	isErr(t, "Discard(unknown)", s.Discard(t.Context(), ids[4]+100), store.ErrNotFound)
	isErr(t, "Discard(twice)", s.Discard(t.Context(), ids[0]), store.ErrNotFound)
	infos, err := s.ListJobs(t.Context(), store.JobFilter{})
	noErr(t, "ListJobs", err)
	var left []int64
	for _, j := range infos {
		left = append(left, j.ID)
	}
	equalIDs(t, "left after discards", left, []int64{ids[4], ids[2], ids[1]})
	// The leased one can be finished; a discarded one cannot.
	complete(t, s, jobs[2], store.Batch{})
	isErr(t, "Complete(discarded)", s.Complete(t.Context(), jobs[0], store.Batch{}), store.ErrLeaseLost)
}

func testPrune(t *testing.T, s store.Store) {
	ids := enqueue(t, s,
		store.NewJob{Channel: ch, Kind: store.KindUpdate, Lane: "a", DedupKey: "u1"},
		job("b"), job("c"), job("d"))
	jobs := claim(t, s, store.ClaimParams{Limit: 3})
	complete(t, s, jobs[0], store.Batch{})
	complete(t, s, jobs[1], store.Batch{})
	noErr(t, "Kill", s.Kill(t.Context(), jobs[2], "x", store.Batch{}))
	n, err := s.Prune(t.Context(), time.Now().Add(-time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("Prune(an hour ago) = %d, %v; want 0", n, err)
	}
	n, err = s.Prune(t.Context(), time.Now().Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("Prune(now) = %d, %v; want 2 done jobs", n, err)
	}
	infos, err := s.ListJobs(t.Context(), store.JobFilter{})
	noErr(t, "ListJobs", err)
	if len(infos) != 2 || infos[0].ID != ids[3] || infos[1].ID != ids[2] {
		t.Fatalf("left after Prune: %+v, want the pending and the dead job", infos)
	}
	// A pruned job's key is free again.
	if id := enqueue(t, s, store.NewJob{Channel: ch, Kind: store.KindUpdate, Lane: "a", DedupKey: "u1"})[0]; id == 0 {
		t.Fatal("dedup key of a pruned job still taken")
	}
}
