package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Dist summarises a latency distribution, in milliseconds.
type Dist struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// distOf sorts ds (in place) and summarises it; percentiles are the
// nearest-rank values, so p99 of 100 samples is the 99th smallest.
func distOf(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ms(ds[min(max(i, 0), len(ds)-1)])
	}
	return Dist{
		N:    len(ds),
		Mean: ms(sum / time.Duration(len(ds))),
		P50:  rank(0.50),
		P95:  rank(0.95),
		P99:  rank(0.99),
		Max:  ms(ds[len(ds)-1]),
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (d Dist) String() string {
	if d.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (n=%d)",
		fmtMS(d.P50), fmtMS(d.P95), fmtMS(d.P99), fmtMS(d.Max), d.N)
}

func fmtMS(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2fs", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// rateOver is events per second over the span between the first and last
// of sorted times (n-1 intervals), or 0 when it cannot be told.
func rateOver(sorted []time.Duration) float64 {
	if len(sorted) < 2 || sorted[len(sorted)-1] <= sorted[0] {
		return 0
	}
	return float64(len(sorted)-1) / (sorted[len(sorted)-1] - sorted[0]).Seconds()
}

// steadyRate is rateOver on the middle 80 % of sorted times: the rate once
// a drain is under way, without the first burst and the last stragglers.
func steadyRate(sorted []time.Duration) float64 {
	n := len(sorted)
	if n < 20 {
		return rateOver(sorted)
	}
	return rateOver(sorted[n/10 : n-n/10])
}

// maxWindowRate is the most events seen in any window of w (sliding over
// the events), divided by w: how far a sender ever ran ahead of its rate.
func maxWindowRate(sorted []time.Duration, w time.Duration) float64 {
	best, j := 0, 0
	for i := range sorted {
		for sorted[i]-sorted[j] >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return float64(best) / w.Seconds()
}
