package channels_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// replica is one process's service and syncer.
type replica struct {
	svc     *bot.Service
	sync    *channels.Syncer
	mu      sync.Mutex
	secrets []string
}

func newReplica(t *testing.T, w *world, st store.Store, reserved ...string) *replica {
	t.Helper()
	r := &replica{svc: bot.NewService(st, bot.Options{PublicURL: publicURL}, nil)}
	r.sync = channels.NewSyncer(channels.SyncConfig{
		Registry: w.registry(w.keys), Service: r.svc, Reserved: reserved,
		Secrets: func(v ...string) { r.mu.Lock(); r.secrets = append(r.secrets, v...); r.mu.Unlock() },
	})
	return r
}

// served syncs and returns the keys served, sorted.
func (r *replica) served(t *testing.T) []string {
	t.Helper()
	if err := r.sync.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	keys := r.svc.Channels()
	slices.Sort(keys)
	return keys
}

// TestSyncServesStoreChannels checks that two replicas sharing a store serve
// what it holds after each operation: added and enabled channels, with
// their current settings; not disabled, removed, reserved or unopenable ones.
func TestSyncServesStoreChannels(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		a, b := newReplica(t, w, st, "reserved"), newReplica(t, w, st, "reserved")
		ctx := t.Context()
		both := func(what string, want ...string) {
			t.Helper()
			for i, r := range []*replica{a, b} {
				if got := r.served(t); strings.Join(got, ",") != strings.Join(want, ",") {
					t.Fatalf("%s: replica %d serves %v, want %v", what, i, got, want)
				}
			}
		}
		both("empty store")
		w.add(t, channels.AddRequest{Key: "clinic", BotToken: clinicToken, TurnToken: numberToken})
		w.add(t, channels.AddRequest{Key: "school", BotToken: schoolToken, NumberID: numberID, HMACSecret: "school-hmac", ChannelToken: channelToken})
		both("after two adds", "clinic", "school")

		ch, _ := a.svc.Channel("school")
		if cfg := ch.Config; cfg.TelegramToken != schoolToken || cfg.TurnToken != channelToken || cfg.TurnHMACSecret != "school-hmac" || cfg.TurnNumberID != numberID {
			t.Fatal("replica a serves school with other settings than stored")
		}
		if ch.WebhookSecret() == bot.DerivedWebhookSecret(schoolToken) || len(ch.WebhookSecret()) < 40 {
			t.Fatal("a stored channel is not served with its own random webhook secret")
		}
		a.mu.Lock()
		told := slices.Contains(a.secrets, schoolToken) && slices.Contains(a.secrets, "school-hmac") &&
			slices.Contains(a.secrets, channelToken) && slices.Contains(a.secrets, ch.WebhookSecret())
		a.mu.Unlock()
		if !told {
			t.Fatal("the syncer did not hand the channel's secrets to the redactor before serving it")
		}
		a.served(t)
		if again, _ := a.svc.Channel("school"); again != ch {
			t.Fatal("a pass without changes replaced a served channel")
		}

		if _, err := w.reg.SetDisabled(ctx, "clinic", true); err != nil {
			t.Fatal(err)
		}
		both("clinic disabled", "school")
		if _, err := w.reg.SetDisabled(ctx, "clinic", false); err != nil {
			t.Fatal(err)
		}
		if _, err := w.reg.SetToken(ctx, "clinic", "fresh-clinic-token"); err != nil {
			t.Fatal(err)
		}
		both("clinic enabled with a token", "clinic", "school")
		if ch, _ := b.svc.Channel("clinic"); ch.Config.TurnToken != "fresh-clinic-token" {
			t.Fatalf("replica b serves clinic with Turn token %q, want the one just set", ch.Config.TurnToken)
		}
		if _, err := w.reg.Remove(ctx, "school"); err != nil {
			t.Fatal(err)
		}
		both("school removed", "clinic")

		// Not served: a reserved key, and a channel sealed with a key the
		// replicas do not hold.
		w.add(t, channels.AddRequest{Key: "reserved", BotToken: schoolToken, NumberID: numberID, HMACSecret: "x"})
		if _, err := w.reg.Remove(ctx, "reserved"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.registry(keyring(t, fixedKey(5))).Add(ctx, channels.AddRequest{
			Key: "foreign", BotToken: schoolToken, NumberID: numberID, HMACSecret: "x",
		}); err != nil {
			t.Fatal(err)
		}
		both("foreign key", "clinic")
		if p := a.sync.Problem("foreign"); !strings.Contains(p, "SECRET_KEY") {
			t.Fatalf("problem of the unopenable channel: %q", p)
		}
	})
}

// TestLookupServesANewChannelAtOnce checks that a replica asked about a key
// it does not serve (a webhook call, a job) loads it without waiting for its
// next pass.
func TestLookupServesANewChannelAtOnce(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	w := newWorld(t, st)
	r := newReplica(t, w, st)
	r.served(t)
	w.add(t, channels.AddRequest{Key: "clinic", BotToken: clinicToken, TurnToken: numberToken})
	if !r.sync.Lookup(t.Context(), "clinic") {
		t.Fatal("Lookup of a channel just added: not served")
	}
	if _, ok := r.svc.Channel("clinic"); !ok {
		t.Fatal("the service does not serve the channel Lookup loaded")
	}
	if r.sync.Lookup(t.Context(), "nope") {
		t.Fatal("Lookup of an unknown key reported it served")
	}
}

// TestSyncTellsSecretsOncePerPass checks that a pass loading many channels
// hands every one's secrets to the redactor in one call, before it serves
// any of them: a redactor rebuilt per channel made loading 1,000 channels
// quadratic (cmd/loadtest -scenarios hosted).
func TestSyncTellsSecretsOncePerPass(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	w := newWorld(t, st)
	var (
		mu    sync.Mutex
		calls [][]string
	)
	svc := bot.NewService(st, bot.Options{PublicURL: publicURL}, nil)
	s := channels.NewSyncer(channels.SyncConfig{
		Registry: w.registry(w.keys), Service: svc,
		Secrets: func(v ...string) {
			mu.Lock()
			defer mu.Unlock()
			if n := len(svc.Channels()); n != 0 {
				t.Errorf("secrets told while %d channels are served already", n)
			}
			calls = append(calls, slices.Clone(v))
		},
	})
	w.add(t, channels.AddRequest{Key: "clinic", BotToken: clinicToken, NumberID: numberID, HMACSecret: "clinic-hmac", ChannelToken: channelToken})
	w.add(t, channels.AddRequest{Key: "school", BotToken: schoolToken, NumberID: numberID, HMACSecret: "school-hmac"})
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := svc.Channels(); len(got) != 2 {
		t.Fatalf("serves %v, want clinic and school", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 {
		t.Fatalf("secrets told in %d calls, want 1", len(calls))
	}
	for _, want := range []string{clinicToken, schoolToken, "clinic-hmac", "school-hmac", channelToken} {
		if !slices.Contains(calls[0], want) {
			t.Errorf("the pass's secrets lack one (%.6s…)", want)
		}
	}
}
