package bot

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/turn-telegram/turn-telegram/store"
)

// Limits are Telegram's send rates, enforced before Telegram has to.
type Limits struct {
	PerSecond     float64 // whole bot [30]; up to 1000 with paid broadcasts
	ChatPerSecond float64 // one private chat [1]
	// ChatBurst is the burst allowed to one chat [2]: one below the 3
	// Telegram tolerates, because our bucket starts when we send and
	// Telegram's when the message arrives; the margin absorbs that skew.
	ChatBurst      int
	GroupPerMinute float64 // one group [20]
	// Shared keeps the buckets in the store, so that several replicas of
	// one bot respect Telegram's limits in total, not each.
	Shared bool
}

func (l *Limits) defaults() {
	if l.PerSecond <= 0 {
		l.PerSecond = 30
	}
	if l.ChatPerSecond <= 0 {
		l.ChatPerSecond = 1
	}
	if l.ChatBurst <= 0 {
		l.ChatBurst = 2
	}
	if l.GroupPerMinute <= 0 {
		l.GroupPerMinute = 20
	}
}

// limiter paces one bot's sends: per chat first (so one busy chat does not
// hold a bot-wide token while it waits), then bot-wide.
type limiter struct {
	cfg    Limits
	shared store.RateBuckets // nil: in-memory buckets
	prefix string            // bucket key prefix: the bot's channel
	bot    *rate.Limiter
	mu     sync.Mutex
	chats  map[int64]*chatLimit
	swept  time.Time
}

type chatLimit struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiter(cfg Limits, st store.RateBuckets, channel string) *limiter {
	cfg.defaults()
	l := &limiter{cfg: cfg, prefix: "tg:" + channel + ":", bot: rate.NewLimiter(rate.Limit(cfg.PerSecond), 1), chats: map[int64]*chatLimit{}}
	if cfg.Shared {
		l.shared = st
	}
	return l
}

// wait blocks until one message to chat may be sent.
func (l *limiter) wait(ctx context.Context, chat int64) error {
	if l.shared != nil {
		r, burst := l.cfg.ChatPerSecond, l.cfg.ChatBurst
		if chat < 0 {
			r, burst = l.cfg.GroupPerMinute/60, 1
		}
		if err := l.take(ctx, "chat:"+strconv.FormatInt(chat, 10), r, burst); err != nil {
			return err
		}
		return l.take(ctx, "bot", l.cfg.PerSecond, 1)
	}
	if err := l.chat(chat).Wait(ctx); err != nil {
		return err
	}
	return l.bot.Wait(ctx)
}

// take reserves a token of a shared bucket and waits for its turn: one
// store call per send, however many replicas and workers wait together.
func (l *limiter) take(ctx context.Context, key string, r float64, burst int) error {
	wait, err := l.shared.Take(ctx, l.prefix+key, r, burst)
	if err != nil || wait == 0 {
		return err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (l *limiter) chat(id int64) *rate.Limiter {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		// Idle chats' buckets are full again: forgetting them is free.
		for k, c := range l.chats {
			if now.Sub(c.used) > time.Minute {
				delete(l.chats, k)
			}
		}
		l.swept = now
	}
	c, ok := l.chats[id]
	if !ok {
		lim := rate.NewLimiter(rate.Limit(l.cfg.ChatPerSecond), l.cfg.ChatBurst)
		if id < 0 { // groups, supergroups and channels
			lim = rate.NewLimiter(rate.Limit(l.cfg.GroupPerMinute/60), 1)
		}
		c = &chatLimit{lim: lim}
		l.chats[id] = c
	}
	c.used = now
	return c.lim
}
