package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// The world learns what reached the other side from the fakes' hooks,
// which run once a fake has answered a call, without copying the fakes'
// records (whose copies grow with every message).

// telegramCall records what the fake Bot API accepted, as it is answered.
func (wd *world) telegramCall(c telegramtest.Call) {
	wd.calls.add(c.Method, c.At)
	r := wd.rec.Load()
	if r == nil {
		return
	}
	at := time.Now()
	switch {
	case strings.HasPrefix(c.Method, "send"):
		switch {
		case c.Status == http.StatusTooManyRequests:
			r.tooMany.Add(1)
			return
		case c.Status != http.StatusOK:
			r.tgRefused.Add(1)
			return
		}
		seq := findMarker([]byte(c.Params["text"]), seqMarker)
		if seq < 0 {
			seq = findMarker([]byte(c.Params["caption"]), seqMarker)
		}
		r.delivered(seq, at)
		if r.buttons != nil && c.Params["reply_markup"] != "" {
			var m struct {
				MessageID int `json:"message_id"`
				Chat      struct {
					ID int64 `json:"id"`
				} `json:"chat"`
				ReplyMarkup struct {
					InlineKeyboard [][]struct {
						CallbackData string `json:"callback_data"`
					} `json:"inline_keyboard"`
				} `json:"reply_markup"`
			}
			if json.Unmarshal(c.Result, &m) == nil && len(m.ReplyMarkup.InlineKeyboard) > 0 &&
				len(m.ReplyMarkup.InlineKeyboard[0]) > 0 {
				r.buttons(pressable{seq: seq, chat: m.Chat.ID, msgID: m.MessageID,
					data: m.ReplyMarkup.InlineKeyboard[0][0].CallbackData})
			}
		}
	case c.Method == "answerCallbackQuery" && c.Status == http.StatusOK:
		r.answered.Add(1)
	case c.Method == "editMessageReplyMarkup" && c.Status == http.StatusOK:
		r.edited.Add(1)
	case c.Status == http.StatusTooManyRequests:
		r.tooMany.Add(1)
	}
}

// telegramArrival confirms polled updates: the service asks for updates
// from an offset only once it has stored every update before it. It hears
// of a getUpdates as it arrives: the long poll it opens may be answered
// only when its timeout ends.
func (wd *world) telegramArrival(c telegramtest.Call) {
	r := wd.rec.Load()
	if r == nil || c.Method != "getUpdates" {
		return
	}
	if offset, err := strconv.ParseInt(c.Params["offset"], 10, 64); err == nil && offset > 0 {
		r.confirm(offset, c.At)
	}
}

// turnCall records what the fake Turn accepted, as it is answered.
func (wd *world) turnCall(c turntest.Call) {
	r := wd.rec.Load()
	if r == nil {
		return
	}
	at := time.Now()
	if c.Status != http.StatusOK {
		r.turnRej.Add(1)
		return
	}
	switch {
	case strings.HasSuffix(c.Path, "/messages"):
		if seq := findMarker(c.Body, btnMarker); seq >= 0 {
			if r.reply.set(seq, r.base, at) && r.replied != nil {
				r.replied(seq)
			}
			return
		}
		r.delivered(findMarker(c.Body, seqMarker), at)
	case strings.HasSuffix(c.Path, "/statuses"):
		r.statuses.Add(1)
	}
}

// connTap relays TCP connections to a fake and counts them: how many
// connections the service opens is a figure of the report, and a hook on
// calls cannot see connections (the fakes' listeners are their own). It
// copies bytes and parses nothing, so it adds little to each call.
type connTap struct {
	ln       net.Listener
	upstream string // host:port of the fake
	url      string
	conns    atomic.Int64 // connections the service opened
	mu       sync.Mutex
	open     map[net.Conn]struct{}
	wg       sync.WaitGroup
}

func startConnTap(upstream string) (*connTap, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &connTap{ln: ln, upstream: u.Host, url: "http://" + ln.Addr().String(), open: map[net.Conn]struct{}{}}
	t.wg.Add(1)
	go t.serve()
	return t, nil
}

func (t *connTap) serve() {
	defer t.wg.Done()
	for {
		down, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		t.conns.Add(1)
		t.wg.Add(1)
		go t.relay(down)
	}
}

// relay copies both ways until either side closes, then closes both.
func (t *connTap) relay(down net.Conn) {
	defer t.wg.Done()
	up, err := net.Dial("tcp", t.upstream)
	if err != nil {
		down.Close()
		return
	}
	if !t.track(down, up) {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, down)
	go pipe(down, up)
	<-done
	down.Close()
	up.Close()
	<-done
	t.mu.Lock()
	delete(t.open, down)
	delete(t.open, up)
	t.mu.Unlock()
}

// track registers a relay's connections for close, or closes them if the
// tap is closed already.
func (t *connTap) track(conns ...net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		t.open[c] = struct{}{}
	}
	return true
}

// close stops accepting, cuts every relayed connection and waits for the
// relays to end.
func (t *connTap) close() {
	t.ln.Close()
	t.mu.Lock()
	for c := range t.open {
		c.Close()
	}
	t.open = nil
	t.mu.Unlock()
	t.wg.Wait()
}
