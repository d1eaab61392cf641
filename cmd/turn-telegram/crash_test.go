package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store/storetest"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

const crashChildEnv = "TURN_TELEGRAM_CRASH_CHILD"

// TestCrashChild is the service process of TestKill9: the parent re-runs
// this test binary with crashChildEnv set, and this "test" serves until it
// is killed.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) == "" {
		t.Skip("runs only as the child process of TestKill9")
	}
	os.Exit(run([]string{"serve"}, os.Getenv, os.Stderr))
}

// TestKill9 floods a real service process with inbound and outbound traffic,
// kills it with SIGKILL mid-flood, restarts it on the same store, and checks
// that every accepted message arrives, in per-chat order; only a delivery
// in flight at the moment of the kill may arrive twice.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	// In parallel with the other tests of processes of their own: the
	// services are children with their own fakes, metrics and default
	// logger, unlike the services the serial tests run in this process.
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if name == "postgres" {
				env["DATABASE_URL"] = storetest.PostgresURL(t)
			} else {
				env["DATA_DIR"] = t.TempDir()
			}
			kill9(t, env)
		})
	}
}

func kill9(t *testing.T, extra map[string]string) {
	const (
		token    = "555000111:AAkill9TOKENkill9TOKENkill9TOKENkill"
		number   = "9b7e1a52-0b7c-4d8e-9a61-3c0e1f2a4b5c"
		turnTok  = "kill9-turn-token-value"
		secret   = "kill9-hmac-secret-value"
		chats    = 10
		inbound  = 120
		outbound = 120
		workers  = 8
	)
	tg := telegramtest.NewServer()
	defer tg.Close()
	tg.AddBot(token, "kill9_bot", "Kill9")
	tg.AllowInsecureWebhooks(true)
	tg.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	tn := turntest.NewServer()
	defer tn.Close()
	tn.AddNumber(number, turnTok)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	env := []string{
		crashChildEnv + "=1",
		"TELEGRAM_BOT_TOKEN=" + token, "TELEGRAM_API_URL=" + tg.URL,
		"TURN_API_URL=" + tn.URL, "TURN_NUMBER_ID=" + number, "TURN_TOKEN=" + turnTok, "TURN_HMAC_SECRET=" + secret,
		"PUBLIC_URL=" + base, "LISTEN_ADDR=" + addr, "WORKERS=" + fmt.Sprint(workers),
		"TELEGRAM_RATE_LIMIT=1000", "LOG_LEVEL=warn", "DELIVERY_LEASE=2s", "PATH=" + os.Getenv("PATH"),
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if testing.Verbose() {
			cmd.Stderr = os.Stderr
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("service did not become ready")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	child := start()
	defer func() { child.Process.Kill(); child.Wait() }()

	// Inbound: the fake Telegram delivers by webhook and redelivers until
	// it gets a 200, like Telegram.
	for i := range inbound {
		chat := int64(7_000_000 + i%chats)
		tg.PushUpdate(token, telegramtest.UserText(chat, "P", "", fmt.Sprintf("in %d-%d", chat, i/chats)))
	}
	// Outbound: Turn retries a call that got no 200, like Turn. One sender
	// per chat, all at once, so that acceptances share group commits and a
	// kill lands in the middle of a group (completions share them too: the
	// workers finish concurrently).
	accepted := make(chan string, outbound)
	var senders sync.WaitGroup
	for c := range chats {
		senders.Go(func() {
			chat := 7_100_000 + c
			for i := range outbound / chats {
				body := fmt.Sprintf(`{"to":"%d","version":"0.0.1-alpha","turn":{"type":"text","text":{"body":"out %d-%d"}}}`, chat, chat, i)
				for {
					resp, err := tn.Send(context.Background(), base+"/channels/"+number+"/turn", []byte(secret), []byte(body))
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode == 200 {
							accepted <- body
							break
						}
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	go func() { senders.Wait(); close(accepted) }()

	// Kill mid-flood, twice.
	for round := range 2 {
		want := (round + 1) * inbound / 4
		deadline := time.Now().Add(30 * time.Second)
		for len(tn.Messages(number)) < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		child.Wait()
		child = start()
	}
	n := 0
	for range accepted {
		n++
	}
	if n != outbound {
		t.Fatalf("only %d of %d outbound calls accepted", n, outbound)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := tn.WaitMessages(ctx, number, inbound); err != nil {
		t.Fatal(err)
	}
	// Wait for every distinct outbound message (a repeat counts once).
	for c := range chats {
		chat := int64(7_100_000 + c)
		for {
			distinct := map[string]bool{}
			for _, m := range tg.Sent(chat) {
				distinct[m.Text] = true
			}
			if len(distinct) >= outbound/chats {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("chat %d: %d of %d messages sent", chat, len(distinct), outbound/chats)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(500 * time.Millisecond) // let any stray duplicate land

	// Inbound: each Telegram message reached Turn, in order per chat.
	dupIn := 0
	seen := map[string]bool{}
	next := map[string]int{}
	for _, m := range tn.Messages(number) {
		if seen[m.Message.ID] {
			dupIn++
			continue
		}
		seen[m.Message.ID] = true
		chat := m.Contact.ID
		if want := fmt.Sprintf("in %s-%d", chat, next[chat]); m.Message.Text.Body != want {
			t.Fatalf("inbound out of order in chat %s: got %q, want %q", chat, m.Message.Text.Body, want)
		}
		next[chat]++
	}
	if len(seen) != inbound {
		t.Fatalf("turn got %d distinct inbound messages, want %d", len(seen), inbound)
	}
	// Outbound: each accepted Turn message reached Telegram, in order.
	dupOut := 0
	for c := range chats {
		chat := int64(7_100_000 + c)
		i := 0
		for _, m := range tg.Sent(chat) {
			want := fmt.Sprintf("out %d-%d", chat, i)
			prev := fmt.Sprintf("out %d-%d", chat, i-1)
			switch {
			case m.Text == want:
				i++
			case i > 0 && m.Text == prev:
				dupOut++ // the one delivery in flight at a kill, sent again
			default:
				t.Fatalf("chat %d: got %q, want %q", chat, m.Text, want)
			}
		}
		if i != outbound/chats {
			t.Fatalf("chat %d: %d of %d messages", chat, i, outbound/chats)
		}
	}
	// Two kills, each with at most `workers` deliveries in flight.
	if dupIn+dupOut > 2*workers {
		t.Fatalf("%d inbound and %d outbound duplicates: more than the deliveries in flight at two kills", dupIn, dupOut)
	}
	t.Logf("kill -9 twice: %d inbound, %d outbound delivered; repeats of in-flight deliveries: %d in, %d out",
		inbound, outbound, dupIn, dupOut)
	if strings.Contains(fmt.Sprint(tn.Messages(number)), token) {
		t.Fatal("the bot token reached Turn")
	}
}
