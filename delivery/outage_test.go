package delivery

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// TestOutageEnd: the first success after retryable failures of a channel
// and kind logs the outage's end once, with its length; other channels and
// kinds are followed apart.
func TestOutageEnd(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	var o outages
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	o.failed("a", store.KindOutbound, t0)
	o.failed("a", store.KindOutbound, t0.Add(2*time.Second))
	o.failed("b", store.KindUpdate, t0)
	o.succeeded(log, "a", store.KindUpdate, t0.Add(3*time.Second)) // another kind: nothing
	o.succeeded(log, "a", store.KindOutbound, t0.Add(5*time.Second))
	o.succeeded(log, "a", store.KindOutbound, t0.Add(6*time.Second)) // already closed
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1:\n%s", len(lines), buf.String())
	}
	var got struct {
		Msg      string `json:"msg"`
		Channel  string `json:"channel"`
		Kind     string `json:"kind"`
		Failed   int    `json:"failed_attempts"`
		Duration string `json:"outage"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Msg != "deliveries succeed again" || got.Channel != "a" || got.Kind != "outbound" || got.Failed != 2 || got.Duration != "5s" {
		t.Errorf("logged %+v", got)
	}
	if o.open[outageKey{"b", store.KindUpdate}] == nil {
		t.Error("channel b's outage was closed by channel a's success")
	}
}
