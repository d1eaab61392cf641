package store

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// claimSettings is ClaimParams with its defaults applied.
type claimSettings struct {
	worker string
	kinds  []string
	limit  int
	lease  time.Duration
	token  string // random prefix of this claim's tokens: a job's token is "<prefix>-<id>"

	perChannel int      // cap of jobs per channel in the caller's hands
	heldCh     []string // channels the caller holds jobs of
	heldN      []int32  // how many, for each of heldCh
	after      string   // only channels after this one
	channels   int      // at most this many channels are looked at
	next       *string  // ClaimParams.Resume
}

func newClaimSettings(p ClaimParams) (claimSettings, error) {
	c := claimSettings{worker: p.Worker, limit: p.Limit, lease: p.Lease, kinds: []string{}}
	if c.limit <= 0 {
		c.limit = 1
	}
	if c.lease <= 0 {
		c.lease = DefaultLease
	}
	for _, k := range p.Kinds {
		c.kinds = append(c.kinds, string(k))
	}
	c.heldCh, c.heldN = []string{}, []int32{}
	c.perChannel = p.PerChannel
	if c.perChannel <= 0 || c.perChannel > c.limit {
		c.perChannel = c.limit
	}
	for ch, n := range p.Held {
		c.heldCh, c.heldN = append(c.heldCh, ch), append(c.heldN, int32(n))
	}
	c.after, c.next = p.After, p.Resume
	// Channels whose jobs are all waiting (not due, leased, other kinds)
	// use up a look without giving a job: look at more than the limit.
	// Those beyond are looked at by the next claim (see resume).
	c.channels = max(2*c.limit, 16)
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return c, fmt.Errorf("lease token: %w", err)
	}
	c.token = hex.EncodeToString(b[:])
	return c, nil
}

// sortJobs orders claimed jobs as Claim promises: priority, then id.
func sortJobs(jobs []Job) {
	slices.SortFunc(jobs, func(a, b Job) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// room is how many more jobs of channel this claim may give.
func (c claimSettings) room(channel string) int {
	for i, ch := range c.heldCh {
		if ch == channel {
			return max(0, c.perChannel-int(c.heldN[i]))
		}
	}
	return c.perChannel
}

// resume tells the caller where its next claim starts: after the last
// channel served when the claim filled up (its later channels wait for
// their turn), after the last channel looked at when there were more to
// look at, and from the first otherwise. channels are those looked at, in
// order; jobs those claimed.
func (c claimSettings) resume(channels []string, jobs []Job) {
	if c.next == nil {
		return
	}
	*c.next = ""
	switch {
	case len(jobs) == c.limit:
		at := map[string]int{}
		for i, ch := range channels {
			at[ch] = i
		}
		last := -1
		for _, j := range jobs {
			last = max(last, at[j.Channel])
		}
		if last < len(channels)-1 || len(channels) == c.channels {
			*c.next = channels[last]
		}
	case len(channels) == c.channels:
		*c.next = channels[len(channels)-1]
	}
}
