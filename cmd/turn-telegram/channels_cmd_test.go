package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store"
)

// A second bot, bound to the fakes' existing Turn number.
const (
	otherBotToken = "6623001144:AAotherSECRETotherSECRETotherSECRE"
	otherHMAC     = "other-bound-hmac-secret-71c4"
)

// cli runs one command and returns its exit code, stdout and stderr.
func cli(t *testing.T, e testEnv, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncBuffer
	code := runIO(context.Background(), args, e.getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

// cliOK runs a command that must succeed and returns its stdout.
func cliOK(t *testing.T, e testEnv, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, e, args...)
	if code != 0 {
		t.Fatalf("turn-telegram %s exited %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestChannelsCommand runs every `channels` command against the fakes and
// the embedded store, as an operator would before starting the service.
func TestChannelsCommand(t *testing.T) {
	f := newFakes(t)
	f.tg.AddBot(otherBotToken, "other_bot", "Other")
	e := hostedEnv(t)
	e["TELEGRAM_API_URL"], e["TURN_API_URL"] = f.tg.URL, f.turn.URL
	var outputs []string
	run := func(args ...string) string {
		t.Helper()
		out := cliOK(t, e, args...)
		outputs = append(outputs, out)
		return out
	}
	view := func(out string) channels.View {
		t.Helper()
		var v channels.View
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("output is not a channel as JSON: %v\n%s", err, out)
		}
		return v
	}

	code, out, errOut := cli(t, e, "channels", "add",
		"-bot-token-file", writeFile(t, "bot", testBotToken+"\n"), "-turn-token-file", writeFile(t, "turn", testTurnToken))
	if code != 0 {
		t.Fatalf("add exited %d: %s %s", code, out, errOut)
	}
	outputs = append(outputs, out, errOut)
	created := view(out)
	if created.Key != "turn_e2e_bot" || created.Turn.Origin != "created" || created.Secrets.TurnToken {
		t.Fatalf("created channel %+v", created)
	}
	if !strings.Contains(errOut, "warning: no Turn token yet") {
		t.Errorf("add did not warn that the Turn token is missing: %q", errOut)
	}
	bound := view(run("channels", "add", "-key", "other", "-bot-token", otherBotToken,
		"-number", testNumberID, "-hmac-secret-file", writeFile(t, "hmac", otherHMAC), "-rate-limit", "50"))
	if bound.Key != "other" || bound.Turn.NumberID != testNumberID || bound.Options.RateLimit != 50 {
		t.Fatalf("bound channel %+v", bound)
	}

	list := run("channels", "list")
	for _, want := range []string{"turn_e2e_bot", "@turn_e2e_bot", created.Turn.NumberID, "missing", "other", "enabled"} {
		if !strings.Contains(list, want) {
			t.Errorf("list does not show %q:\n%s", want, list)
		}
	}
	if v := view(run("channels", "set-token", "turn_e2e_bot", "-token-file", writeFile(t, "ct", "issued-channel-token-1234\n"))); !v.Secrets.TurnToken {
		t.Error("set-token did not set the Turn token")
	}
	if v := view(run("channels", "disable", "other")); !v.Disabled {
		t.Error("disable did not disable")
	}
	if v := view(run("channels", "show", "other")); !v.Disabled || v.Bot.Username != "other_bot" {
		t.Errorf("show after disable: %+v", v)
	}
	if v := view(run("channels", "enable", "other")); v.Disabled {
		t.Error("enable did not enable")
	}

	// Rotation: the old key becomes SECRET_KEY_PREVIOUS.
	e["SECRET_KEY_PREVIOUS"], e["SECRET_KEY"] = testSecretKey, testPreviousKey
	var res channels.RotateResult
	if err := json.Unmarshal([]byte(run("channels", "rotate-key")), &res); err != nil || res.Resealed != 2 {
		t.Fatalf("rotate-key: %+v (%v), want 2 resealed", res, err)
	}
	delete(e, "SECRET_KEY_PREVIOUS")
	if v := view(run("channels", "show", "turn_e2e_bot")); v.Problem != "" || v.KeyID != channels.KeyID([]byte("fedcba9876543210FEDCBA9876543210")) {
		t.Errorf("after rotation, with the new key only: problem %q, key id %s", v.Problem, v.KeyID)
	}

	if out := run("channels", "remove", "other"); !strings.Contains(out, "removed: other") {
		t.Errorf("remove said %q", out)
	}
	for _, tc := range []struct {
		name string
		env  testEnv
		args []string
		code int
		want string
	}{
		{"show removed", e, []string{"channels", "show", "other"}, 1, `no channel "other"`},
		{"add without a Turn token or number", e, []string{"channels", "add", "-bot-token", otherBotToken}, 1, "give either"},
		{"no command", e, []string{"channels"}, 2, "usage: turn-telegram channels"},
		{"unknown command", e, []string{"channels", "frobnicate"}, 2, "usage: turn-telegram channels"},
		{"show without key", e, []string{"channels", "show"}, 2, "usage: turn-telegram channels"},
		{"no SECRET_KEY", testEnv{"DATA_DIR": e["DATA_DIR"]}, []string{"channels", "list"}, 2, "SECRET_KEY is required for channel commands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d, output %q %q; want %d and %q", code, out, errOut, tc.code, tc.want)
			}
			outputs = append(outputs, out, errOut)
		})
	}

	// A running service holds the embedded store: the command says what to do.
	st, err := store.OpenSQLite(t.Context(), e["DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut = cli(t, e, "channels", "list")
	st.Close()
	if code != 1 || !strings.Contains(errOut, "admin API") {
		t.Errorf("list on a store in use: exit %d, %q; want 1 and a pointer to the admin API", code, errOut)
	}

	all := strings.Join(outputs, "\n")
	for name, secret := range map[string]string{
		"bot token": testBotSecret, "other bot token": "AAotherSECRETotherSECRETotherSECRE", "number token": testTurnToken,
		"HMAC secret": otherHMAC, "channel token": "issued-channel-token-1234", "secret key": testSecretKey, "previous key": testPreviousKey,
	} {
		if strings.Contains(all, secret) {
			t.Errorf("the %s appears in the commands' output", name)
		}
	}
	for _, c := range f.turn.CreatedChannels() {
		if strings.Contains(all, c.HMACSecret) {
			t.Error("the created channel's HMAC secret appears in the commands' output")
		}
	}
}
