package bot_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// dbProxy stands between the service and PostgreSQL so a test can take the
// database away (as a restart does: connections cut, new ones refused) and
// bring it back on the same address.
type dbProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newDBProxy(t *testing.T, target string) *dbProxy {
	p := &dbProxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *dbProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// down cuts every connection and refuses new ones.
func (p *dbProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// up accepts connections again on the same address.
func (p *dbProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

// TestDatabaseRestart: while PostgreSQL is gone both webhooks answer 503
// (so Telegram and Turn retry) and nothing is lost; when it is back the
// service reconnects by itself and carries on.
func TestDatabaseRestart(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newDBProxy(t, u.Host)
	u.Host = proxy.addr
	st, err := store.OpenPostgres(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := newHarness(t, st, harnessOpts{unpaced: true})

	h.sendTurnOK(textPayload(chatID, "before"))
	waitSentTexts(t, h.tg, chatID, 1)
	if _, err := h.turn.WaitStatuses(ctxT(t), numberID, 1); err != nil {
		t.Fatal(err)
	}

	proxy.down()
	resp, body := h.sendTurn(textPayload(chatID, "during"))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("turn webhook with the database gone: %d %s, want 503", resp.StatusCode, body)
	}
	upd := telegramtest.UserText(chatID, "Ada", "", "while down")
	upd.ID, upd.Message.ID, upd.Message.Date = 5001, 77, int(time.Now().Unix())
	if r := h.postTelegram(mustJSON(upd), h.ch.WebhookSecret()); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("telegram webhook with the database gone: %d, want 503", r.StatusCode)
	}

	proxy.up()
	// Turn and Telegram retry what got a 503; the service has reconnected.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, _ := h.sendTurn(textPayload(chatID, "after"))
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not recover: %d", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		if r := h.postTelegram(mustJSON(upd), h.ch.WebhookSecret()); r.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("telegram webhook did not recover")
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := waitSentTexts(t, h.tg, chatID, 2)
	if strings.Join(got, ",") != "before,after" {
		t.Fatalf("telegram got %v", got)
	}
	msgs, err := h.turn.WaitMessages(ctxT(t), numberID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].Message.Text.Body != "while down" {
		t.Fatalf("turn got %+v", msgs[0].Message)
	}
}
