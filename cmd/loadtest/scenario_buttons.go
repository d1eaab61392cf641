package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// buttons: in each of `Chats` chats at once, for `Duration`, a journey asks
// a question with two reply buttons; as soon as Telegram has the message,
// the person presses one; the round trip ends when Turn has the button
// reply. Presses reach the service through the fake's webhook delivery.
func (wd *world) buttons(ctx context.Context, p *poster, req runRequest) Result {
	// Each round trip takes at least one of a chat's sends, which the
	// service paces at one a second (after a burst of three).
	n := req.Chats*(int(req.Duration.Seconds())+4)*2 + 16
	rec := newRecorder(n)
	offered := make(map[int64]chan pressable, req.Chats)
	replied := make(map[int64]chan int, req.Chats)
	for i := range req.Chats {
		offered[int64(chatBase+i)] = make(chan pressable, 4)
		replied[int64(chatBase+i)] = make(chan int, 4)
	}
	rec.replied = func(seq int) {
		if seq < n {
			if c, ok := replied[rec.chat[seq]]; ok {
				select {
				case c <- seq:
				default:
				}
			}
		}
	}
	rec.buttons = func(p pressable) {
		if c, ok := offered[p.chat]; ok {
			select {
			case c <- p:
			default:
			}
		}
	}
	wd.rec.Store(rec)
	var next atomic.Int64
	var t tally
	var timeouts atomic.Int64
	deadline := time.Now().Add(req.Duration)
	var wg sync.WaitGroup
	for i := range req.Chats {
		chat := int64(chatBase + i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				seq := int(next.Add(1) - 1)
				if seq >= n {
					return
				}
				rec.chat[seq] = chat
				rec.start.set(seq, rec.base, time.Now())
				status, err := p.turn(ctx, turnButtons(seq, chat))
				if !t.count(status, err) {
					continue
				}
				rec.accept.set(seq, rec.base, time.Now())
				var pr pressable
				select {
				case pr = <-offered[chat]:
				case <-time.After(10 * time.Second):
					timeouts.Add(1)
					return
				}
				rec.press.set(seq, rec.base, time.Now())
				wd.tg.PressButton(botToken, pr.chat, pr.msgID, pr.data)
				select {
				case <-replied[chat]:
				case <-time.After(10 * time.Second):
					timeouts.Add(1)
					return
				}
			}
		}()
	}
	wg.Wait()
	used := min(int(next.Load()), n)
	res := Result{Sent: int(t.sent.Load()), Accepted: int(t.accepted.Load()), Rejected: int(t.rejected.Load()), Errors: int(t.errors.Load())}
	rec.acceptStats(&res, used)
	var out, press, rt []time.Duration
	for seq := range used {
		s, ok1 := rec.start.get(seq)
		d, ok2 := rec.deliver.get(seq)
		pr, ok3 := rec.press.get(seq)
		r, ok4 := rec.reply.get(seq)
		if ok1 && ok2 {
			out = append(out, d-s)
		}
		if ok3 && ok4 {
			press = append(press, r-pr)
		}
		if ok1 && ok4 {
			rt = append(rt, r-s)
		}
	}
	res.RoundTrips = len(rt)
	res.Outbound, res.PressToTurn, res.RoundTrip = distOf(out), distOf(press), distOf(rt)
	res.Delivered = len(out)
	res.Answered, res.Edited = int(rec.answered.Load()), int(rec.edited.Load())
	res.Statuses = int(rec.statuses.Load())
	res.TurnRejected = int(rec.turnRej.Load())
	res.TelegramRefused = int(rec.tgRefused.Load())
	res.Duplicates = int(rec.duplicates.Load())
	if n := timeouts.Load(); n > 0 {
		res.Lost = int(n)
		res.Notes = append(res.Notes, "round trips that timed out after 10 s count as lost")
	}
	return res
}
