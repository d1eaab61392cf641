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
		Help: "Delivery attempts by job kind and outcome class (ok, retryable, throttled, permanent, gone).",
	}, []string{"kind", "result"})
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

func observe(kind store.Kind, start time.Time, err error) {
	k := string(kind)
	attemptSeconds.WithLabelValues(k).Observe(time.Since(start).Seconds())
	result := "ok"
	if err != nil {
		c, _ := ClassOf(err)
		result = c.String()
	}
	attempts.WithLabelValues(k, result).Inc()
}
