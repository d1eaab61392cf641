package channels

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
)

// perSecond counts times by whole second after base.
func perSecond(base time.Time, ts []time.Time) map[int64]int {
	out := map[int64]int{}
	for _, t := range ts {
		out[int64(t.Sub(base)/time.Second)]++
	}
	return out
}

// TestHealerSpreadsChecks checks, with seeded randomness and no clock, that
// the checks of 1,000 channels watched at the same moment (a replica
// starting) spread over an interval after the first one instead of
// recurring as one burst every interval, and stay spread.
func TestHealerSpreadsChecks(t *testing.T) {
	const n = 1000
	interval := time.Minute
	h := NewHealer(HealerConfig{Interval: interval, Rand: rand.New(rand.NewPCG(13, 5)).Float64})
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	due := make([]time.Time, n)
	for i := range due {
		due[i] = h.next(start, true) // every first check ran at start
		if d := due[i].Sub(start); d < interval/2 || d >= 3*interval/2 {
			t.Fatalf("second check %v after the first, want 0.5 to 1.5 intervals", d)
		}
	}
	mean := float64(n) / interval.Seconds()
	check := func(what string, ts []time.Time, from, to time.Duration) {
		t.Helper()
		counts := perSecond(start, ts)
		for s := int64(from / time.Second); s < int64(to/time.Second); s++ {
			if c := counts[s]; float64(c) > 2.5*mean {
				t.Errorf("%s: %d checks in second %d, over 2.5 times the mean %.1f", what, c, s, mean)
			}
		}
	}
	// Over the second checks' window the rate is half the steady one: check
	// against the steady mean all the same.
	check("second checks", due, interval/2, 3*interval/2)
	for range 10 {
		for i, d := range due {
			due[i] = h.next(d, false)
			if gap := due[i].Sub(d); gap < 9*interval/10 || gap >= 11*interval/10 {
				t.Fatalf("check %v after the last, want 0.9 to 1.1 intervals", gap)
			}
		}
	}
	// After ten more checks each, any one-interval window sees every channel
	// about once, at about the mean rate.
	window := due
	lo, hi := due[0], due[0]
	for _, d := range due {
		if d.Before(lo) {
			lo = d
		}
		if d.After(hi) {
			hi = d
		}
	}
	if spread := hi.Sub(lo); spread < interval {
		t.Errorf("the 12th checks span %v, want over an interval", spread)
	}
	check("12th checks", window, lo.Sub(start), hi.Sub(start))
}

// TestHealerCheckBounds checks the extremes of the randomness.
func TestHealerCheckBounds(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		r     float64
		first bool
		want  time.Duration
	}{
		{0, true, 30 * time.Second}, {0.5, true, 60 * time.Second}, {0.999, true, 89940 * time.Millisecond},
		{0, false, 54 * time.Second}, {0.5, false, 60 * time.Second}, {0.999, false, 65988 * time.Millisecond},
	} {
		h := NewHealer(HealerConfig{Interval: time.Minute, Rand: func() float64 { return tc.r }})
		if got := h.next(now, tc.first).Sub(now); got.Round(time.Millisecond) != tc.want {
			t.Errorf("rand %v, first %t: next check after %v, want %v", tc.r, tc.first, got, tc.want)
		}
	}
}

// TestHealerRewatchKeepsSchedule checks that a channel's new version with
// the same webhook keeps its check schedule (rotate-key re-seals every
// channel at once), and that a changed webhook is checked at once.
func TestHealerRewatchKeepsSchedule(t *testing.T) {
	h := NewHealer(HealerConfig{Interval: time.Minute})
	cfg := bot.ChannelConfig{Key: "clinic", TelegramToken: "1:a", TelegramAPIURL: "http://tg", WebhookSecret: "s1", TurnToken: "t1"}
	h.Watch(&bot.Channel{Config: cfg})
	if w := h.watched["clinic"]; !w.due.IsZero() {
		t.Fatalf("a new channel is due %v, want at once", w.due)
	}
	planned := time.Date(2025, 1, 1, 0, 0, 42, 0, time.UTC)
	h.watched["clinic"].due = planned
	cfg.TurnToken = "t2"
	h.Watch(&bot.Channel{Config: cfg})
	if w := h.watched["clinic"]; !w.due.Equal(planned) || w.ch.Config.TurnToken != "t2" {
		t.Fatalf("after a new Turn token: due %v, token %q; want %v and the new configuration", w.due, w.ch.Config.TurnToken, planned)
	}
	cfg.WebhookSecret = "s2"
	h.Watch(&bot.Channel{Config: cfg})
	if w := h.watched["clinic"]; !w.due.IsZero() {
		t.Fatalf("after a new webhook secret: due %v, want at once", w.due)
	}
}

// TestHealerCheckRate checks the pace of checks: four times the mean rate
// of the watched webhooks, at least 10 a second.
func TestHealerCheckRate(t *testing.T) {
	for _, tc := range []struct {
		n        int
		interval time.Duration
		want     float64
	}{
		{0, time.Minute, 10}, {1, 50 * time.Millisecond, 80}, {100, time.Minute, 10},
		{1000, time.Minute, 4000.0 / 60}, {10000, time.Minute, 40000.0 / 60},
	} {
		if got := float64(checkRate(tc.n, tc.interval)); got != tc.want {
			t.Errorf("%d webhooks every %v: %v checks a second, want %v", tc.n, tc.interval, got, tc.want)
		}
	}
}
