package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

var channelCases = []conformanceCase{
	{"ChannelCreateAndRead", testChannelCreate},
	{"ChannelReplaceNeedsCurrentVersion", testChannelReplace},
	{"ChannelOneBotOneChannel", testChannelBotUnique},
	{"ChannelByBot", testChannelByBot},
	{"ChannelDeleteLeavesTombstone", testChannelDelete},
	{"ChannelsSinceVersion", testChannelsSince},
	{"ChannelConcurrentCreate", testChannelConcurrentCreate},
	{"ReleaseLeases", testReleaseLeases},
	{"CheckSchema", testCheckSchema},
}

// sealed is binary like a ciphertext: zero bytes and high bytes included.
var sealed = []byte{0x01, 0x00, 0xff, 0x7f, 0x00, 0x80, 'x'}

func channelRec(key string, botID int64) store.ChannelRecord {
	return store.ChannelRecord{
		Key: key, BotID: botID, Info: []byte(`{"bot_username":"` + key + `_bot"}`), Sealed: sealed, KeyID: "k1",
	}
}

func putChannel(t *testing.T, s store.Store, rec store.ChannelRecord) store.ChannelRecord {
	t.Helper()
	got, err := s.PutChannel(t.Context(), rec)
	noErr(t, "PutChannel", err)
	return got
}

