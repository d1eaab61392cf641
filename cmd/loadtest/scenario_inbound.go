package main

import (
	"context"
	"sync/atomic"
	"time"
)

// maxFloodRate bounds how many sequence numbers a flood may use: a flood
// of d seconds records at most d*maxFloodRate messages.
const maxFloodRate = 20000

// inboundFlood: `Concurrency` connections post text updates to the Telegram
// webhook as fast as the service answers, for `Duration`, each connection
// with its own chats so a chat's updates go one after another, as Telegram
// sends them. Then it waits for everything accepted to reach Turn.
func (wd *world) inboundFlood(ctx context.Context, p *poster, req runRequest) Result {
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
		// Worker w owns chats w, w+C, w+2C, ...: round robin over them.
		k := seq / req.Concurrency % perWorker
		chat := int64(chatBase + w + k*req.Concurrency)
		rec.chat[seq] = chat
		start := time.Now()
		rec.start.set(seq, rec.base, start)
		status, err := p.telegram(ctx, updateBody(seq, chat, start))
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
	return res
}

// inboundRate: updates arrive at the Telegram webhook at a fixed `Rate` for
// `Duration`, spread over `Chats` chats (one in flight per chat), then it
// waits for everything accepted to reach Turn.
func (wd *world) inboundRate(ctx context.Context, p *poster, req runRequest) Result {
	n := int(req.Rate * req.Duration.Seconds())
	rec := newRecorder(n)
	wd.rec.Store(rec)
	locks := newChatLocks(req.Chats)
	var t tally
	late := openLoop(ctx, req.Rate, n, 4096, func(seq int, due time.Time) {
		ci := seq % req.Chats
		chat := int64(chatBase + ci)
		rec.chat[seq] = chat
		rec.start.set(seq, rec.base, due)
		locks.lock(ci)
		defer locks.unlock(ci)
		status, err := p.telegram(ctx, updateBody(seq, chat, due))
		if t.count(status, err) {
			rec.accept.set(seq, rec.base, time.Now())
		}
	})
	res := Result{Sent: int(t.sent.Load()), Accepted: int(t.accepted.Load()), Rejected: int(t.rejected.Load()), Errors: int(t.errors.Load()), Late: late}
	rec.acceptStats(&res, n)
	wd.drain(ctx, rec, n, req.DrainLimit)
	rec.deliveryStats(&res, n)
	return res
}

// drain waits until every accepted seq below n was delivered, or limit.
func (wd *world) drain(ctx context.Context, rec *recorder, n int, limit time.Duration) {
	waitUntil(ctx, limit, func() bool {
		a, d := rec.deliveredCount(n)
		return d >= a
	})
}
