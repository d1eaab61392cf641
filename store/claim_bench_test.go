package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// BenchmarkClaimBacklog: what one claim of 32 costs with a backlog of 100,000 jobs waiting, shaped three ways:
// a broadcast (every job its own lane), thousands of channels, and a few
// deep lanes (where the jobs behind each lane's head are walked past).
func BenchmarkClaimBacklog(b *testing.B) {
	const backlog = 100_000
	shapes := []struct {
		name string
		job  func(i int) store.NewJob
	}{
		{"broadcast", func(i int) store.NewJob {
			return store.NewJob{Channel: "bench", Kind: store.KindOutbound, Lane: fmt.Sprintf("out:%d", i), Priority: 10}
		}},
		{"2000_channels", func(i int) store.NewJob {
			return store.NewJob{Channel: fmt.Sprintf("ch-%04d", i%2000), Kind: store.KindOutbound, Lane: fmt.Sprintf("out:%d", i/2000)}
		}},
		{"100_deep_lanes", func(i int) store.NewJob {
			return store.NewJob{Channel: "bench", Kind: store.KindUpdate, Lane: fmt.Sprintf("in:%d", i%100)}
		}},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			fill := func(b *testing.B, s store.Store) {
				const chunk = 1000
				for i := 0; i < backlog; i += chunk {
					jobs := make([]store.NewJob, 0, chunk)
					for j := i; j < i+chunk; j++ {
						jobs = append(jobs, sh.job(j))
					}
					if _, err := s.Enqueue(b.Context(), store.Batch{Jobs: jobs}); err != nil {
						b.Fatal(err)
					}
				}
			}
			benchEach(b, fill, func(b *testing.B, s store.Store) {
				claimed := 0
				for range b.N {
					jobs, err := s.Claim(b.Context(), store.ClaimParams{Worker: "bench", Limit: 32, Lease: time.Minute})
					if err != nil || len(jobs) == 0 {
						b.Fatalf("Claim: %d jobs, %v", len(jobs), err)
					}
					claimed += len(jobs)
					// Only the claim is timed; the completions (concurrent,
					// so they share commits) keep the backlog moving.
					b.StopTimer()
					var wg sync.WaitGroup
					for _, j := range jobs {
						wg.Go(func() {
							if err := s.Complete(b.Context(), j, store.Batch{}); err != nil {
								b.Error(err)
							}
						})
					}
					wg.Wait()
					b.StartTimer()
				}
				b.ReportMetric(float64(claimed)/float64(b.N), "jobs/claim")
			})
		})
	}
}
