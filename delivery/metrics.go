package delivery

import (
	"time"

	"github.com/turn-telegram/turn-telegram/store"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	attempts = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_job_attempts_total",
		Help: "Delivery attempts per channel, by job kind (update, outbound, status, fetch) and outcome class (ok, retryable, throttled, permanent, gone).",
	}, []string{"channel", "kind", "result"})
	attemptSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "turn_telegram_job_attempt_seconds",
		Help:    "Time spent on one delivery attempt, by job kind.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
	}, []string{"kind"})
	deadJobs = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_jobs_dead_total",
		Help: "Jobs moved to the dead-letter state, by kind.",
	}, []string{"kind"})
)

// kinds and results are the label values every series starts with, at 0,
// so that an alert on an increase sees the first event.
var (
	kinds   = []store.Kind{store.KindUpdate, store.KindOutbound, store.KindStatus, store.KindFetch}
	results = []string{"ok", "retryable", "throttled", "permanent", "gone"}
)

func init() {
	for _, k := range kinds {
		deadJobs.WithLabelValues(string(k)).Add(0)
		attemptSeconds.WithLabelValues(string(k))
	}
}

// StartChannel creates a channel's attempt series at 0.
func StartChannel(channel string) {
	for _, k := range kinds {
		for _, r := range results {
			attempts.WithLabelValues(channel, string(k), r).Add(0)
		}
	}
}

// ForgetChannel drops a channel's series once it is no longer served.
func ForgetChannel(channel string) {
	attempts.DeletePartialMatch(prometheus.Labels{"channel": channel})
}

func observe(channel string, kind store.Kind, start time.Time, err error) {
	k := string(kind)
	attemptSeconds.WithLabelValues(k).Observe(time.Since(start).Seconds())
	result := "ok"
	if err != nil {
		c, _ := ClassOf(err)
		result = c.String()
	}
	attempts.WithLabelValues(channel, k, result).Inc()
}
