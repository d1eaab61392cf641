package app

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/turn-telegram/turn-telegram/store"
)

// metricsHandler serves the process-wide metrics with this run's
// collectors: the queue per channel and the collectors given (the webhook
// healer's).
func metricsHandler(st store.Operator, served func() []string, more ...prometheus.Collector) http.Handler {
	run := prometheus.NewRegistry()
	run.MustRegister(newQueueCollector(st, served, 5*time.Second), buildInfoGauge(BuildInfo()))
	for _, c := range more {
		run.MustRegister(c)
	}
	return promhttp.HandlerFor(prometheus.Gatherers{prometheus.DefaultGatherer, run}, promhttp.HandlerOpts{})
}

// buildInfoGauge is turn_telegram_build_info: 1, labelled with the build,
// so dashboards can show which version each replica runs.
func buildInfoGauge(b Build) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "turn_telegram_build_info",
		Help:        "The running build: always 1, labelled with its version, VCS revision and Go version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}

var (
	queueJobsDesc = prometheus.NewDesc("turn_telegram_queue_jobs",
		"Jobs waiting (pending) or dead-lettered (dead), per channel and kind.",
		[]string{"channel", "kind", "state"}, nil)
	queueOldestDesc = prometheus.NewDesc("turn_telegram_queue_oldest_seconds",
		"Age of the oldest job waiting (pending) or dead-lettered (dead), per channel and kind.",
		[]string{"channel", "kind", "state"}, nil)
)

// queueCollector exports store.QueueStats, read at most once per ttl so
// that frequent scrapes by several scrapers cost the database little. The
// channel label's values are the channels with jobs: bounded by the
// channels served (and those removed with jobs left).
type queueCollector struct {
	st     store.Operator
	served func() []string // channels whose series show even at 0
	ttl    time.Duration

	mu    sync.Mutex
	at    time.Time
	stats []store.QueueStat
}

func newQueueCollector(st store.Operator, served func() []string, ttl time.Duration) *queueCollector {
	return &queueCollector{st: st, served: served, ttl: ttl}
}

// queueKinds and queueStates are the series every served channel has, at 0
// when nothing waits, so that a dashboard shows an empty queue as 0 and not
// as no data.
var (
	queueKinds  = []store.Kind{store.KindUpdate, store.KindOutbound, store.KindStatus, store.KindFetch}
	queueStates = []store.State{store.StatePending, store.StateDead}
)

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueJobsDesc
	ch <- queueOldestDesc
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	q.mu.Lock()
	if time.Since(q.at) > q.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if stats, err := q.st.QueueStats(ctx); err == nil {
			q.stats, q.at = stats, time.Now()
		}
		cancel()
	}
	stats := q.stats
	q.mu.Unlock()
	now := time.Now()
	type series struct{ channel, kind, state string }
	seen := map[series]bool{}
	for _, s := range stats {
		seen[series{s.Channel, string(s.Kind), string(s.State)}] = true
		labels := []string{s.Channel, string(s.Kind), string(s.State)}
		ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(s.Count), labels...)
		ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, max(now.Sub(s.Oldest).Seconds(), 0), labels...)
	}
	for _, c := range q.served() {
		for _, k := range queueKinds {
			for _, st := range queueStates {
				if seen[series{c, string(k), string(st)}] {
					continue
				}
				ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, 0, c, string(k), string(st))
				ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, 0, c, string(k), string(st))
			}
		}
	}
}
