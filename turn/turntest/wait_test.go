package turntest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/turn"
)

func TestWaitMessagesAndStatuses(t *testing.T) {
	s := newServer(t)
	c := turn.NewClient(s.URL, number, token, s.Client())
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * time.Millisecond)
			if err := c.SendMessage(context.Background(), textMessage(fmt.Sprint("m", i))); err != nil {
				t.Error(err)
			}
			if err := c.SendStatus(context.Background(), &turn.Status{Status: turn.StatusObject{ID: fmt.Sprint("o", i), Status: "delivered", Timestamp: "1"}}); err != nil {
				t.Error(err)
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	msgs, err := s.WaitMessages(ctx, number, n)
	if err != nil || len(msgs) != n {
		t.Fatalf("WaitMessages: %d, %v", len(msgs), err)
	}
	sts, err := s.WaitStatuses(ctx, number, n)
	if err != nil || len(sts) != n {
		t.Fatalf("WaitStatuses: %d, %v", len(sts), err)
	}
	wg.Wait()
}

func TestWaitTimesOut(t *testing.T) {
	s := newServer(t)
	wantSuccess(t, postJSON(t, s, messagesPath, inbound(validMessages["text"])))

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	got, err := s.WaitMessages(ctx, number, 2)
	if !errors.Is(err, context.DeadlineExceeded) || len(got) != 1 {
		t.Fatalf("got %d, err %v; want the one message and a deadline error", len(got), err)
	}
	if want := "turntest: got 1 of 2 messages for " + number + ": context deadline exceeded"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if _, err := s.WaitStatuses(ctx, "unknown", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("statuses of an unknown number: %v", err)
	}
}
