package channels_test

import (
	"testing"

	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// TestOperations runs the operator's commands after an add, each checked
// through what it changed.
func TestOperations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st)
		w.add(t, channels.AddRequest{Key: "school", BotToken: schoolToken, NumberID: numberID, HMACSecret: "school-hmac"})
		added := w.add(t, channels.AddRequest{Key: "clinic", BotToken: clinicToken, TurnToken: numberToken})
		ctx := t.Context()

		v, err := w.reg.SetToken(ctx, "clinic", "  "+channelToken+"\n")
		if err != nil || !v.Secrets.TurnToken || v.Version <= added.Version {
			t.Fatalf("SetToken: %+v, %v", v, err)
		}
		if c, err := w.reg.Load(ctx, "clinic"); err != nil || c.Secrets.TurnToken != channelToken || c.Secrets.BotToken != clinicToken {
			t.Fatalf("after SetToken the channel holds turn token %t, bot token %t (%v)",
				c != nil && c.Secrets.TurnToken == channelToken, c != nil && c.Secrets.BotToken == clinicToken, err)
		}
		if v, err = w.reg.SetDisabled(ctx, "clinic", true); err != nil || !v.Disabled {
			t.Fatalf("disable: %+v, %v", v, err)
		}
		if v, err = w.reg.Show(ctx, "clinic"); err != nil || !v.Disabled || !v.Secrets.TurnToken {
			t.Fatalf("disabled channel shown as %+v, %v", v, err)
		}
		if v, err = w.reg.SetDisabled(ctx, "clinic", false); err != nil || v.Disabled {
			t.Fatalf("enable: %+v, %v", v, err)
		}

		list, err := w.reg.List(ctx)
		if err != nil || len(list) != 2 || list[0].Key != "clinic" || list[1].Key != "school" {
			t.Fatalf("List = %+v, %v; want clinic and school, by key", list, err)
		}
		noSecrets(t, "the list", mustJSON(t, list), "school-hmac")

		warnings, err := w.reg.Remove(ctx, "clinic")
		if err != nil || len(warnings) != 0 {
			t.Fatalf("Remove: %q, %v", warnings, err)
		}
		if calls := w.tg.CallsTo("deleteWebhook"); len(calls) != 1 || calls[0].Status != 200 {
			t.Errorf("deleteWebhook calls %+v, want one accepted", calls)
		}
		if _, err := w.reg.Show(ctx, "clinic"); channels.CodeOf(err) != channels.NotFound {
			t.Errorf("Show after Remove: %v, want not found", err)
		}
		if list, err = w.reg.List(ctx); err != nil || len(list) != 1 || list[0].Key != "school" {
			t.Errorf("List after Remove = %+v, %v; want school only", list, err)
		}
		// The key and the bot are free again.
		w.add(t, channels.AddRequest{Key: "clinic", BotToken: clinicToken, NumberID: numberID, HMACSecret: "again"})

		for _, tc := range []struct {
			name string
			err  error
			code channels.Code
		}{
			{"set-token of an unknown channel", func() error { _, err := w.reg.SetToken(ctx, "nope", "x"); return err }(), channels.NotFound},
			{"empty token", func() error { _, err := w.reg.SetToken(ctx, "school", " "); return err }(), channels.Invalid},
			{"disable an unknown channel", func() error { _, err := w.reg.SetDisabled(ctx, "nope", true); return err }(), channels.NotFound},
			{"remove an unknown channel", func() error { _, err := w.reg.Remove(ctx, "nope"); return err }(), channels.NotFound},
			{"show an unknown channel", func() error { _, err := w.reg.Show(ctx, "nope"); return err }(), channels.NotFound},
		} {
			if channels.CodeOf(tc.err) != tc.code {
				t.Errorf("%s: %v (code %s), want code %s", tc.name, tc.err, channels.CodeOf(tc.err), tc.code)
			}
		}
		noSecrets(t, "the log", w.logs.String(), "school-hmac")
	})
}
