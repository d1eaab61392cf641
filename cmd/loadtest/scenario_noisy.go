package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Chats of noisy-neighbour.
const (
	hangBase   = 60_000_000 // channel A: messages whose media link hangs
	convoBase  = 70_000_000 // channel B: the people in conversation
	convoChats = 5          // B's people take turns: one message a second in all
)

// NoisyResult is what noisy-neighbour measured beyond the common figures,
// which are channel A's broadcast.
type NoisyResult struct {
	// Channel A's messages whose media link hangs.
	Hangs         int   `json:"hangs"`          // posted
	HangsAccepted int   `json:"hangs_accepted"` // accepted by the Turn webhook
	HangsHeld     int64 `json:"hangs_held"`     // GETs of the links the world held open
	HangsSent     int   `json:"hangs_sent"`     // reached Telegram anyway (nothing to send: expect 0)

	ADrained     bool    `json:"a_drained"`      // every accepted broadcast message reached Telegram within the limit
	Conversation float64 `json:"conversation_s"` // how long B's people wrote

	In  Leg `json:"in"`  // B: Telegram webhook post -> the fake Turn accepted the message
	Out Leg `json:"out"` // B: Turn webhook post -> the fake Telegram accepted the message

	TooManyA int `json:"too_many_a"` // 429s the fake Telegram answered bot A
	TooManyB int `json:"too_many_b"` // ... and bot B
}

// Leg is one direction of B's conversation.
type Leg struct {
	Sent     int  `json:"sent"`
	Accepted int  `json:"accepted"`
	Accept   Dist `json:"accept"`
	// Delivered reached the other fake; Undelivered were accepted but had
	// not when the run ended. EndToEnd holds both: an undelivered message
	// counts with its age at the end of the run, a lower bound of its
	// latency, so a starved channel cannot look fast by losing its tail.
	Delivered   int  `json:"delivered"`
	Undelivered int  `json:"undelivered"`
	EndToEnd    Dist `json:"e2e"`
	Over1s      int  `json:"over_1s"`      // end to end over a second (or undelivered then)
	WorstP99    Dist `json:"worst_window"` // the 10 s window (by post time) with the highest p99
}

