package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestReadinessRefusedToken: a well-formed bot token Telegram refuses (as a
// revoked one is) keeps /readyz at 503 with the reason, while /healthz
// answers: the pod serves nobody, so it must leave the rotation.
func TestReadinessRefusedToken(t *testing.T) {
	f := newFakes(t)
	// A channel key of its own: the metrics are the process's.
	const number = "5e1d7c3a-readiness-test-00000000001"
	f.turn.AddNumber(number, testTurnToken)
	e := f.baseEnv(t)
	e["TURN_NUMBER_ID"] = number
	e["TELEGRAM_BOT_TOKEN"] = "7000000001:AArevokedREVOKEDrevokedREVOKEDrevok"
	e["ADMIN_TOKEN"] = "admin-token-0123456789abcdef"
	ctx, cancel := context.WithCancel(context.Background())
	var log syncBuffer
	code := make(chan int, 1)
	go func() { code <- runContext(ctx, []string{"serve"}, e.getenv, &log) }()
	defer func() {
		cancel()
		if c := <-code; c != 0 {
			t.Errorf("serve exited %d", c)
		}
	}()
	url := "http://" + e["LISTEN_ADDR"]
	get := func(path string) (int, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body := get("/readyz")
		if status == http.StatusServiceUnavailable && strings.Contains(body, "Telegram refuses the bot token") {
			break
		}
		if status == http.StatusOK {
			t.Fatalf("ready with a refused token: %s", body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz %d %q, want 503 naming the refused token; log:\n%s", status, body, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, _ := get("/healthz"); status != http.StatusOK {
		t.Errorf("healthz %d, want 200: the process is alive", status)
	}
	if v := metricSum(t, "turn_telegram_credentials_refused", map[string]string{"channel": number, "upstream": "telegram"}, url); v != 1 {
		t.Errorf("turn_telegram_credentials_refused{upstream=telegram} = %v, want 1", v)
	}
	if v := metricSum(t, "turn_telegram_credentials_refused", map[string]string{"channel": number, "upstream": "turn"}, url); v != 0 {
		t.Errorf("turn_telegram_credentials_refused{upstream=turn} = %v, want 0", v)
	}
	if strings.Contains(log.String(), "revokedREVOKED") {
		t.Error("the token reached the log")
	}
}

// TestHostedReadinessIgnoresOneTenant: in hosted mode one channel whose
// token Telegram now refuses (revoked after it was added) never takes the
// replica out of rotation; the admin API and the metrics show it, and it
// clears once Telegram accepts the token again.
func TestHostedReadinessIgnoresOneTenant(t *testing.T) {
	f := newFakes(t)
	f.tg.AddBot(clinicBotToken, "clinic_bot", "Clinic")
	e := f.adminEnv(t)
	e["CHANNEL_SYNC_INTERVAL"] = "200ms"
	e["WEBHOOK_CHECK_INTERVAL"] = "200ms"
	svc := startService(t, e)
	adm := &adminClient{t: t, token: testAdminToken}
	add := map[string]any{"key": "clinic-r", "bot_token": clinicBotToken, "turn_token": testTurnToken}
	if status, body := adm.do(svc.url, http.MethodPost, "/admin/channels", add); status != http.StatusCreated {
		t.Fatalf("add: %d %s", status, body)
	}
	eventually(t, "the clinic is served", func() bool {
		v, _ := adm.view(svc.url, "clinic-r")
		return v.Served != nil && *v.Served
	})
	f.tg.RevokeToken(clinicBotToken)
	eventually(t, "the refused token to show in the admin API", func() bool {
		v, _ := adm.view(svc.url, "clinic-r")
		return len(v.Credentials) == 1 && strings.Contains(v.Credentials[0], "Telegram refuses the bot token")
	})
	resp, err := http.Get(svc.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readyz %d with one tenant's token refused, want 200", resp.StatusCode)
	}
	if v := metricSum(t, "turn_telegram_credentials_refused", map[string]string{"channel": "clinic-r", "upstream": "telegram"}, svc.url); v != 1 {
		t.Errorf("credentials_refused = %v, want 1", v)
	}
	f.tg.RestoreToken(clinicBotToken)
	eventually(t, "the problem to clear once the token works again", func() bool {
		v, _ := adm.view(svc.url, "clinic-r")
		return len(v.Credentials) == 0
	})
}
