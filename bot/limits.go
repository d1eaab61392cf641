package bot

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits are Telegram's send rates, enforced before Telegram has to.
type Limits struct {
	PerSecond      float64 // whole bot [30]; up to 1000 with paid broadcasts
	ChatPerSecond  float64 // one private chat [1]
	ChatBurst      int     // short bursts a private chat tolerates [3]
	GroupPerMinute float64 // one group [20]
}

func (l *Limits) defaults() {
	if l.PerSecond <= 0 {
		l.PerSecond = 30
	}
	if l.ChatPerSecond <= 0 {
		l.ChatPerSecond = 1
	}
	if l.ChatBurst <= 0 {
		l.ChatBurst = 3
	}
	if l.GroupPerMinute <= 0 {
		l.GroupPerMinute = 20
	}
}

// limiter paces one bot's sends: per chat first (so one busy chat does not
// hold a bot-wide token while it waits), then bot-wide.
type limiter struct {
	cfg   Limits
	bot   *rate.Limiter
	mu    sync.Mutex
	chats map[int64]*chatLimit
	swept time.Time
}

type chatLimit struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiter(cfg Limits) *limiter {
	cfg.defaults()
	return &limiter{cfg: cfg, bot: rate.NewLimiter(rate.Limit(cfg.PerSecond), 1), chats: map[int64]*chatLimit{}}
}

// wait blocks until one message to chat may be sent.
func (l *limiter) wait(ctx context.Context, chat int64) error {
	if err := l.chat(chat).Wait(ctx); err != nil {
		return err
	}
	return l.bot.Wait(ctx)
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
