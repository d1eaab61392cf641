package channels_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// Two bots and the token of an existing Turn number that may create
// channels. Every secret is long enough to be found in a dump.
const (
	clinicToken  = "5550001111:AAclinicSECRETclinicSECRETclinic01"
	schoolToken  = "5550002222:AAschoolSECRETschoolSECRETschool02"
	numberToken  = "existing-number-token-7c1e9a4f2b"
	numberID     = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
	publicURL    = "https://tt.example.org"
	channelToken = "channel-token-issued-in-turn-ui-5a9e"
)

// fixedKey is a 32-byte key of one repeated byte, for tests only.
func fixedKey(b byte) []byte { return bytes.Repeat([]byte{b}, channels.KeySize) }

func keyring(t *testing.T, current []byte, previous ...[]byte) *channels.Keyring {
	t.Helper()
	k, err := channels.NewKeyring(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// syncBuffer collects log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// world is the fakes, a store and a registry over them.
type world struct {
	tg   *telegramtest.Server
	turn *turntest.Server
	st   store.Store
	keys *channels.Keyring
	reg  *channels.Registry
	logs *syncBuffer
}

func newWorld(t *testing.T, st store.Store) *world {
	t.Helper()
	w := &world{tg: telegramtest.NewServer(), turn: turntest.NewServer(), st: st, logs: &syncBuffer{}}
	t.Cleanup(w.tg.Close)
	t.Cleanup(w.turn.Close)
	w.tg.AddBot(clinicToken, "Clinic_Bot", "Clinic")
	w.tg.AddBot(schoolToken, "school_bot", "School")
	w.turn.AddNumber(numberID, numberToken)
	w.keys = keyring(t, fixedKey(1))
	w.reg = w.registry(w.keys)
	return w
}

// registry is a registry over the world's store and fakes with keys.
func (w *world) registry(keys *channels.Keyring) *channels.Registry {
	return channels.New(channels.Config{
		Store: w.st, Keys: keys, PublicURL: publicURL,
		TelegramAPIURL: w.tg.URL, TurnAPIURL: w.turn.URL,
		Logger: slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
}

// add adds a channel, failing the test on error.
func (w *world) add(t *testing.T, q channels.AddRequest) channels.View {
	t.Helper()
	v, err := w.reg.Add(t.Context(), q)
	if err != nil {
		t.Fatalf("Add(%s): %v", q.Key, err)
	}
	return v
}

// noSecrets fails if s holds any secret of the test.
func noSecrets(t *testing.T, what, s string, extra ...string) {
	t.Helper()
	for _, sec := range append([]string{clinicToken, schoolToken, "AAclinicSECRETclinicSECRETclinic01",
		"AAschoolSECRETschoolSECRETschool02", numberToken, channelToken}, extra...) {
		if sec != "" && bytes.Contains([]byte(s), []byte(sec)) {
			t.Errorf("%s holds a secret (%.8s…)", what, sec)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
