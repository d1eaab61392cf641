package store

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	dto "github.com/prometheus/client_model/go"
)

// Group commit figures: writes per commit is what group commit buys.
var (
	groupCommits = promauto.NewCounter(prometheus.CounterOpts{
		Name: "turn_telegram_store_commits_total",
		Help: "Transactions committed by the store's group committer.",
	})
	groupWrites = promauto.NewCounter(prometheus.CounterOpts{
		Name: "turn_telegram_store_committed_writes_total",
		Help: "Queue writes (enqueues and job state changes) committed by the group committer; divided by turn_telegram_store_commits_total, the mean group size.",
	})
)

// GroupStats returns the commits and writes the group committers of this
// process have made so far (for the load test's report).
func GroupStats() (commits, writes float64) {
	return counterValue(groupCommits), counterValue(groupWrites)
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
