package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var fairCases = []conformanceCase{
	{"ClaimTakesChannelsInTurn", testClaimTurns},
	{"ClaimPerChannelCap", testClaimCap},
	{"ClaimConversationFirstAcrossChannels", testClaimPriorityAcross},
	{"ClaimAfterChannel", testClaimAfter},
	{"ClaimResumeGoesRound", testClaimResume},
	{"GroupCommitUnderConcurrency", testGroupCommit},
	{"GroupCommitLeaseLostAlone", testGroupLeaseLost},
	{"StaleFinishLeavesReceiptsUnread", testStaleReceipts},
}

// jobsOf is n jobs of channel, each in its own lane.
func jobsOf(channel string, n, priority int) []store.NewJob {
	jobs := make([]store.NewJob, n)
	for i := range jobs {
		jobs[i] = store.NewJob{Channel: channel, Kind: store.KindOutbound, Lane: fmt.Sprintf("out:%d", i), Priority: priority}
	}
	return jobs
}

func channelsOf(jobs []store.Job) map[string]int {
	n := map[string]int{}
	for _, j := range jobs {
		n[j.Channel]++
	}
	return n
}

func testClaimTurns(t *testing.T, s store.Store) {
	backlog := enqueue(t, s, jobsOf("big", 50, 10)...) // queued first
	enqueue(t, s, jobsOf("small", 2, 10)...)
	got := channelsOf(claim(t, s, store.ClaimParams{Limit: 4}))
	if got["big"] != 2 || got["small"] != 2 {
		t.Fatalf("a claim of 4 took %v; want 2 of each channel (the older backlog does not come first)", got)
	}
	// Alone, a channel has every slot.
	rest := claim(t, s, store.ClaimParams{Limit: 100})
	if n := channelsOf(rest)["big"]; n != len(backlog)-2 || len(rest) != n {
		t.Fatalf("then %d jobs of big (%v), want %d", n, channelsOf(rest), len(backlog)-2)
	}
}

func testClaimCap(t *testing.T, s store.Store) {
	enqueue(t, s, jobsOf("big", 20, 10)...)
	enqueue(t, s, jobsOf("other", 20, 10)...)
	got := channelsOf(claim(t, s, store.ClaimParams{Limit: 10, PerChannel: 3}))
	if got["big"] != 3 || got["other"] != 3 {
		t.Fatalf("cap 3: claimed %v", got)
	}
	got = channelsOf(claim(t, s, store.ClaimParams{Limit: 10, PerChannel: 3, Held: map[string]int{"big": 3, "other": 1}}))
	if got["big"] != 0 || got["other"] != 2 {
		t.Fatalf("cap 3 with big holding 3 and other 1: claimed %v", got)
	}
}

func testClaimPriorityAcross(t *testing.T, s store.Store) {
	enqueue(t, s, jobsOf("broadcast", 30, 10)...)
	want := enqueue(t, s, store.NewJob{Channel: "talk", Kind: store.KindOutbound, Lane: "out:1", Priority: 0})
	equalIDs(t, "conversation of another channel first", claimIDs(t, s, 1), want)
}

func testClaimAfter(t *testing.T, s store.Store) {
	a := enqueue(t, s, jobsOf("a", 1, 0)...)
	b := enqueue(t, s, jobsOf("b", 1, 0)...)
	c := enqueue(t, s, jobsOf("c", 1, 0)...)
	got := claim(t, s, store.ClaimParams{Limit: 10, After: "a"})
	ids := []int64{}
	for _, j := range got {
		ids = append(ids, j.ID)
	}
	slices.Sort(ids)
	equalIDs(t, "after a", ids, append(b, c...))
	equalIDs(t, "from the start", claimIDs(t, s, 10), a)
}

