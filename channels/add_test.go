package channels_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// TestAddCreatesTurnChannel adds a channel as an operator does: the bot is
// checked with getMe, the Turn channel is created with exactly the body
// Turn's documentation gives, its number and secret are stored sealed, and
// the bot's webhook is registered with a secret token of its own.
func TestAddCreatesTurnChannel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		v := w.add(t, channels.AddRequest{BotToken: clinicToken, TurnToken: numberToken})

		created := w.turn.CreatedChannels()
		if len(created) != 1 {
			t.Fatalf("Turn created %d channels, want 1", len(created))
		}
		const wantBody = `{"backend_type":"channel","number_type":"channel_http_api","from_addr":"@Clinic_Bot","name":"Clinic","endpoint":"https://tt.example.org/channels/clinic_bot/turn"}`
		if got := string(created[0].Body); got != wantBody {
			t.Errorf("POST /v1/numbers body\n got %s\nwant %s", got, wantBody)
		}
		want := channels.View{
			Key: "clinic_bot",
			Bot: channels.BotView{ID: 5550001111, Username: "Clinic_Bot", Name: "Clinic"},
			Turn: channels.TurnView{
				NumberID: created[0].NumberID, WebhookID: created[0].WebhookID, Origin: "created",
				Endpoint: publicURL + "/channels/clinic_bot/turn",
			},
			Telegram: channels.TelegramURL{Webhook: publicURL + "/channels/clinic_bot/telegram"},
			Secrets:  channels.SecretsSet{BotToken: true, HMACSecret: true, WebhookSecret: true},
			KeyID:    w.keys.CurrentID(),
		}
		checkView(t, v, want)
		if len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "set-token clinic_bot") {
			t.Errorf("warnings %q: want one telling to set the Turn token", v.Warnings)
		}
		shown, err := w.reg.Show(t.Context(), "clinic_bot")
		if err != nil {
			t.Fatal(err)
		}
		checkView(t, shown, want)

		c, err := w.reg.Load(t.Context(), "clinic_bot")
		if err != nil {
			t.Fatal(err)
		}
		if c.Secrets.BotToken != clinicToken || c.Secrets.HMACSecret != created[0].HMACSecret || c.Secrets.TurnToken != "" {
			t.Errorf("stored secrets do not match: bot token %t, HMAC secret %t, turn token %q",
				c.Secrets.BotToken == clinicToken, c.Secrets.HMACSecret == created[0].HMACSecret, c.Secrets.TurnToken)
		}
		calls := w.tg.CallsTo("setWebhook")
		if len(calls) != 1 || calls[0].Status != 200 {
			t.Fatalf("setWebhook calls %+v, want one accepted", calls)
		}
		p := calls[0].Params
		if p["url"] != want.Telegram.Webhook || p["secret_token"] != c.Secrets.WebhookSecret || len(p["secret_token"]) < 40 {
			t.Errorf("setWebhook url %q secret of %d characters (stored one: %t)", p["url"], len(p["secret_token"]), p["secret_token"] == c.Secrets.WebhookSecret)
		}
		var allowed []string
		if err := json.Unmarshal([]byte(p["allowed_updates"]), &allowed); err != nil || !slices.Equal(allowed, bot.AllowedUpdates) {
			t.Errorf("setWebhook allowed_updates %s, want %v", p["allowed_updates"], bot.AllowedUpdates)
		}
		noSecrets(t, "the view", mustJSON(t, v), c.Secrets.HMACSecret, c.Secrets.WebhookSecret)
		noSecrets(t, "the log", w.logs.String(), c.Secrets.HMACSecret, c.Secrets.WebhookSecret)
	})
}

