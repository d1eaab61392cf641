package storetest

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// requestCases: Accept applies a Turn request once and answers a repeat
// with the first acceptance's message id.
var requestCases = []conformanceCase{
	{"AcceptRepeatWritesNothing", testAcceptRepeat},
	{"AcceptDistinctRequests", testAcceptDistinct},
	{"AcceptConcurrentRepeats", func(t *testing.T, s store.Store) { concurrentAccepts(t, []store.Store{s}) }},
	{"AcceptOutlivesPrune", testAcceptOutlivesPrune},
}

func digest(body string) []byte {
	d := sha256.Sum256([]byte(body))
	return d[:]
}

// accepted is what a Turn message writes: its outbound job and a callback.
func accepted(turnID string, chat int64) store.Batch {
	return store.Batch{
		Jobs: []store.NewJob{{Channel: ch, Kind: store.KindOutbound, Lane: fmt.Sprintf("chat:%d", chat), Payload: []byte(turnID)}},
		Callbacks: []store.Callback{{Channel: ch, Key: "cb-" + turnID, Group: turnID, ChatID: chat, TurnID: turnID,
			Reply: "button_reply", ReplyID: "yes", Title: "Yes"}},
	}
}

func accept(t *testing.T, s store.Store, channel, body, turnID string) string {
	t.Helper()
	got, err := s.Accept(t.Context(), store.Request{Channel: channel, Digest: digest(body), TurnID: turnID}, accepted(turnID, 7))
	if err != nil {
		t.Fatalf("Accept(%q as %s): %v", body, turnID, err)
	}
	return got
}

func outboundJobs(t *testing.T, s store.Store) int {
	t.Helper()
	jobs, err := s.ListJobs(t.Context(), store.JobFilter{Channel: ch, Kind: store.KindOutbound})
	if err != nil {
		t.Fatal(err)
	}
	return len(jobs)
}

func testAcceptRepeat(t *testing.T, s store.Store) {
	if got := accept(t, s, ch, `{"text":"hi"}`, "turn-1"); got != "turn-1" {
		t.Fatalf("first Accept = %q, want its own id turn-1", got)
	}
	for i := range 3 {
		if got := accept(t, s, ch, `{"text":"hi"}`, fmt.Sprintf("turn-r%d", i)); got != "turn-1" {
			t.Fatalf("repeat %d = %q, want the first id turn-1", i, got)
		}
	}
	if n := outboundJobs(t, s); n != 1 {
		t.Fatalf("%d outbound jobs after a request and 3 repeats, want 1", n)
	}
	if _, _, err := s.UseCallback(t.Context(), ch, 7, "cb-turn-r0", 0); err == nil {
		t.Fatal("a repeat's callback was stored")
	}
	if _, _, err := s.UseCallback(t.Context(), ch, 7, "cb-turn-1", 0); err != nil {
		t.Fatalf("the first acceptance's callback: %v", err)
	}
	// A repeat whose batch is invalid is refused like any other.
	if _, err := s.Accept(t.Context(), store.Request{Channel: ch, Digest: digest("x"), TurnID: ""}, store.Batch{}); err == nil {
		t.Fatal("Accept without a TurnID succeeded")
	}
}

func testAcceptDistinct(t *testing.T, s store.Store) {
	accept(t, s, ch, `{"text":"hi"}`, "turn-1")
	// Another body, even one meaning the same, is another message.
	if got := accept(t, s, ch, `{"text": "hi"}`, "turn-2"); got != "turn-2" {
		t.Fatalf("another body = %q, want its own id", got)
	}
	// The same body to another channel is that channel's message.
	got, err := s.Accept(t.Context(), store.Request{Channel: "chan-b", Digest: digest(`{"text":"hi"}`), TurnID: "turn-3"},
		store.Batch{Jobs: []store.NewJob{{Channel: "chan-b", Kind: store.KindOutbound, Lane: "chat:7"}}})
	if err != nil || got != "turn-3" {
		t.Fatalf("same body, other channel = %q, %v; want turn-3", got, err)
	}
	if n := outboundJobs(t, s); n != 2 {
		t.Fatalf("%d outbound jobs of %s, want 2", n, ch)
	}
}

// concurrentAccepts: Turn's retry may arrive while the first call is
// still being written, at this process or another; however the calls meet
// (one group, several, several databases' connections), one is applied and
// all answer its id.
func concurrentAccepts(t *testing.T, stores []store.Store) {
	const n = 16
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			turnID := fmt.Sprintf("turn-%d", i)
			got, err := stores[i%len(stores)].Accept(t.Context(),
				store.Request{Channel: ch, Digest: digest(`{"text":"same"}`), TurnID: turnID}, accepted(turnID, 7))
			if err != nil {
				t.Errorf("Accept %d: %v", i, err)
			}
			ids[i] = got
		})
	}
	wg.Wait()
	s := stores[0]
	for i, id := range ids {
		if id != ids[0] {
			t.Fatalf("call %d answered %q, call 0 %q: one request, two ids", i, id, ids[0])
		}
	}
	if got := outboundJobs(t, s); got != 1 {
		t.Fatalf("%d outbound jobs after %d concurrent identical requests, want 1", got, n)
	}
}

func testAcceptOutlivesPrune(t *testing.T, s store.Store) {
	accept(t, s, ch, `{"text":"hi"}`, "turn-1")
	if _, err := s.Prune(t.Context(), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := accept(t, s, ch, `{"text":"hi"}`, "turn-2"); got != "turn-1" {
		t.Fatalf("after Prune a repeat = %q, want turn-1: requests are kept for RequestWindow", got)
	}
}
