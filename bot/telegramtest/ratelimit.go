package telegramtest

import (
	"math"
	"time"
)

// RateLimits are the per-bot limits the fake enforces on messages sent
// (send* methods), after Telegram's Bot FAQ. Zero fields take the default.
type RateLimits struct {
	Disabled bool // no limits at all (also lifts setWebhook's one call a second)

	GlobalPerSecond float64 // messages a bot sends per second, all chats (30)
	GlobalBurst     int     // (30)
	ChatPerSecond   float64 // messages per second to one private chat (1)
	ChatBurst       int     // short bursts tolerated by a private chat (3)
	GroupPerMinute  float64 // messages per minute to one group, chat id < 0 (20)
	GroupBurst      int     // (20)
}

// DefaultRateLimits returns the limits a new Server enforces.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		GlobalPerSecond: 30,
		GlobalBurst:     30,
		ChatPerSecond:   1,
		ChatBurst:       3,
		GroupPerMinute:  20,
		GroupBurst:      20,
	}
}

func (l RateLimits) withDefaults() RateLimits {
	d := DefaultRateLimits()
	if l.GlobalPerSecond <= 0 {
		l.GlobalPerSecond = d.GlobalPerSecond
	}
	if l.GlobalBurst <= 0 {
		l.GlobalBurst = d.GlobalBurst
	}
	if l.ChatPerSecond <= 0 {
		l.ChatPerSecond = d.ChatPerSecond
	}
	if l.ChatBurst <= 0 {
		l.ChatBurst = d.ChatBurst
	}
	if l.GroupPerMinute <= 0 {
		l.GroupPerMinute = d.GroupPerMinute
	}
	if l.GroupBurst <= 0 {
		l.GroupBurst = d.GroupBurst
	}
	return l
}

// SetRateLimits replaces the limits of every bot, present and future, and
// refills their buckets. Pauses already in force stay.
func (s *Server) SetRateLimits(l RateLimits) {
	l = l.withDefaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
	for _, b := range s.bots {
		b.rate.reset(l)
	}
}

// TooManyRequests returns how many 429 answers all bots got, injected ones
// included.
func (s *Server) TooManyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.bots {
		n += b.rate.tooMany
	}
	return n
}

// TooManyRequestsFor is TooManyRequests for one bot.
func (s *Server) TooManyRequestsFor(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustBotLocked(token).rate.tooMany
}

// PauseViolations returns how many calls reached a chat while a 429's
// retry_after for that chat and bot had not yet elapsed: a client that
// honours retry_after makes none.
func (s *Server) PauseViolations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.bots {
		n += b.rate.violations
	}
	return n
}

// bucket is a token bucket; tokens refill continuously at rate per second.
type bucket struct {
	tokens, rate, burst float64
	last                time.Time
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{tokens: float64(burst), rate: rate, burst: float64(burst), last: now}
}

// wait returns how long until a token is available.
func (b *bucket) wait(now time.Time) time.Duration {
	if now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

// botLimiter holds one bot's buckets, pauses and counters.
type botLimiter struct {
	limits     RateLimits
	global     *bucket
	chats      map[int64]*bucket
	pauses     map[int64]time.Time // chat -> end of the retry_after last answered
	tooMany    int
	violations int
}

func newBotLimiter(l RateLimits) *botLimiter {
	r := &botLimiter{pauses: map[int64]time.Time{}}
	r.reset(l)
	return r
}

func (r *botLimiter) reset(l RateLimits) {
	r.limits = l
	r.global = newBucket(l.GlobalPerSecond, l.GlobalBurst, time.Now())
	r.chats = map[int64]*bucket{}
}

// allowSend takes a token from the bot's and the chat's bucket, or, if either
// is empty, takes none and answers 429 with the wait rounded up to seconds.
func (r *botLimiter) allowSend(chatID int64, now time.Time) *apiError {
	if r.limits.Disabled {
		return nil
	}
	chat := r.chats[chatID]
	if chat == nil {
		if chatID < 0 {
			chat = newBucket(r.limits.GroupPerMinute/60, r.limits.GroupBurst, now)
		} else {
			chat = newBucket(r.limits.ChatPerSecond, r.limits.ChatBurst, now)
		}
		r.chats[chatID] = chat
	}
	wait := max(r.global.wait(now), chat.wait(now))
	if wait > 0 {
		e := tooManyRequests(retrySeconds(wait))
		r.pause(chatID, now.Add(time.Duration(e.retryAfter)*time.Second))
		return e
	}
	r.global.tokens--
	chat.tokens--
	return nil
}

func (r *botLimiter) pause(chatID int64, until time.Time) {
	if until.After(r.pauses[chatID]) {
		r.pauses[chatID] = until
	}
}

// checkPause answers a call to a chat still under a 429 pause with another
// 429, and counts the call as a violation.
func (s *Server) checkPause(b *bot, chatID int64) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := b.rate.pauses[chatID]
	if !ok {
		return nil
	}
	left := time.Until(until)
	if left <= 0 {
		delete(b.rate.pauses, chatID)
		return nil
	}
	b.rate.violations++
	return tooManyRequests(retrySeconds(left))
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