func sameChannel(t *testing.T, what string, got, want store.ChannelRecord) {
	t.Helper()
	if got.Key != want.Key || got.BotID != want.BotID || !bytes.Equal(got.Info, want.Info) ||
		!bytes.Equal(got.Sealed, want.Sealed) || got.KeyID != want.KeyID || got.Disabled != want.Disabled ||
		got.Deleted != want.Deleted || got.Version != want.Version ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

func testChannelCreate(t *testing.T, s store.Store) {
	before := micro(time.Now())
	rec := channelRec("alpha", 111)
	rec.Disabled = true
	got := putChannel(t, s, rec)
	if got.Version <= 0 || got.CreatedAt.Before(before) || !got.UpdatedAt.Equal(got.CreatedAt) ||
		got.CreatedAt.Location() != time.UTC {
		t.Fatalf("created %+v: want a positive version and both times now, in UTC", got)
	}
	rec.Version, rec.CreatedAt, rec.UpdatedAt = got.Version, got.CreatedAt, got.UpdatedAt
	sameChannel(t, "PutChannel's answer", got, rec)

	read, err := s.Channel(t.Context(), "alpha")
	noErr(t, "Channel", err)
	sameChannel(t, "Channel", read, rec)
	all, err := s.Channels(t.Context(), 0)
	noErr(t, "Channels", err)
	if len(all) != 1 {
		t.Fatalf("Channels(0) = %d records, want 1", len(all))
	}
	sameChannel(t, "Channels", all[0], rec)

	_, err = s.Channel(t.Context(), "beta")
	isErr(t, "Channel of an unknown key", err, store.ErrNotFound)
	_, err = s.PutChannel(t.Context(), channelRec("alpha", 222))
	isErr(t, "creating a key that exists", err, store.ErrConflict)
	for _, bad := range []store.ChannelRecord{{Info: []byte(`{}`)}, {Key: "x"}, {Key: "x", Info: []byte(`{}`), Version: -1}} {
		if _, err := s.PutChannel(t.Context(), bad); err == nil {
			t.Fatalf("PutChannel(%+v) accepted an invalid record", bad)
		}
	}
}

func testChannelReplace(t *testing.T, s store.Store) {
	first := putChannel(t, s, channelRec("alpha", 111))
	next := first
	next.Sealed, next.KeyID, next.Info, next.Disabled = []byte("resealed"), "k2", []byte(`{"n":2}`), true
	second := putChannel(t, s, next)
	if second.Version <= first.Version || !second.CreatedAt.Equal(first.CreatedAt) || second.UpdatedAt.Before(first.UpdatedAt) {
		t.Fatalf("replaced %+v over %+v: want a higher version, the same creation time, a later update", second, first)
	}
	read, err := s.Channel(t.Context(), "alpha")
	noErr(t, "Channel", err)
	sameChannel(t, "after replace", read, second)

	_, err = s.PutChannel(t.Context(), first) // a writer that has not seen `second`
	isErr(t, "replacing with a stale version", err, store.ErrConflict)
	ghost := channelRec("ghost", 0)
	ghost.Version = 7
	_, err = s.PutChannel(t.Context(), ghost)
	isErr(t, "replacing a channel that does not exist", err, store.ErrConflict)
	read, err = s.Channel(t.Context(), "alpha")
	noErr(t, "Channel", err)
	sameChannel(t, "after refused writes", read, second)
}

func testChannelBotUnique(t *testing.T, s store.Store) {
	putChannel(t, s, channelRec("alpha", 111))
	_, err := s.PutChannel(t.Context(), channelRec("beta", 111))
	isErr(t, "a second channel for bot 111", err, store.ErrConflict)
	// Unknown bots (0) do not collide.
	putChannel(t, s, channelRec("gamma", 0))
	putChannel(t, s, channelRec("delta", 0))
	// Removing the channel frees its bot.
	noErr(t, "DeleteChannel", s.DeleteChannel(t.Context(), "alpha"))
	putChannel(t, s, channelRec("beta", 111))
}

func testChannelDelete(t *testing.T, s store.Store) {
	created := putChannel(t, s, channelRec("alpha", 111))
	noErr(t, "DeleteChannel", s.DeleteChannel(t.Context(), "alpha"))
	_, err := s.Channel(t.Context(), "alpha")
	isErr(t, "Channel after delete", err, store.ErrNotFound)
	isErr(t, "deleting again", s.DeleteChannel(t.Context(), "alpha"), store.ErrNotFound)
	isErr(t, "deleting an unknown key", s.DeleteChannel(t.Context(), "nope"), store.ErrNotFound)

	changes, err := s.Channels(t.Context(), created.Version)
	noErr(t, "Channels", err)
	if len(changes) != 1 {
		t.Fatalf("Channels after delete = %+v, want one tombstone", changes)
	}
	tomb := changes[0]
	if tomb.Key != "alpha" || !tomb.Deleted || tomb.Version <= created.Version || len(tomb.Sealed) != 0 || len(tomb.Info) != 0 {
		t.Fatalf("tombstone %+v: want alpha, deleted, a later version, no secrets, no info", tomb)
	}
	// A stale writer cannot bring it back; a creation can.
	_, err = s.PutChannel(t.Context(), created)
	isErr(t, "replacing a removed channel", err, store.ErrConflict)
	again := putChannel(t, s, channelRec("alpha", 111))
	if again.Version <= tomb.Version || again.Deleted {
		t.Fatalf("re-created %+v after tombstone %+v", again, tomb)
	}
	read, err := s.Channel(t.Context(), "alpha")
	noErr(t, "Channel", err)
	sameChannel(t, "re-created", read, again)
}

func testChannelsSince(t *testing.T, s store.Store) {
	a := putChannel(t, s, channelRec("alpha", 1))
	b := putChannel(t, s, channelRec("beta", 2))
	a2 := a
	a2.KeyID = "k2"
	a2 = putChannel(t, s, a2)
	if !(a.Version < b.Version && b.Version < a2.Version) {
		t.Fatalf("versions %d, %d, %d: want increasing with every write", a.Version, b.Version, a2.Version)
	}
	keys := func(since int64) []string {
		t.Helper()
		recs, err := s.Channels(t.Context(), since)
		noErr(t, "Channels", err)
		var out []string
		for i, r := range recs {
			if i > 0 && r.Version <= recs[i-1].Version {
				t.Fatalf("Channels(%d) not ordered by version: %+v", since, recs)
			}
			out = append(out, fmt.Sprintf("%s@%d", r.Key, r.Version))
		}
		return out
	}
	for _, tc := range []struct {
		since int64
		want  []string
	}{
		{0, []string{fmt.Sprintf("beta@%d", b.Version), fmt.Sprintf("alpha@%d", a2.Version)}},
		{a.Version, []string{fmt.Sprintf("beta@%d", b.Version), fmt.Sprintf("alpha@%d", a2.Version)}},
		{b.Version, []string{fmt.Sprintf("alpha@%d", a2.Version)}},
		{a2.Version, nil},
	} {
		if got := keys(tc.since); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Channels(%d) = %v, want %v", tc.since, got, tc.want)
		}
	}
}

