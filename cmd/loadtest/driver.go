package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/turn"
)

// Chat ids: every scenario's people are distinct private chats.
const (
	chatBase      = 1_000_000
	broadcastBase = 50_000_000
	firstUpdateID = 600_000_000
)

// newClient is an HTTP client that keeps as many connections open as it
// has requests in flight, as Telegram's webhook and Turn's do: the load
// generator must not pay a TCP handshake per request.
func newClient() *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// updateBody is a private-chat text update as Telegram posts it.
func updateBody(seq int, chat int64, at time.Time) []byte {
	return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,"first_name":"Load","last_name":"Test","language_code":"en"},"chat":{"id":%d,"first_name":"Load","last_name":"Test","type":"private"},"date":%d,"text":"%s hello, I would like to know more about the programme"}}`,
		firstUpdateID+seq, seq+1, chat, chat, at.Unix(), marker(seqMarker, seq))
}

// turnText is a journey's text message with WhatsApp formatting.
func turnText(seq int, chat int64) []byte {
	return fmt.Appendf(nil, `{"to":"%d","version":"0.0.1-alpha","context":null,"turn":{"type":"text","text":{"body":"%s *Hello* there, this is _your_ weekly update: reply with a number to hear more."}}}`,
		chat, marker(seqMarker, seq))
}

// turnButtons is a journey's question with two reply buttons.
func turnButtons(seq int, chat int64) []byte {
	b := marker(btnMarker, seq)
	return fmt.Appendf(nil, `{"to":"%d","version":"0.0.1-alpha","context":null,"turn":{"type":"interactive","interactive":{"type":"button","body":{"text":"%s Would you like a reminder tomorrow?"},"action":{"buttons":[{"type":"reply","reply":{"id":"%s-yes","title":"Yes please"}},{"type":"reply","reply":{"id":"%s-no","title":"No thanks"}}]}}}}`,
		chat, marker(seqMarker, seq), b, b)
}

// poster sends the service what Telegram and Turn would.
type poster struct {
	client  *http.Client
	service string
}

// telegram posts an update to the first channel's Telegram webhook.
func (p *poster) telegram(ctx context.Context, body []byte) (int, error) {
	return p.telegramTo(ctx, loadChannels[0], body)
}

// turn posts a journey message to the first channel's Turn webhook.
func (p *poster) turn(ctx context.Context, body []byte) (int, error) {
	return p.turnTo(ctx, loadChannels[0], body)
}

// telegramTo posts an update to channel k's Telegram webhook with its
// secret token.
func (p *poster) telegramTo(ctx context.Context, k channelKeys, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.service+"/channels/"+k.key+"/telegram", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(bot.SecretHeader, k.webhookSecret)
	return p.do(req)
}

// turnTo posts a journey message to channel k's Turn webhook, signed as
// Turn signs.
func (p *poster) turnTo(ctx context.Context, k channelKeys, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.service+"/channels/"+k.key+"/turn", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(turn.SignatureHeader, turn.Sign([]byte(k.hmacSecret), body))
	req.Header.Set("X-Turn-Event", "message")
	return p.do(req)
}

func (p *poster) do(req *http.Request) (int, error) {
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// tally counts answers.
type tally struct{ sent, accepted, rejected, errors atomic.Int64 }

func (t *tally) count(status int, err error) bool {
	t.sent.Add(1)
	switch {
	case err != nil:
		t.errors.Add(1)
	case status == http.StatusOK:
		t.accepted.Add(1)
		return true
	default:
		t.rejected.Add(1)
	}
	return false
}

// openLoop calls fire for seqs 0..n-1 at `rate` per second from now, each
// in its own goroutine, whether or not earlier calls have returned (a fixed
// arrival rate, as Telegram's users do not wait for the service). Latency
// is measured by the caller from `due`, so a stalled service shows as
// latency instead of as a slower load. At most maxInflight calls run at
// once; it returns how many left over 10 ms after they were due.
func openLoop(ctx context.Context, rate float64, n, maxInflight int, fire func(seq int, due time.Time)) (late int) {
	start := time.Now()
	sem := make(chan struct{}, maxInflight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for seq := range n {
		due := start.Add(time.Duration(float64(seq) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return late
			case <-t.C:
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return late
		}
		if time.Since(due) > 10*time.Millisecond {
			late++
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fire(seq, due)
		}()
	}
	return late
}

// closedLoop runs `workers` loops, each calling fire with its worker index
// until it returns false or the deadline passes. Requests in flight at the
// deadline finish: cutting them would count as errors what is only the end
// of the run.
func closedLoop(ctx context.Context, workers int, deadline time.Time, fire func(ctx context.Context, w int) bool) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) && fire(ctx, w) {
			}
		}()
	}
	wg.Wait()
}

// chatLocks keep one request per chat in flight, as Telegram delivers a
// chat's updates one after another.
type chatLocks []chan struct{}

func newChatLocks(n int) chatLocks {
	l := make(chatLocks, n)
	for i := range l {
		l[i] = make(chan struct{}, 1)
	}
	return l
}

func (l chatLocks) lock(i int)   { l[i] <- struct{}{} }
func (l chatLocks) unlock(i int) { <-l[i] }

// waitUntil polls cond every 10 ms until it holds or limit passes; it
// reports whether it held.
func waitUntil(ctx context.Context, limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return cond()
		case <-t.C:
		}
	}
}

// deliveredCount counts accepted seqs below n that reached the other side.
func (r *recorder) deliveredCount(n int) (accepted, delivered int) {
	for seq := range min(n, r.n) {
		if _, ok := r.accept.get(seq); ok {
			accepted++
			if _, ok := r.deliver.get(seq); ok {
				delivered++
			}
		}
	}
	return accepted, delivered
}

// acceptStats fills the accept figures of res from seqs [0, n).
func (r *recorder) acceptStats(res *Result, n int) {
	var lat []time.Duration
	first, last := time.Duration(-1), time.Duration(0)
	for seq := range min(n, r.n) {
		s, ok1 := r.start.get(seq)
		a, ok2 := r.accept.get(seq)
		if !ok1 || !ok2 {
			continue
		}
		lat = append(lat, a-s)
		if first < 0 || s < first {
			first = s
		}
		last = max(last, a)
	}
	res.Accept = distOf(lat)
	if first >= 0 && last > first {
		res.AcceptSeconds = (last - first).Seconds()
		res.AcceptRate = float64(len(lat)) / res.AcceptSeconds
	}
}

// deliveryStats fills the delivery figures of res from seqs [0, n).
func (r *recorder) deliveryStats(res *Result, n int) {
	o := r.outcome(n)
	res.Delivered, res.Lost, res.OutOfOrder = o.delivered, o.lost, o.outOfOrder
	res.Duplicates = int(r.duplicates.Load())
	res.EndToEnd = distOf(o.e2e)
	if o.first >= 0 && o.last > o.first {
		res.DrainSeconds = (o.last - o.first).Seconds()
	}
	slices.Sort(o.deliveries)
	res.DeliverRate = rateOver(o.deliveries)
	res.SteadyRate = steadyRate(o.deliveries)
	res.MaxRate1s = maxWindowRate(o.deliveries, time.Second)
	res.Statuses = int(r.statuses.Load())
	res.TurnRejected = int(r.turnRej.Load())
	res.TelegramRefused = int(r.tgRefused.Load())
}
