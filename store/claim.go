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
