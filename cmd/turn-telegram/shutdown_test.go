package main

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// TestGracefulShutdown stops a service as SIGTERM does while it sends, and
// starts another on the same store: every accepted message reaches Telegram,
// in order per chat. Sends in flight finish when the deadline allows (and
// then nothing is sent twice); when it does not, they are released at once
// to the next process instead of waiting out their leases.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs services with slow fakes")
	}
	for _, tc := range []struct {
		name     string
		latency  time.Duration // of every Telegram call, while the first service runs
		timeout  string        // SHUTDOWN_TIMEOUT
		chats    int
		perChat  int
		released bool // the deadline cuts sends: the first service releases them
	}{
		{"in-flight sends finish", 300 * time.Millisecond, "10s", 3, 4, false},
		{"the deadline cuts sends", 3 * time.Second, "300ms", 6, 1, true},
	} {
		for _, db := range []string{"sqlite", "postgres"} {
			t.Run(tc.name+"/"+db, func(t *testing.T) {
				f := newFakes(t)
				e := f.baseEnv(t)
				e["SHUTDOWN_TIMEOUT"] = tc.timeout
				e["DELIVERY_LEASE"] = "10m" // only a release hands the work over in time
				if db == "postgres" {
					e["DATABASE_URL"] = storetest.PostgresURL(t)
				}
				first := startService(t, e)
				f.tg.SetLatency(tc.latency)

				const chatBase = int64(880000)
				for i := range tc.perChat {
					for c := range tc.chats {
						sendTurn(t, f, first.url, fmt.Sprintf(`{"to":"%d","turn":{"type":"text","text":{"body":"m%d"}}}`, chatBase+int64(c), i))
					}
				}
				if tc.released {
					time.Sleep(500 * time.Millisecond) // let the engine claim: the sends are now in flight
				} else {
					eventually(t, "a first message was sent", func() bool {
						for c := range tc.chats {
							if len(f.tg.Sent(chatBase+int64(c))) > 0 {
								return true
							}
						}
						return false
					})
				}
				if code := first.stop(t); code != 0 {
					t.Fatalf("the first service exited %d; log:\n%s", code, first.log.String())
				}
				log := first.log.String()
				if released := strings.Contains(log, "released unfinished jobs to other replicas"); released != tc.released {
					t.Errorf("released unfinished jobs: %t, want %t; log:\n%s", released, tc.released, log)
				}
				if !tc.released && strings.Contains(log, "could not record job outcome") {
					t.Errorf("an in-flight send was cut although the deadline allowed it to finish; log:\n%s", log)
				}

				f.tg.SetLatency(0)
				second := maps.Clone(e)
				second["LISTEN_ADDR"] = freeAddr(t)
				next := startService(t, second)
				for c := range tc.chats {
					chat := chatBase + int64(c)
					eventually(t, fmt.Sprintf("chat %d got its %d messages", chat, tc.perChat), func() bool {
						distinct := map[string]bool{}
						for _, m := range f.tg.Sent(chat) {
							distinct[m.Text] = true
						}
						return len(distinct) == tc.perChat
					})
					var got []string
					for _, m := range f.tg.Sent(chat) {
						got = append(got, m.Text)
					}
					var want []string
					for i := range tc.perChat {
						want = append(want, fmt.Sprintf("m%d", i))
					}
					if strings.Join(got, ",") != strings.Join(want, ",") {
						t.Errorf("chat %d got %v, want %v: once each, in order", chat, got, want)
					}
				}
				checkNoSecrets(t, log+next.log.String())
			})
		}
	}
}