// noisyNeighbour: two channels in one connector. Channel A first takes
// `Hangs` documents whose media links hang, then a broadcast of `Count`
// messages, one per chat, posted by `Concurrency` connections and sent at
// its bot's limit (SendRate). Meanwhile, from the start, channel B is a
// conversation: once a second a person writes (an update to B's Telegram
// webhook) and, half a second later, the journey answers that person (a
// signed webhook to B's Turn route). It runs until A's broadcast has
// reached Telegram or `Limit` passes; then B's last messages get
// `DrainLimit` to arrive and the hanging links are cut.
func (wd *world) noisyNeighbour(ctx context.Context, p *poster, req runRequest) Result {
	a, b := loadChannels[0], loadChannels[1]
	n, hangs := req.Count, req.Hangs
	ticks := int(req.Limit.Seconds()) + 2
	// One recorder, one range of seqs per stream.
	hLo := n
	inLo := hLo + hangs
	outLo := inLo + ticks
	rec := newRecorder(outLo + ticks)
	wd.rec.Store(rec)
	nr := &NoisyResult{Hangs: hangs}

	host, err := startMediaHost(nil)
	if err != nil {
		return Result{Notes: []string{"media host: " + err.Error()}, Noisy: nr}
	}
	defer host.close()
	deadline := time.Now().Add(req.Limit)

	// B's conversation, at a fixed rate from now, measured from when each
	// message was due.
	convo, stopConvo := context.WithCancel(ctx)
	defer stopConvo()
	var in, out tally
	var wg sync.WaitGroup
	convoStart := time.Now()
	wg.Add(2)
	go func() {
		defer wg.Done()
		openLoop(convo, 1, ticks, 64, func(i int, due time.Time) {
			seq, chat := inLo+i, int64(convoBase+i%convoChats)
			rec.chat[seq] = chat
			rec.start.set(seq, rec.base, due)
			status, err := p.telegramTo(ctx, b, updateBody(seq, chat, due))
			if in.count(status, err) {
				rec.accept.set(seq, rec.base, time.Now())
			}
		})
	}()
	go func() {
		defer wg.Done()
		t := time.NewTimer(500 * time.Millisecond)
		defer t.Stop()
		select {
		case <-convo.Done():
			return
		case <-t.C:
		}
		openLoop(convo, 1, ticks, 64, func(i int, due time.Time) {
			seq, chat := outLo+i, int64(convoBase+i%convoChats)
			rec.chat[seq] = chat
			rec.start.set(seq, rec.base, due)
			status, err := p.turnTo(ctx, b, turnText(seq, chat))
			if out.count(status, err) {
				rec.accept.set(seq, rec.base, time.Now())
			}
		})
	}()

	// A: the hanging documents first, so they are at the head of the queue.
	var hung tally
	var hwg sync.WaitGroup
	for i := range hangs {
		seq, chat := hLo+i, int64(hangBase+i)
		rec.chat[seq] = chat
		body := turnDocument(seq, chat, fmt.Sprintf("%s/hang/%d", host.url, i), fmt.Sprintf("hang-%d.pdf", i), "application/pdf")
		hwg.Add(1)
		go func() {
			defer hwg.Done()
			rec.start.set(seq, rec.base, time.Now())
			status, err := p.turnTo(ctx, a, body)
			if hung.count(status, err) {
				rec.accept.set(seq, rec.base, time.Now())
			}
		}()
	}
	hwg.Wait()
	nr.HangsAccepted = int(hung.accepted.Load())

	// A: the broadcast, as the broadcast scenario posts it.
	var next atomic.Int64
	var t tally
	closedLoop(ctx, req.Concurrency, deadline, func(ctx context.Context, _ int) bool {
		seq := int(next.Add(1) - 1)
		if seq >= n {
			return false
		}
		chat := int64(broadcastBase + seq)
		rec.chat[seq] = chat
		rec.start.set(seq, rec.base, time.Now())
		status, err := p.turnTo(ctx, a, turnText(seq, chat))
		if t.count(status, err) {
			rec.accept.set(seq, rec.base, time.Now())
		}
		return true
	})
	res := Result{Sent: int(t.sent.Load()), Accepted: int(t.accepted.Load()), Rejected: int(t.rejected.Load()), Errors: int(t.errors.Load())}
	posted := min(int(next.Load()), n)
	rec.acceptStats(&res, posted)
	nr.ADrained = waitUntil(ctx, time.Until(deadline), func() bool {
		acc, del := rec.deliveredCount(posted)
		return del >= acc
	})

	// Stop B's people, give their last messages time to arrive, then cut
	// the hanging links.
	stopConvo()
	wg.Wait()
	nr.Conversation = time.Since(convoStart).Seconds()
	waitUntil(ctx, req.DrainLimit, func() bool {
		return rec.rangeSettled(inLo, inLo+ticks) && rec.rangeSettled(outLo, outLo+ticks)
	})
	end := time.Since(rec.base)
	host.close()
	nr.HangsHeld = host.held.Load()

	rec.deliveryStats(&res, posted)
	for i := range hangs {
		if _, ok := rec.deliver.get(hLo + i); ok {
			nr.HangsSent++
		}
	}
	nr.In = rec.leg(inLo, inLo+ticks, end, &in)
	nr.Out = rec.leg(outLo, outLo+ticks, end, &out)
	nr.TooManyA = wd.tg.TooManyRequestsFor(a.botToken)
	nr.TooManyB = wd.tg.TooManyRequestsFor(b.botToken)
	res.Noisy = nr
	if !nr.ADrained {
		res.Notes = append(res.Notes, fmt.Sprintf("channel A's broadcast had not drained when the %s limit passed", req.Limit))
	}
	return res
}

// rangeSettled reports whether every accepted seq in [lo, hi) was
// delivered.
func (r *recorder) rangeSettled(lo, hi int) bool {
	for seq := lo; seq < min(hi, r.n); seq++ {
		if _, ok := r.accept.get(seq); ok {
			if _, ok := r.deliver.get(seq); !ok {
				return false
			}
		}
	}
	return true
}

// leg summarises seqs [lo, hi) as one direction of a conversation; end is
// when the run ended, since base.
func (r *recorder) leg(lo, hi int, end time.Duration, t *tally) Leg {
	l := Leg{Sent: int(t.sent.Load()), Accepted: int(t.accepted.Load())}
	var acc, e2e []time.Duration
	windows := map[time.Duration][]time.Duration{}
	for seq := lo; seq < min(hi, r.n); seq++ {
		s, ok := r.start.get(seq)
		if !ok {
			continue
		}
		a, ok := r.accept.get(seq)
		if !ok {
			continue
		}
		acc = append(acc, a-s)
		d, ok := r.deliver.get(seq)
		if ok {
			l.Delivered++
		} else {
			l.Undelivered++
			d = end
		}
		lat := d - s
		if lat > time.Second {
			l.Over1s++
		}
		e2e = append(e2e, lat)
		w := s.Truncate(10 * time.Second)
		windows[w] = append(windows[w], lat)
	}
	l.Accept, l.EndToEnd = distOf(acc), distOf(e2e)
	for _, ds := range windows {
		if d := distOf(ds); d.P99 > l.WorstP99.P99 || l.WorstP99.N == 0 {
			l.WorstP99 = d
		}
	}
	return l
}