func testChannelConcurrentCreate(t *testing.T, s store.Store) {
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.PutChannel(t.Context(), channelRec("alpha", int64(100+i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		default:
			isErr(t, "a losing concurrent create", err, store.ErrConflict)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent creates of one key succeeded, want 1", ok, writers)
	}
}

func testReleaseLeases(t *testing.T, s store.Store) {
	ids := enqueue(t, s, job("a"), job("b"), job("c"))
	mine := claim(t, s, store.ClaimParams{Worker: "stopping", Limit: 2, Lease: time.Hour})
	other := claim(t, s, store.ClaimParams{Worker: "staying", Limit: 1, Lease: time.Hour})
	if len(mine) != 2 || len(other) != 1 {
		t.Fatalf("claimed %d and %d jobs, want 2 and 1", len(mine), len(other))
	}
	n, err := s.ReleaseLeases(t.Context(), "stopping")
	noErr(t, "ReleaseLeases", err)
	if n != 2 {
		t.Fatalf("ReleaseLeases released %d jobs, want 2", n)
	}
	// Claimable at once by another process, the interrupted attempt not counted.
	again := claim(t, s, store.ClaimParams{Worker: "taker", Limit: 10})
	equalIDs(t, "claimed after release", jobIDs(again), jobIDs(mine))
	for _, j := range again {
		if j.Attempts != 1 {
			t.Fatalf("job %d claimed again with attempts %d, want 1", j.ID, j.Attempts)
		}
	}
	// The stopping process's late result is refused; the other's job is untouched.
	isErr(t, "completing a released job", s.Complete(t.Context(), mine[0], store.Batch{}), store.ErrLeaseLost)
	complete(t, s, other[0], store.Batch{})
	if n, err := s.ReleaseLeases(t.Context(), "stopping"); err != nil || n != 0 {
		t.Fatalf("second ReleaseLeases = %d, %v; want 0, nil", n, err)
	}
	if _, err := s.ReleaseLeases(t.Context(), ""); err == nil {
		t.Fatal("ReleaseLeases without a worker name succeeded")
	}
	if got := jobInfo(t, s, ids[2]); got.State != store.StateDone || other[0].ID != ids[2] {
		t.Fatalf("the staying worker's job %d ended %s, want done", ids[2], got.State)
	}
}

func testCheckSchema(t *testing.T, s store.Store) {
	noErr(t, "CheckSchema of a migrated store", s.CheckSchema(t.Context()))
}

func testChannelByBot(t *testing.T, s store.Store) {
	a := putChannel(t, s, channelRec("alpha", 111))
	putChannel(t, s, channelRec("beta", 222))
	got, err := s.ChannelByBot(t.Context(), 111)
	noErr(t, "ChannelByBot(111)", err)
	sameChannel(t, "ChannelByBot(111)", got, a)
	for _, id := range []int64{333, 0} {
		if _, err := s.ChannelByBot(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ChannelByBot(%d) = %v, want ErrNotFound", id, err)
		}
	}
	// A disabled channel still holds its bot; a removed one does not.
	b, err := s.Channel(t.Context(), "beta")
	noErr(t, "Channel(beta)", err)
	b.Disabled = true
	putChannel(t, s, b)
	if got, err := s.ChannelByBot(t.Context(), 222); err != nil || got.Key != "beta" || !got.Disabled {
		t.Fatalf("ChannelByBot of a disabled channel = %+v, %v", got, err)
	}
	noErr(t, "DeleteChannel", s.DeleteChannel(t.Context(), "beta"))
	if _, err := s.ChannelByBot(t.Context(), 222); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ChannelByBot of a removed channel's bot = %v, want ErrNotFound", err)
	}
}
