package bot_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
	"github.com/turn-telegram/turn-telegram/turn"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// uploadSink is a Bot API stand-in for memory measurements: it hashes each
// upload as it streams in and keeps nothing else, so the allocations
// measured are the connector's, not a fake's recording the file.
type uploadSink struct {
	*httptest.Server
	mu   sync.Mutex
	sums map[int64][32]byte // by chat
	seq  atomic.Int64
}

func newUploadSink(tb testing.TB) *uploadSink {
	s := &uploadSink{sums: map[int64][32]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

func (s *uploadSink) serve(w http.ResponseWriter, r *http.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		http.Error(w, `{"ok":false,"error_code":400,"description":"Bad Request: not multipart"}`, http.StatusBadRequest)
		return
	}
	var (
		chat int64
		sum  [32]byte
		buf  = make([]byte, 32<<10)
	)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			http.Error(w, `{"ok":false,"error_code":400,"description":"Bad Request: broken multipart"}`, http.StatusBadRequest)
			return
		}
		if p.FileName() != "" {
			h := sha256.New()
			_, _ = io.CopyBuffer(h, p, buf)
			sum = [32]byte(h.Sum(nil))
			continue
		}
		v, _ := io.ReadAll(io.LimitReader(p, 1<<16))
		if p.FormName() == "chat_id" {
			chat, _ = strconv.ParseInt(string(v), 10, 64)
		}
	}
	s.mu.Lock()
	s.sums[chat] = sum
	s.mu.Unlock()
	n := s.seq.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},`+
		`"document":{"file_id":"BQAC-sink-%d","file_unique_id":"sink-%d","file_name":"report.pdf"}}}`,
		n, time.Now().Unix(), chat, n, n)
}

func (s *uploadSink) sum(chat int64) [32]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sums[chat]
}

// BenchmarkSendLargeDocument measures the memory one 45 MB document costs
// on its way from a Turn link through the store to a Telegram upload: bytes
// allocated per send, and the peak of the heap in use above what it was
// before, sampled every few milliseconds.
func BenchmarkSendLargeDocument(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchSendLargeDocument(b, storetest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchSendLargeDocument(b, storetest.Postgres(b)) })
}

func benchSendLargeDocument(b *testing.B, st store.Store) {
	const size = 45 << 20
	tn := turntest.NewServer()
	b.Cleanup(tn.Close)
	tn.AddNumber(numberID, turnToken)
	sink := newUploadSink(b)
	links := newLinkServer(b, http.NotFound)

	log := slog.New(slog.DiscardHandler)
	engine := delivery.New(st, delivery.Options{Concurrency: 8, Poll: 20 * time.Millisecond, Logger: log})
	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	b.Cleanup(srv.Close)
	svc := bot.NewService(st, bot.Options{PublicURL: srv.URL, Logger: log, MediaAllowedNetworks: loopback}, engine.Notify)
	svc.Register(engine)
	svc.Routes(r)
	if _, err := svc.AddChannel(bot.ChannelConfig{
		Key: numberID, TelegramToken: botToken, TelegramAPIURL: sink.URL,
		TurnAPIURL: tn.URL, TurnNumberID: numberID, TurnToken: turnToken, TurnHMACSecret: hmacSecret,
	}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = engine.Run(ctx, time.Second) }()
	b.Cleanup(func() { cancel(); <-done })

	sent := 0
	// send delivers document i (its own bytes, so never a file_id re-send)
	// to a chat of its own (no per-chat rate wait) and waits for "sent".
	send := func(i int) {
		chat := int64(9_000_000 + i)
		payload := mediaPayload(chat, "document", links.URL+"/doc/"+strconv.Itoa(i)+"/"+strconv.Itoa(size), "application/pdf", "report.pdf")
		resp, err := tn.Send(ctx, srv.URL+"/channels/"+numberID+"/turn", []byte(hmacSecret), payload)
		if err != nil {
			b.Fatal(err)
		}
		var reply turn.ReplyBody
		_ = json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("turn webhook: %d", resp.StatusCode)
		}
		sent++
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		defer wcancel()
		if _, err := tn.WaitStatuses(wctx, numberID, sent); err != nil {
			b.Fatalf("no status for document %d: %v", i, err)
		}
	}
	send(0) // warm up: connections, statements, the first rate tokens
	if got, want := sink.sum(9_000_000), generatedSum(b, 0, size); got != want {
		b.Fatal("the document uploaded is not the one Turn served")
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		send(i)
	}
	b.StopTimer()
	close(stop)
	<-sampled
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N), "alloc-B/send")
	b.ReportMetric(float64(max(peak.Load(), before.HeapInuse)-before.HeapInuse), "peak-heap-B")
	b.ReportMetric(size, "file-B")
}
