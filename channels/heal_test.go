package channels_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// rawSetWebhook sets a bot's webhook as someone else might (another
// deployment, a developer's script), waiting out Telegram's one call a
// second.
func rawSetWebhook(t *testing.T, tg *telegramtest.Server, token string, params map[string]any) {
	t.Helper()
	body, _ := json.Marshal(params)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Post(tg.URL+"/bot"+token+"/setWebhook", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("setWebhook %v: %s", params, resp.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFor polls cond until it holds, failing with what after 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHealerRepairsDrift serves a channel by webhook, breaks the webhook in
// each way it can drift, and checks that the healer puts it right (through
// the fake's limit of one setWebhook a second) and that updates flow again.
func TestHealerRepairsDrift(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		reason string
		drift  func(t *testing.T, tg *telegramtest.Server, url, secret string)
	}{
		{"deleted", "url", func(t *testing.T, tg *telegramtest.Server, _, _ string) {
			rawSetWebhook(t, tg, clinicToken, map[string]any{"url": ""})
		}},
		{"another URL", "url", func(t *testing.T, tg *telegramtest.Server, _, secret string) {
			rawSetWebhook(t, tg, clinicToken, map[string]any{"url": "https://elsewhere.example.org/hook", "secret_token": secret})
		}},
		{"allowed updates narrowed", "allowed_updates", func(t *testing.T, tg *telegramtest.Server, url, secret string) {
			rawSetWebhook(t, tg, clinicToken, map[string]any{"url": url, "secret_token": secret, "allowed_updates": []string{"message"}})
		}},
		{"another secret", "secret", func(t *testing.T, tg *telegramtest.Server, url, _ string) {
			rawSetWebhook(t, tg, clinicToken, map[string]any{"url": url, "secret_token": "someone-elses-secret", "allowed_updates": bot.AllowedUpdates})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := storetest.SQLite(t)
			w := newWorld(t, st)
			w.tg.AllowInsecureWebhooks(true)
			var svc *bot.Service
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				key := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/channels/"), "/telegram")
				svc.TelegramWebhook(rw, r, key)
			}))
			t.Cleanup(srv.Close)
			log := slog.New(slog.NewJSONHandler(w.logs, nil))
			svc = bot.NewService(st, bot.Options{PublicURL: srv.URL, Logger: log}, nil)
			reg := channels.New(channels.Config{Store: st, Keys: w.keys, PublicURL: srv.URL, TelegramAPIURL: w.tg.URL, TurnAPIURL: w.turn.URL, Logger: log})
			if _, err := reg.Add(t.Context(), channels.AddRequest{Key: "clinic", BotToken: clinicToken, NumberID: numberID, HMACSecret: "h"}); err != nil {
				t.Fatal(err)
			}
			c, err := reg.Load(t.Context(), "clinic")
			if err != nil {
				t.Fatal(err)
			}
			healer := channels.NewHealer(channels.HealerConfig{
				Service: svc, Interval: 50 * time.Millisecond, Logger: log,
			})
			sync := channels.NewSyncer(channels.SyncConfig{Registry: reg, Service: svc, Healer: healer, Logger: log})
			if err := sync.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			url := srv.URL + "/channels/clinic/telegram"
			tc.drift(t, w.tg, url, c.Secrets.WebhookSecret)
			if tc.reason == "secret" {
				// Telegram only shows a wrong secret through refused deliveries.
				w.tg.PushUpdate(clinicToken, telegramtest.UserText(42, "Ada", "", "before the repair"))
				waitFor(t, "a delivery was refused with 401", func() bool {
					for _, d := range w.tg.WebhookDeliveries() {
						if d.Status == http.StatusUnauthorized {
							return true
						}
					}
					return false
				})
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { healer.Run(ctx); close(done) }()
			t.Cleanup(func() { cancel(); <-done })

			waitFor(t, "the healer repaired the webhook", func() bool {
				s, ok := healer.State("clinic")
				return ok && s.Repairs > 0 && s.URL == url
			})
			s, _ := healer.State("clinic")
			if s.LastRepairReason != tc.reason || s.Expected != url {
				t.Errorf("repair reason %q, expected URL %q; want %q and %q", s.LastRepairReason, s.Expected, tc.reason, url)
			}
			last := w.tg.CallsTo("setWebhook")
			p := last[len(last)-1].Params
			if p["url"] != url || p["secret_token"] != c.Secrets.WebhookSecret {
				t.Fatalf("the last setWebhook has url %q and the channel's secret: %t", p["url"], p["secret_token"] == c.Secrets.WebhookSecret)
			}

			// Updates reach the service again (the refused one included).
			w.tg.PushUpdate(clinicToken, telegramtest.UserText(42, "Ada", "", "after the repair"))
			want := 1
			if tc.reason == "secret" {
				want = 2
			}
			waitFor(t, "the updates were stored", func() bool {
				jobs, err := st.ListJobs(t.Context(), store.JobFilter{Channel: "clinic", Kind: store.KindUpdate})
				return err == nil && len(jobs) == want
			})
			waitFor(t, "a check saw the repaired webhook healthy", func() bool {
				s, _ := healer.State("clinic")
				return s.CheckedAt.After(s.LastRepair) && s.CheckError == ""
			})

			metrics := prometheus.NewPedanticRegistry()
			metrics.MustRegister(healer)
			families, err := metrics.Gather()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, f := range families {
				for _, m := range f.GetMetric() {
					if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != "clinic" {
						t.Errorf("%s has labels %v, want channel=clinic only", f.GetName(), m.GetLabel())
					}
					got[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
			if len(got) != 4 || got["turn_telegram_webhook_healthy"] != 1 || got["turn_telegram_webhook_repairs_total"] < 1 {
				t.Errorf("webhook metrics %v: want 4, healthy, with a repair", got)
			}
		})
	}
}
