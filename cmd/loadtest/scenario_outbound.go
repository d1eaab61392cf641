package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// outboundFlood: `Concurrency` connections post signed journey messages to
// the Turn webhook as fast as the service answers, for `Duration`, each
// with its own chats. The service sends to Telegram meanwhile at its
// configured rate; what it has not sent when the drain limit passes stays
// queued (this scenario measures acceptance, broadcast measures sending).
func (wd *world) outboundFlood(ctx context.Context, p *poster, req runRequest) Result {
	n := int(req.Duration.Seconds()*maxFloodRate) + 1
	rec := newRecorder(n)
	wd.rec.Store(rec)
	var next atomic.Int64
	var t tally
	perWorker := max(1, req.Chats/req.Concurrency)
	closedLoop(ctx, req.Concurrency, time.Now().Add(req.Duration), func(ctx context.Context, w int) bool {
		seq := int(next.Add(1) - 1)
		if seq >= n {
			return false
		}
		k := seq / req.Concurrency % perWorker
		chat := int64(chatBase + w + k*req.Concurrency)
		rec.chat[seq] = chat
		rec.start.set(seq, rec.base, time.Now())
		status, err := p.turn(ctx, turnText(seq, chat))
		if t.count(status, err) {
			rec.accept.set(seq, rec.base, time.Now())
		}
		return true
	})
	sent := min(int(next.Load()), n)
	res := Result{Sent: int(t.sent.Load()), Accepted: int(t.accepted.Load()), Rejected: int(t.rejected.Load()), Errors: int(t.errors.Load())}
	rec.acceptStats(&res, sent)
	wd.drain(ctx, rec, sent, req.DrainLimit)
	rec.deliveryStats(&res, sent)
	if res.Lost > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d accepted messages were still queued for Telegram's rate limit when the run ended (not waited for: this scenario measures acceptance)", res.Lost))
		res.Lost = 0
	}
	return res
}

// broadcast: `Count` journey messages, one to each of `Count` chats, posted
// to the Turn webhook by `Concurrency` connections as fast as the service
// answers; the service sends them under the fake's rate limit (SendRate,
// which the service is configured with too). It waits until every accepted
// message reached Telegram, or the drain limit.
func (wd *world) broadcast(ctx context.Context, p *poster, req runRequest) Result {
	n := req.Count
	rec := newRecorder(n)
	wd.rec.Store(rec)
	var next atomic.Int64
	var t tally
	// Posting is bounded too: what the service has not taken in after ten
	// minutes is left out.
	closedLoop(ctx, req.Concurrency, time.Now().Add(10*time.Minute), func(ctx context.Context, _ int) bool {
		seq := int(next.Add(1) - 1)
		if seq >= n {
			return false
		}
		chat := int64(broadcastBase + seq)
		rec.chat[seq] = chat
		rec.start.set(seq, rec.base, time.Now())
		status, err := p.turn(ctx, turnText(seq, chat))
		if t.count(status, err) {
			rec.accept.set(seq, rec.base, time.Now())
		}
		return true
	})
	res := Result{Sent: int(t.sent.Load()), Accepted: int(t.accepted.Load()), Rejected: int(t.rejected.Load()), Errors: int(t.errors.Load())}
	rec.acceptStats(&res, n)
	wd.drain(ctx, rec, n, req.DrainLimit)
	rec.deliveryStats(&res, n)
	return res
}
