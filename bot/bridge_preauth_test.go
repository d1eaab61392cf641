package bot_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// TestUnauthenticatedBodiesBounded: 200 callers at once post 1 MiB bodies
// without a valid signature. The bodies held before their signature is
// checked stay within a bounded budget (the heap grows by less than 64 MB),
// every caller is refused (401, or 503 while the budget is used), and a
// signed message is accepted meanwhile.
func TestUnauthenticatedBodiesBounded(t *testing.T) {
	// Serial, store after store: it measures the process's heap, and the
	// pre-authentication budget is the process's too.
	eachStoreSerial(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		body := bytes.Repeat([]byte("x"), 1<<20-1)
		url := h.srv.URL + "/channels/" + numberID + "/turn"
		client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: 200}}

		runtime.GC()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(sample)
		base := sample[0].Value.Uint64()
		var peak atomic.Uint64
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		})

		// Every caller sends all but the last byte, then stalls until all
		// have sent that much (or 3 s passed): their bodies are in flight
		// at once, as from callers that trickle.
		var wg sync.WaitGroup
		var refused, busy, other atomic.Int32
		var sent sync.WaitGroup
		sent.Add(200)
		allSent := make(chan struct{})
		go func() { sent.Wait(); close(allSent) }()
		for range 200 {
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write(body[:len(body)-1])
				sent.Done()
				select {
				case <-allSent:
				case <-time.After(3 * time.Second):
				}
				_, _ = pw.Write(body[len(body)-1:])
				pw.Close()
			}()
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, url, pr)
				req.ContentLength = int64(len(body))
				req.Header.Set("X-Turn-Hook-Signature", "bm90IHRoZSBzaWduYXR1cmU=")
				resp, err := client.Do(req)
				if err != nil {
					other.Add(1)
					return
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusUnauthorized:
					refused.Add(1)
				case http.StatusServiceUnavailable:
					busy.Add(1)
				default:
					other.Add(1)
				}
			})
		}
		h.sendTurnOK(textPayload(chatID, "signed, in the middle of the flood"))
		wg.Wait()
		close(stop)
		sampler.Wait()
		if n := other.Load(); n != 0 {
			t.Errorf("%d unauthenticated calls got neither 401 nor 503", n)
		}
		if refused.Load() == 0 {
			t.Error("no call was refused 401: the bodies were never read")
		}
		if grew := int64(peak.Load()) - int64(base); grew > 64<<20 {
			t.Errorf("heap grew by %d MB during 200 unauthenticated 1 MiB bodies, want < 64", grew>>20)
		}
		t.Logf("401: %d, 503: %d; heap peak %d MB over %d MB", refused.Load(), busy.Load(), (peak.Load()-base)>>20, base>>20)
	})
}
