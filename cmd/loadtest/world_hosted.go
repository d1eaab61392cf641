package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

// hostedBot is hosted channel i as the fakes and the operator know it:
// its bot, and the Turn channel it is bound to. The webhook secret is the
// service's own (channels.Registry.Add makes it), so updates reach the
// service through the fake's webhook delivery, as Telegram's do.
type hostedBot struct {
	key, token, username, number, turnToken, hmacSecret string
}

func hostedChannel(i int) hostedBot {
	return hostedBot{
		key:        fmt.Sprintf("hosted_%05d_bot", i),
		token:      fmt.Sprintf("72%08d:AAhostedLOADtest%08dxyz", i, i),
		username:   fmt.Sprintf("hosted_%05d_bot", i),
		number:     fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		turnToken:  fmt.Sprintf("hosted-turn-token-%05d-0123456789", i),
		hmacSecret: fmt.Sprintf("hosted-hmac-secret-%05d-0123456789", i),
	}
}

// Chats of the hosted scenario's traffic: one person per busy channel
// writes, and the journey answers another.
const (
	hostedInBase  = 80_000_000
	hostedOutBase = 81_000_000
)

// hostedCalls counts the Bot API calls the fake Telegram answered, per
// method and wall-clock second: the healer's getWebhookInfo calls are
// judged by how they spread over the seconds.
type hostedCalls struct {
	mu     sync.Mutex
	counts map[string]map[int64]int
}

func (h *hostedCalls) add(method string, at time.Time) {
	switch method {
	case "getWebhookInfo", "setWebhook", "getMe":
	default:
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.counts == nil {
		h.counts = map[string]map[int64]int{}
	}
	m := h.counts[method]
	if m == nil {
		m = map[int64]int{}
		h.counts[method] = m
	}
	m[at.Unix()]++
}

func (h *hostedCalls) snapshot() map[string]map[int64]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]map[int64]int{}
	for k, m := range h.counts {
		c := map[int64]int{}
		for s, n := range m {
			c[s] = n
		}
		out[k] = c
	}
	return out
}

// hostedSetup makes the bots and Turn numbers of hosted channels 0..Count-1
// known to the fakes.
func (wd *world) hostedSetup(req runRequest) Result {
	for i := range req.Count {
		h := hostedChannel(i)
		wd.tg.AddBot(h.token, h.username, "Hosted "+h.key)
		wd.turn.AddNumber(h.number, h.turnToken)
	}
	return Result{Sent: req.Count}
}

// HostedTraffic is one direction of the busy channels' traffic.
type HostedTraffic struct {
	Sent      int  `json:"sent"`
	Accepted  int  `json:"accepted"`
	Delivered int  `json:"delivered"`
	Lost      int  `json:"lost"`
	EndToEnd  Dist `json:"e2e"`
}

// hostedTraffic: each of the first Count hosted channels gets Rate
// messages a second each way for Duration. Inbound, the update is pushed
// to the fake Telegram, which posts it to the channel's webhook (through
// the load balancer, to either replica) one at a time per bot as Telegram
// does; it is delivered when the fake Turn accepts it. Outbound, a signed
// Turn webhook is posted to the channel's Turn route; delivered when the
// fake Telegram accepts the message.
func (wd *world) hostedTraffic(ctx context.Context, p *poster, req runRequest) Result {
	n := int(float64(req.Count) * req.Rate * req.Duration.Seconds())
	rec := newRecorder(2 * n)
	wd.rec.Store(rec)
	var wg sync.WaitGroup
	var in, out tally
	wg.Add(2)
	go func() {
		defer wg.Done()
		openLoop(ctx, float64(req.Count)*req.Rate, n, 4096, func(seq int, due time.Time) {
			ch := seq % req.Count
			h := hostedChannel(ch)
			chat := int64(hostedInBase + ch)
			rec.chat[seq] = chat
			rec.start.set(seq, rec.base, time.Now())
			in.sent.Add(1)
			upd := telegramtest.UserText(chat, "Load", "Test", marker(seqMarker, seq)+" hello, I would like to know more about the programme")
			if wd.tg.PushUpdate(h.token, upd) > 0 {
				in.accepted.Add(1)
				rec.accept.set(seq, rec.base, time.Now())
			}
		})
	}()
	go func() {
		defer wg.Done()
		openLoop(ctx, float64(req.Count)*req.Rate, n, 4096, func(i int, due time.Time) {
			seq := n + i
			ch := i % req.Count
			h := hostedChannel(ch)
			chat := int64(hostedOutBase + ch)
			rec.chat[seq] = chat
			rec.start.set(seq, rec.base, due)
			k := channelKeys{key: h.key, hmacSecret: h.hmacSecret}
			status, err := p.turnTo(ctx, k, turnText(seq, chat))
			if out.count(status, err) {
				rec.accept.set(seq, rec.base, time.Now())
			}
		})
	}()
	wg.Wait()
	wd.drain(ctx, rec, 2*n, req.DrainLimit)
	leg := func(lo, hi int, t *tally) HostedTraffic {
		l := HostedTraffic{Sent: int(t.sent.Load()), Accepted: int(t.accepted.Load())}
		var e2e []time.Duration
		for seq := lo; seq < hi; seq++ {
			if _, ok := rec.accept.get(seq); !ok {
				continue
			}
			d, ok := rec.deliver.get(seq)
			if !ok {
				l.Lost++
				continue
			}
			s, _ := rec.start.get(seq)
			l.Delivered++
			e2e = append(e2e, d-s)
		}
		l.EndToEnd = distOf(e2e)
		return l
	}
	inLeg, outLeg := leg(0, n, &in), leg(n, 2*n, &out)
	res := Result{Sent: inLeg.Sent + outLeg.Sent, Accepted: inLeg.Accepted + outLeg.Accepted, Delivered: inLeg.Delivered + outLeg.Delivered,
		Lost: inLeg.Lost + outLeg.Lost, Duplicates: int(rec.duplicates.Load())}
	res.HostedIn, res.HostedOut = &inLeg, &outLeg
	return res
}
