package main

import (
	"context"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/store"
)

// deadJob stores a dead letter whose last error holds reason.
func deadJob(t *testing.T, dir, channel, reason string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Enqueue(ctx, store.Batch{Jobs: []store.NewJob{{Channel: channel, Kind: store.KindOutbound, Lane: "out:1"}}}); err != nil {
		t.Fatal(err)
	}
	jobs, err := st.Claim(ctx, store.ClaimParams{Worker: "test"})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v, %v", jobs, err)
	}
	if err := st.Kill(ctx, jobs[0], reason, store.Batch{}); err != nil {
		t.Fatal(err)
	}
}

// TestQueueListRedacts: `queue list` prints last errors through the
// service's redactor, so a secret that ever reached one (the environment's
// tokens, a hosted channel's secrets) never reaches the operator's terminal.
func TestQueueListRedacts(t *testing.T) {
	f := newFakes(t)
	t.Run("single channel", func(t *testing.T) {
		e := f.baseEnv(t)
		deadJob(t, e["DATA_DIR"], testNumberID, "telegram sendMessage: POST /bot"+testBotToken+"/sendMessage failed; turn said "+testTurnToken)
		out := cliOK(t, e, "queue", "list", "-state", "dead")
		if strings.Contains(out, testBotToken) || strings.Contains(out, testTurnToken) || strings.Contains(out, strings.SplitN(testBotToken, ":", 2)[1]) {
			t.Fatalf("queue list printed a secret:\n%s", out)
		}
		if !strings.Contains(out, "sendMessage failed") || !strings.Contains(out, "dead") {
			t.Errorf("queue list lost the reason:\n%s", out)
		}
	})
	t.Run("hosted", func(t *testing.T) {
		f.tg.AddBot(otherBotToken, "other_bot", "Other")
		e := hostedEnv(t)
		e["TELEGRAM_API_URL"], e["TURN_API_URL"] = f.tg.URL, f.turn.URL
		cliOK(t, e, "channels", "add", "-key", "other", "-bot-token", otherBotToken,
			"-number", testNumberID, "-hmac-secret-file", writeFile(t, "hmac", otherHMAC))
		deadJob(t, e["DATA_DIR"], "other", "signature check with "+otherHMAC+" via bot "+otherBotToken)
		out := cliOK(t, e, "queue", "list")
		if strings.Contains(out, otherHMAC) || strings.Contains(out, otherBotToken) {
			t.Fatalf("queue list printed a channel's secret:\n%s", out)
		}
		if !strings.Contains(out, "signature check with") {
			t.Errorf("queue list lost the reason:\n%s", out)
		}
	})
}
