package bot

import (
	"sync/atomic"
	"time"
)

// storeOutage remembers when the webhooks' writes started failing (the
// database unreachable), so that its end is one log line with its length.
type storeOutage struct{ since atomic.Int64 } // unix nanoseconds; 0: none

func (o *storeOutage) failed() { o.since.CompareAndSwap(0, time.Now().UnixNano()) }

func (s *Service) storeWritten() {
	if since := s.outage.since.Swap(0); since != 0 {
		s.opt.Logger.Info("the store accepts writes again; the webhooks take traffic",
			"outage", time.Since(time.Unix(0, since)).Round(time.Millisecond).String())
	}
}
