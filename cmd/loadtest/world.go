package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// world is everything around the service: the fake Telegram and the fake
// Turn, whose hooks tell the load generator what reached them, a
// connection-counting tap in front of each, and the load generator, driven
// over a small control server. It runs in a child process of its own (-role
// world), so that the parent's CPU and memory figures are the connector's
// alone, or in-process with -inprocess.
type world struct {
	tg      *telegramtest.Server
	turn    *turntest.Server
	tgTap   *connTap
	turnTap *connTap
	client  *http.Client // to the service
	rec     atomic.Pointer[recorder]
	ctl     *http.Server
	info    worldInfo
	busy    atomic.Bool
	calls   hostedCalls
}

func startWorld() (*world, error) {
	wd := &world{client: newClient()}
	wd.tg = telegramtest.NewServer()
	wd.tg.AllowInsecureWebhooks(true)
	wd.tg.SetWebhookRetry(10 * time.Millisecond)
	wd.turn = turntest.NewServer()
	for i, k := range loadChannels {
		name := "Load Test"
		if i > 0 {
			name += " " + string(rune('A'+i))
		}
		wd.tg.AddBot(k.botToken, k.botUsername, name)
		wd.turn.AddNumber(k.key, k.turnToken)
	}
	wd.tg.OnCall(wd.telegramCall)
	wd.tg.OnArrival(wd.telegramArrival)
	wd.turn.OnCall(wd.turnCall)
	var err error
	if wd.tgTap, err = startConnTap(wd.tg.URL); err != nil {
		wd.close()
		return nil, err
	}
	if wd.turnTap, err = startConnTap(wd.turn.URL); err != nil {
		wd.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		wd.close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /run", wd.serveRun)
	wd.ctl = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = wd.ctl.Serve(ln) }()
	wd.info = worldInfo{Control: "http://" + ln.Addr().String(), Telegram: wd.tgTap.url, Turn: wd.turnTap.url}
	return wd, nil
}

func (wd *world) close() {
	if wd.ctl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = wd.ctl.Shutdown(ctx)
		cancel()
	}
	for _, t := range []*connTap{wd.tgTap, wd.turnTap} {
		if t != nil {
			t.close()
		}
	}
	if wd.tg != nil {
		wd.tg.Close()
	}
	if wd.turn != nil {
		wd.turn.Close()
	}
}

func (wd *world) serveRun(w http.ResponseWriter, r *http.Request) {
	var req runRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !wd.busy.CompareAndSwap(false, true) {
		http.Error(w, "a run is in progress", http.StatusConflict)
		return
	}
	defer wd.busy.Store(false)
	res, err := wd.run(r.Context(), req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

func (wd *world) run(ctx context.Context, req runRequest) (Result, error) {
	limits := telegramtest.RateLimits{GlobalPerSecond: 30, GlobalBurst: 30}
	if req.SendRate > 0 {
		// Bursts of a tenth of a second (at least Telegram's 30) absorb
		// network jitter between a sender that keeps the rate and the fake.
		limits = telegramtest.RateLimits{GlobalPerSecond: req.SendRate, GlobalBurst: max(30, int(req.SendRate/10))}
	}
	wd.tg.SetRateLimits(limits)
	tg0, turn0 := wd.tgTap.conns.Load(), wd.turnTap.conns.Load()
	p := &poster{client: wd.client, service: strings.TrimRight(req.Service, "/")}
	var (
		res Result
		err error
	)
	switch req.Scenario {
	case "inbound-flood":
		res = wd.inboundFlood(ctx, p, req)
	case "inbound-rate":
		res = wd.inboundRate(ctx, p, req)
	case "polling-rate":
		res = wd.pollingRate(ctx, req)
	case "polling-flood":
		res = wd.pollingFlood(ctx, req)
	case "outbound-flood":
		res = wd.outboundFlood(ctx, p, req)
	case "broadcast":
		res = wd.broadcast(ctx, p, req)
	case "buttons":
		res = wd.buttons(ctx, p, req)
	case "noisy-neighbour":
		res = wd.noisyNeighbour(ctx, p, req)
	case "large-media":
		res = wd.largeMedia(ctx, p, req)
	case "hosted-setup":
		res = wd.hostedSetup(req)
	case "hosted-traffic":
		res = wd.hostedTraffic(ctx, p, req)
	case "hosted-calls":
		res.HostedCalls = wd.calls.snapshot()
	default:
		err = fmt.Errorf("unknown scenario %q", req.Scenario)
	}
	wd.rec.Store(nil)
	res.Scenario = req.Scenario
	res.TooManyRequests = wd.tg.TooManyRequests()
	res.PauseViolations = wd.tg.PauseViolations()
	res.TelegramConns = wd.tgTap.conns.Load() - tg0
	res.TurnConns = wd.turnTap.conns.Load() - turn0
	return res, err
}

// runWorldProcess is the child's main: start, say where, serve until the
// parent closes stdin.
func runWorldProcess() error {
	wd, err := startWorld()
	if err != nil {
		return err
	}
	defer wd.close()
	if err := json.NewEncoder(os.Stdout).Encode(wd.info); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // EOF: the parent is done or dead
	return nil
}

// worldHandle is the parent's view of a world.
type worldHandle struct {
	info   worldInfo
	cmd    *exec.Cmd
	stdin  io.Closer
	local  *world
	client *http.Client
}

// spawnWorld starts a world in a child process, or in this one.
func spawnWorld(inprocess bool) (*worldHandle, error) {
	h := &worldHandle{client: &http.Client{}}
	if inprocess {
		wd, err := startWorld()
		if err != nil {
			return nil, err
		}
		h.local, h.info = wd, wd.info
		return h, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-role=world")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h.cmd, h.stdin = cmd, stdin
	line := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if !sc.Scan() {
			line <- errors.New("world exited before saying where it listens")
			return
		}
		line <- json.Unmarshal(sc.Bytes(), &h.info)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err = <-line:
	case <-time.After(30 * time.Second):
		err = errors.New("world did not start within 30s")
	}
	if err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// pid is the child's process id, 0 in-process.
func (h *worldHandle) pid() int {
	if h.cmd == nil {
		return 0
	}
	return h.cmd.Process.Pid
}

func (h *worldHandle) run(ctx context.Context, req runRequest) (Result, error) {
	body, _ := json.Marshal(req)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, h.info.Control+"/run", strings.NewReader(string(body)))
	if err != nil {
		return Result{}, err
	}
	resp, err := h.client.Do(r)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return Result{}, fmt.Errorf("world: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	var res Result
	return res, json.NewDecoder(resp.Body).Decode(&res)
}

func (h *worldHandle) close() {
	if h.local != nil {
		h.local.close()
		return
	}
	if h.stdin != nil {
		h.stdin.Close()
	}
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = h.cmd.Process.Kill() // our own child, by its pid
		<-done
	}
}