// testGroupCommit enqueues and finishes from many goroutines at once, so
// that writes share transactions: every caller gets its own ids, lanes
// keep their order, duplicates of one dedup key get one job.
func testGroupCommit(t *testing.T, s store.Store) {
	const writers, each = 16, 20
	var wg sync.WaitGroup
	ids := make([][]int64, writers)
	dups := make([]int64, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				got, err := s.Enqueue(t.Context(), store.Batch{Jobs: []store.NewJob{
					{Channel: ch, Kind: store.KindUpdate, Lane: fmt.Sprintf("w%d", w)},
					{Channel: ch, Kind: store.KindUpdate, Lane: fmt.Sprintf("w%d", w)},
				}})
				if err != nil || len(got) != 2 || got[0] == 0 || got[1] <= got[0] {
					t.Errorf("Enqueue: %v, %v", got, err)
					return
				}
				ids[w] = append(ids[w], got...)
				if i == 0 {
					d, err := s.Enqueue(t.Context(), store.Batch{Jobs: []store.NewJob{
						{Channel: ch, Kind: store.KindUpdate, Lane: "dup", DedupKey: "same"}}})
					if err != nil {
						t.Errorf("Enqueue(dup): %v", err)
						return
					}
					dups[w] = d[0]
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seen := map[int64]bool{}
	for w := range writers {
		if !slices.IsSorted(ids[w]) {
			t.Fatalf("writer %d: ids out of order %v", w, ids[w])
		}
		for _, id := range ids[w] {
			if seen[id] {
				t.Fatalf("id %d given twice", id)
			}
			seen[id] = true
		}
	}
	if n := len(slices.DeleteFunc(dups, func(id int64) bool { return id == 0 })); n != 1 {
		t.Fatalf("%d writers got a job for one dedup key, want 1", n)
	}
	// Finish them all concurrently; each lane comes out in order.
	c := newLaneChecker(t)
	work(t, []store.Store{s}, c, 8, 8, writers*each*2+1)
	c.check(writers*each*2 + 1)
}

// testGroupLeaseLost: a stale finish in a group fails alone, with none of
// its writes, and the others in the group are applied.
func testGroupLeaseLost(t *testing.T, s store.Store) {
	completeStaleAndGood(t, s,
		store.Batch{Maps: []store.MessageMap{{Channel: ch, ChatID: 1, TelegramID: 1, TurnID: "stale"}}},
		store.Batch{Maps: []store.MessageMap{{Channel: ch, ChatID: 2, TelegramID: 2, TurnID: "good"}}})
	if _, err := s.TurnID(t.Context(), ch, 1, 1); err == nil {
		t.Fatal("a stale Complete's writes were applied")
	}
	if got, err := s.TurnID(t.Context(), ch, 2, 2); err != nil || got != "good" {
		t.Fatalf("the good Complete's map: %q, %v", got, err)
	}
}

// testStaleReceipts: a stale finish that carries read receipts, alone or in
// a group, marks nothing read: a later receipt still reports the message.
func testStaleReceipts(t *testing.T, s store.Store) {
	_, err := s.Enqueue(t.Context(), store.Batch{Sent: []store.Sent{{Channel: ch, ChatID: 3, TurnID: "m1"}}})
	noErr(t, "Enqueue(sent)", err)
	completeStaleAndGood(t, s, store.Batch{Receipts: []store.Receipts{receiptsOf(ch, 3, time.Time{})}}, store.Batch{})
	if got := statusJobs(t, s, ch); len(got) != 0 {
		t.Fatalf("a stale Complete queued statuses: %+v", got)
	}
	_, err = s.Enqueue(t.Context(), store.Batch{Receipts: []store.Receipts{receiptsOf(ch, 3, time.Time{})}})
	noErr(t, "Enqueue(receipts)", err)
	if got := statusJobs(t, s, ch); len(got) != 2 || got[0].TurnID != "m1" {
		t.Fatalf("the message a stale Complete would have read: %+v", got)
	}
}

// testClaimResume: claims that start where the previous one stopped go
// round every channel in key order, also past channels with nothing to
// claim, and then start again from the first.
func testClaimResume(t *testing.T, s store.Store) {
	var want []string
	for i := range 40 {
		channel := fmt.Sprintf("c%02d", i)
		if i < 30 {
			// Nothing claimable: its one job is not due.
			j := jobsOf(channel, 1, 0)[0]
			j.NotBefore = time.Now().Add(time.Hour)
			enqueue(t, s, j)
			continue
		}
		enqueue(t, s, jobsOf(channel, 2, 0)...)
		want = append(want, channel, channel)
	}
	var got []string
	after := ""
	for range 100 {
		var resume string
		jobs := claim(t, s, store.ClaimParams{Limit: 1, After: after, Resume: &resume})
		for _, j := range jobs {
			got = append(got, j.Channel)
		}
		if len(got) == len(want) {
			break
		}
		after = resume
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("claims following Resume took %v, want %v", got, want)
	}
}

// completeStaleAndGood claims two jobs and completes them at once, so that
// the completions can share a group: the first with a stale lease token and
// stale, which must fail with ErrLeaseLost, the second with good.
func completeStaleAndGood(t *testing.T, s store.Store, stale, good store.Batch) {
	t.Helper()
	enqueue(t, s, job("a"), job("b"))
	jobs := claim(t, s, store.ClaimParams{Limit: 2})
	old := jobs[0]
	old.Token = "not-the-lease"
	var wg sync.WaitGroup
	var errStale, errGood error
	wg.Go(func() { errStale = s.Complete(t.Context(), old, stale) })
	wg.Go(func() { errGood = s.Complete(t.Context(), jobs[1], good) })
	wg.Wait()
	isErr(t, "stale Complete", errStale, store.ErrLeaseLost)
	noErr(t, "Complete", errGood)
}