// TestAddBindsExistingChannel binds a bot to a Turn channel created
// earlier: nothing is created at Turn.
func TestAddBindsExistingChannel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		const hmac = "existing-channel-hmac-secret-0042"
		v := w.add(t, channels.AddRequest{
			Key: "school", BotToken: schoolToken, NumberID: numberID, HMACSecret: hmac, ChannelToken: channelToken,
			Options: channels.Options{RateLimit: 100},
		})
		if n := len(w.turn.CreatedChannels()); n != 0 {
			t.Fatalf("binding created %d Turn channels", n)
		}
		checkView(t, v, channels.View{
			Key:      "school",
			Bot:      channels.BotView{ID: 5550002222, Username: "school_bot", Name: "School"},
			Turn:     channels.TurnView{NumberID: numberID, Origin: "bound", Endpoint: publicURL + "/channels/school/turn"},
			Telegram: channels.TelegramURL{Webhook: publicURL + "/channels/school/telegram"},
			Secrets:  channels.SecretsSet{BotToken: true, TurnToken: true, HMACSecret: true, WebhookSecret: true},
			Options:  channels.Options{RateLimit: 100},
			KeyID:    w.keys.CurrentID(),
		})
		if len(v.Warnings) != 0 {
			t.Errorf("warnings %q, want none", v.Warnings)
		}
		c, err := w.reg.Load(t.Context(), "school")
		if err != nil {
			t.Fatal(err)
		}
		cfg := w.reg.Config(c)
		if cfg.TurnNumberID != numberID || cfg.TurnHMACSecret != hmac || cfg.TurnToken != channelToken ||
			cfg.TelegramToken != schoolToken || cfg.RateLimit != 100 || cfg.Key != "school" || cfg.TurnAPIURL != w.turn.URL {
			t.Errorf("serving configuration %+v does not match what was added", cfg)
		}
	})
}

// TestAddRefuses checks that an add that cannot succeed stops before
// anything is created at Turn, with a message naming the problem.
func TestAddRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		before func(t *testing.T, w *world)
		q      channels.AddRequest
		code   channels.Code
		msg    string
	}{
		{"no bot token", nil, channels.AddRequest{TurnToken: numberToken}, channels.Invalid, "bot token is required"},
		{"malformed bot token", nil, channels.AddRequest{BotToken: "abc", TurnToken: numberToken}, channels.Invalid, "malformed"},
		{"neither create nor bind", nil, channels.AddRequest{BotToken: clinicToken}, channels.Invalid, "give either"},
		{"both create and bind", nil, channels.AddRequest{BotToken: clinicToken, TurnToken: numberToken, NumberID: numberID, HMACSecret: "x"}, channels.Invalid, "give either"},
		{"bind without secret", nil, channels.AddRequest{BotToken: clinicToken, NumberID: numberID}, channels.Invalid, "HMAC secret"},
		{"bad key", nil, channels.AddRequest{Key: "../admin", BotToken: clinicToken, TurnToken: numberToken}, channels.Invalid, "channel key"},
		{"bot unknown to Telegram", nil, channels.AddRequest{BotToken: "5550009999:AAunknownSECRETunknownSECRETunkn", TurnToken: numberToken}, channels.Invalid, "Telegram refused the bot token"},
		{"Turn refuses the number token", nil, channels.AddRequest{BotToken: clinicToken, TurnToken: "not-a-turn-token"}, channels.Invalid, "Turn refused the token"},
		{"key taken", func(t *testing.T, w *world) {
			w.add(t, channels.AddRequest{Key: "clinic", BotToken: schoolToken, TurnToken: numberToken})
		}, channels.AddRequest{Key: "clinic", BotToken: clinicToken, TurnToken: numberToken}, channels.Conflict, `channel "clinic" exists`},
		{"bot already bound", func(t *testing.T, w *world) {
			w.add(t, channels.AddRequest{Key: "first", BotToken: clinicToken, TurnToken: numberToken})
		}, channels.AddRequest{Key: "second", BotToken: clinicToken, TurnToken: numberToken}, channels.Conflict, `already serves channel "first"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, storetest.SQLite(t))
			if tc.before != nil {
				tc.before(t, w)
			}
			createdBefore := len(w.turn.CreatedChannels())
			_, err := w.reg.Add(t.Context(), tc.q)
			if channels.CodeOf(err) != tc.code || !strings.Contains(channels.MessageOf(err), tc.msg) {
				t.Fatalf("Add: %v (code %s); want code %s and a message saying %q", err, channels.CodeOf(err), tc.code, tc.msg)
			}
			if n := len(w.turn.CreatedChannels()); n != createdBefore {
				t.Errorf("a refused add created %d Turn channels", n-createdBefore)
			}
			noSecrets(t, "the error", err.Error())
		})
	}
}

// checkView compares a view with want, ignoring times, versions and warnings.
func checkView(t *testing.T, got, want channels.View) {
	t.Helper()
	if got.Version <= 0 || got.Created.IsZero() || got.Updated.Before(got.Created) {
		t.Errorf("view %s: version %d, created %v, updated %v", got.Key, got.Version, got.Created, got.Updated)
	}
	got.Version, got.Created, got.Updated, got.Warnings = 0, want.Created, want.Updated, nil
	if mustJSON(t, got) != mustJSON(t, want) {
		t.Errorf("view\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
	}
}
