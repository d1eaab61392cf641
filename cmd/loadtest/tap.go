package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// tap is a recording proxy in front of a fake: the service talks to the tap,
// the tap forwards each call to the fake and, once the fake has answered and
// before the service sees the answer, tells observe what happened. This is
// how the load generator learns the moment a message reached the other side
// without polling the fakes' records, whose copies grow with every message.
type tap struct {
	upstream string
	client   *http.Client
	observe  func(path string, req []byte, status int, resp []byte, at time.Time)
	// arrived, if set, hears of each request as it arrives, before it is
	// forwarded: a getUpdates offset confirms updates when Telegram gets it,
	// not when the long poll it opens ends.
	arrived func(path string, req []byte, at time.Time)
	srv     *http.Server
	url     string
	conns   atomic.Int64 // connections the service opened to the tap
}

func startTap(upstream string, client *http.Client, observe func(string, []byte, int, []byte, time.Time), arrived func(string, []byte, time.Time)) (*tap, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &tap{upstream: strings.TrimRight(upstream, "/"), client: client, observe: observe, arrived: arrived, url: "http://" + ln.Addr().String()}
	t.srv = &http.Server{
		Handler:           t,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				t.conns.Add(1)
			}
		},
	}
	go func() { _ = t.srv.Serve(ln) }()
	return t, nil
}

func (t *tap) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
}

// hopHeaders are not forwarded.
var hopHeaders = map[string]bool{"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Te": true, "Trailer": true, "Upgrade": true, "Proxy-Connection": true}

func (t *tap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, "tap: read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	if t.arrived != nil {
		t.arrived(r.URL.Path, body, time.Now())
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, t.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "tap: "+err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range r.Header {
		if !hopHeaders[k] {
			req.Header[k] = vs
		}
	}
	resp, err := t.client.Do(req)
	if err != nil {
		http.Error(w, "tap: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	resp.Body.Close()
	if err != nil {
		http.Error(w, "tap: read upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	if t.observe != nil {
		t.observe(r.URL.Path, body, resp.StatusCode, out, time.Now())
	}
	for k, vs := range resp.Header {
		if !hopHeaders[k] && k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

// telegramObserver records what the fake Bot API accepted.
func (wd *world) telegramObserver(path string, req []byte, status int, resp []byte, at time.Time) {
	r := wd.rec.Load()
	if r == nil {
		return
	}
	method := path[strings.LastIndexByte(path, '/')+1:]
	switch {
	case strings.HasPrefix(method, "send"):
		switch {
		case status == http.StatusTooManyRequests:
			r.tooMany.Add(1)
			return
		case status != http.StatusOK:
			r.tgRefused.Add(1)
			return
		}
		seq := findMarker(req, seqMarker)
		r.delivered(seq, at)
		if r.buttons != nil && bytes.Contains(req, []byte("reply_markup")) {
			var m struct {
				Result struct {
					MessageID int `json:"message_id"`
					Chat      struct {
						ID int64 `json:"id"`
					} `json:"chat"`
					ReplyMarkup struct {
						InlineKeyboard [][]struct {
							CallbackData string `json:"callback_data"`
						} `json:"inline_keyboard"`
					} `json:"reply_markup"`
				} `json:"result"`
			}
			if json.Unmarshal(resp, &m) == nil && len(m.Result.ReplyMarkup.InlineKeyboard) > 0 &&
				len(m.Result.ReplyMarkup.InlineKeyboard[0]) > 0 {
				r.buttons(pressable{seq: seq, chat: m.Result.Chat.ID, msgID: m.Result.MessageID,
					data: m.Result.ReplyMarkup.InlineKeyboard[0][0].CallbackData})
			}
		}
	case method == "answerCallbackQuery" && status == http.StatusOK:
		r.answered.Add(1)
	case method == "editMessageReplyMarkup" && status == http.StatusOK:
		r.edited.Add(1)
	case status == http.StatusTooManyRequests:
		r.tooMany.Add(1)
	}
}

// telegramArrival confirms polled updates: the service asks for updates
// from an offset only once it has stored every update before it.
func (wd *world) telegramArrival(path string, req []byte, at time.Time) {
	r := wd.rec.Load()
	if r == nil || !strings.HasSuffix(path, "/getUpdates") {
		return
	}
	var p struct {
		Offset int64 `json:"offset"`
	}
	if json.Unmarshal(req, &p) == nil && p.Offset > 0 {
		r.confirm(p.Offset, at)
	}
}

// turnObserver records what the fake Turn accepted.
func (wd *world) turnObserver(path string, req []byte, status int, _ []byte, at time.Time) {
	r := wd.rec.Load()
	if r == nil {
		return
	}
	if status != http.StatusOK {
		r.turnRej.Add(1)
		return
	}
	switch {
	case strings.HasSuffix(path, "/messages"):
		if seq := findMarker(req, btnMarker); seq >= 0 {
			if r.reply.set(seq, r.base, at) && r.replied != nil {
				r.replied(seq)
			}
			return
		}
		r.delivered(findMarker(req, seqMarker), at)
	case strings.HasSuffix(path, "/statuses"):
		r.statuses.Add(1)
	}
}
