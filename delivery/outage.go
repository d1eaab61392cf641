package delivery

import (
	"log/slog"
	"sync"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// outages follows, per channel and job kind, runs of retryable failures,
// so that the end of an outage (Telegram or Turn down, a network cut) is
// one log line with its length, beside the per-attempt warnings that
// marked its start.
type outages struct {
	mu   sync.Mutex
	open map[outageKey]*outage
}

type outageKey struct {
	channel string
	kind    store.Kind
}

type outage struct {
	since    time.Time
	failures int
}

// failed records a retryable failure.
func (o *outages) failed(channel string, kind store.Kind, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.open == nil {
		o.open = map[outageKey]*outage{}
	}
	k := outageKey{channel, kind}
	if o.open[k] == nil {
		o.open[k] = &outage{since: at}
	}
	o.open[k].failures++
}

// succeeded ends an outage of the channel and kind, if one was open, and
// logs it.
func (o *outages) succeeded(log *slog.Logger, channel string, kind store.Kind, at time.Time) {
	o.mu.Lock()
	k := outageKey{channel, kind}
	out := o.open[k]
	delete(o.open, k)
	o.mu.Unlock()
	if out != nil {
		log.Info("deliveries succeed again", "channel", channel, "kind", kind,
			"failed_attempts", out.failures, "outage", at.Sub(out.since).Round(time.Millisecond).String())
	}
}
