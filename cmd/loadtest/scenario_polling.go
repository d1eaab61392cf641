package main

import (
	"context"
	"sync"
	"time"
)

// pollingRate: updates reach the fake Telegram at a fixed `Rate` for
// `Duration` and the service fetches them with getUpdates. An update counts
// as accepted when the service's next getUpdates offset confirms it (the
// poller moves the offset only past stored updates).
func (wd *world) pollingRate(ctx context.Context, req runRequest) Result {
	n := int(req.Rate * req.Duration.Seconds())
	rec := newRecorder(n)
	wd.rec.Store(rec)
	stop := wd.watchPending()
	start := time.Now()
	late := 0
	for seq := range n {
		due := start.Add(time.Duration(float64(seq) / req.Rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				n = seq
			case <-t.C:
			}
			if ctx.Err() != nil {
				break
			}
		}
		if time.Since(due) > 10*time.Millisecond {
			late++
		}
		wd.push(rec, seq, req.Chats, due)
	}
	return wd.finishPolling(ctx, rec, n, req, stop, late)
}

// pollingFlood: `Count` updates reach the fake Telegram at once; the
// service fetches them with getUpdates.
func (wd *world) pollingFlood(ctx context.Context, req runRequest) Result {
	n := req.Count
	rec := newRecorder(n)
	wd.rec.Store(rec)
	stop := wd.watchPending()
	for seq := range n {
		wd.push(rec, seq, req.Chats, time.Now())
	}
	return wd.finishPolling(ctx, rec, n, req, stop, 0)
}

// push gives the fake one update for seq, holding the recorder's lock so a
// getUpdates offset cannot confirm it before its update id is known.
func (wd *world) push(rec *recorder, seq, chats int, due time.Time) {
	chat := int64(chatBase + seq%chats)
	rec.chat[seq] = chat
	rec.start.set(seq, rec.base, due)
	rec.mu.Lock()
	id := wd.tg.PushUpdate(botToken, updateBody(seq, chat, due))
	for len(rec.updateIDs) <= seq {
		rec.updateIDs = append(rec.updateIDs, 0)
	}
	rec.updateIDs[seq] = id
	rec.mu.Unlock()
}

func (wd *world) finishPolling(ctx context.Context, rec *recorder, n int, req runRequest, stopWatch func() int, late int) Result {
	waitUntil(ctx, req.DrainLimit, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return rec.confirmed >= n
	})
	maxPending := stopWatch()
	rec.mu.Lock()
	accepted := rec.confirmed
	rec.mu.Unlock()
	res := Result{Sent: n, Accepted: accepted, Late: late, MaxPending: maxPending}
	rec.acceptStats(&res, n)
	wd.drain(ctx, rec, n, req.DrainLimit)
	rec.deliveryStats(&res, n)
	return res
}

// watchPending samples how many updates wait at the fake every 20 ms; the
// returned func stops it and returns the most seen.
func (wd *world) watchPending() func() int {
	done := make(chan struct{})
	var wg sync.WaitGroup
	most := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				most = max(most, wd.tg.PendingUpdates(botToken))
			}
		}
	}()
	return func() int { close(done); wg.Wait(); return most }
}
