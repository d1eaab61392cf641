package main

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/turn"
)

// TestHostedFakes checks what the hosted walkthrough needs of the fakes:
// hosted settings with two bots and a Turn number to create channels with,
// a created channel's token issued as Turn's UI does, and both sides played
// per bot.
func TestHostedFakes(t *testing.T) {
	svc := newFakeService(t)
	r := startFakes(t, svc.srv.URL, "-hosted")

	for _, k := range []string{"SECRET_KEY", "ADMIN_TOKEN", "TELEGRAM_API_URL", "TURN_API_URL", "LISTEN_ADDR", "PUBLIC_URL",
		"DATA_DIR", "BOT_TOKEN_1", "BOT_TOKEN_2", "TURN_NUMBER_TOKEN"} {
		if r.env[k] == "" {
			t.Errorf("no export of %s in:\n%s", k, r.stdout.String())
		}
	}
	for _, k := range []string{"TELEGRAM_BOT_TOKEN", "TURN_NUMBER_ID", "TURN_HMAC_SECRET", "TELEGRAM_MODE"} {
		if _, ok := r.env[k]; ok {
			t.Errorf("hosted settings export %s, a single-channel setting", k)
		}
	}
	if key, err := base64.StdEncoding.DecodeString(r.env["SECRET_KEY"]); err != nil || len(key) != 32 {
		t.Errorf("SECRET_KEY is not 32 bytes of base64 (%d bytes, %v)", len(key), err)
	}
	if len(r.env["ADMIN_TOKEN"]) < 16 {
		t.Errorf("ADMIN_TOKEN %q is too short for the service", r.env["ADMIN_TOKEN"])
	}

	// Before `channels add`, there is no channel of the second bot.
	if code := r.do(t, "POST", "/turn/token?bot=turn_fakes_bot2", nil, nil); code != 404 {
		t.Errorf("a token for a channel not created: %d, want 404", code)
	}
	// `channels add` creates it with the number's token.
	created, err := turn.CreateChannel(t.Context(), nil, r.env["TURN_API_URL"], r.env["TURN_NUMBER_TOKEN"], turn.CreateChannelRequest{
		FromAddr: "@turn_fakes_bot2", Name: "Turn Fakes Two", Endpoint: svc.srv.URL + "/channels/two/turn",
	})
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]string
	if code := r.do(t, "GET", "/turn/channels", nil, &list); code != 200 || len(list) != 1 || list[0]["number_id"] != created.Number.UUID || list[0]["from_addr"] != "@turn_fakes_bot2" {
		t.Fatalf("GET /turn/channels: %d %v", code, list)
	}
	var issued map[string]string
	if code := r.do(t, "POST", "/turn/token?bot=turn_fakes_bot2", nil, &issued); code != 200 || issued["number_id"] != created.Number.UUID || issued["token"] == "" {
		t.Fatalf("POST /turn/token: %d %v", code, issued)
	}
	cl := turn.NewClient(r.env["TURN_API_URL"], created.Number.UUID, issued["token"], nil)
	if err := cl.SendStatus(t.Context(), &turn.Status{Status: turn.StatusObject{ID: "m1", Status: "sent", Timestamp: "1"}}); err != nil {
		t.Fatalf("the issued token does not work: %v", err)
	}
	var statuses []map[string]any
	if code := r.do(t, "GET", "/turn/statuses?bot=turn_fakes_bot2", nil, &statuses); code != 200 || len(statuses) != 1 {
		t.Errorf("GET /turn/statuses?bot=turn_fakes_bot2: %d %v", code, statuses)
	}

	// The journey of that channel posts to its endpoint, signed with its secret.
	svc.mu.Lock()
	svc.secret = created.Webhook.HMACSecret
	svc.mu.Unlock()
	if code := r.do(t, "POST", "/turn/send?bot=turn_fakes_bot2&chat=42", []byte(`{"type":"text","text":{"body":"hi"}}`), nil); code != 200 {
		t.Fatalf("POST /turn/send?bot=turn_fakes_bot2: %d", code)
	}
	svc.mu.Lock()
	path := svc.paths[len(svc.paths)-1]
	svc.mu.Unlock()
	if path != "/channels/two/turn" {
		t.Errorf("the journey posted to %s, want the created channel's endpoint", path)
	}

	// The user writes to the second bot.
	if code := r.do(t, "POST", "/user/text?bot=turn_fakes_bot2&chat=42&text=hello", nil, nil); code != 200 {
		t.Fatalf("POST /user/text?bot=turn_fakes_bot2: %d", code)
	}
	// Telegram goes down and comes back.
	var me map[string]any
	if code := r.do(t, "POST", "/telegram/down", nil, nil); code != 200 {
		t.Fatalf("POST /telegram/down: %d", code)
	}
	resp, err := http.Post(r.env["TELEGRAM_API_URL"]+"/bot"+r.env["BOT_TOKEN_2"]+"/getMe", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("getMe while Telegram is down: %d, want 502", resp.StatusCode)
	}
	if code := r.do(t, "POST", "/telegram/up", nil, &me); code != 200 || me["down"] != false {
		t.Fatalf("POST /telegram/up: %d %v", code, me)
	}
	if code := r.do(t, "POST", "/user/text?bot=nobody&chat=42&text=hello", nil, nil); code != 400 {
		t.Errorf("an unknown bot: %d, want 400", code)
	}
	if log := r.stderr.String(); strings.Contains(log, r.env["BOT_TOKEN_2"]) || strings.Contains(log, issued["token"]) {
		t.Error("the fakes' log holds a token")
	}
}
