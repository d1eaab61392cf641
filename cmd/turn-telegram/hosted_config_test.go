package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// Hosted-mode secrets of the tests: a key (as base64 and as hex), a
// previous key and an admin token.
var (
	testKeyRaw      = []byte("0123456789abcdef0123456789ABCDEF")
	testSecretKey   = base64.StdEncoding.EncodeToString(testKeyRaw)
	testPreviousKey = hex.EncodeToString([]byte("fedcba9876543210FEDCBA9876543210"))
)

const testAdminToken = "admin-token-3b9f1c7e5a2d8046"

// hostedEnv is a valid hosted-only configuration: no channel in the
// environment, channels from the store.
func hostedEnv(t *testing.T) testEnv {
	return testEnv{
		"SECRET_KEY":       testSecretKey,
		"PUBLIC_URL":       "https://tt.example.org",
		"TELEGRAM_API_URL": "http://127.0.0.1:1",
		"TURN_API_URL":     "http://127.0.0.1:1",
		"DATA_DIR":         t.TempDir(),
		"LISTEN_ADDR":      "127.0.0.1:1",
	}
}

// TestHostedConfigErrors checks the hosted settings as TestConfigErrors
// checks the others: one line naming the variable, exit code 2, no secret.
func TestHostedConfigErrors(t *testing.T) {
	missing := writeFile(t, "gone", "") + ".missing"
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, e testEnv)
		want   string
	}{
		{"neither a bot token nor a secret key", func(t *testing.T, e testEnv) {
			delete(e, "SECRET_KEY")
		}, "TELEGRAM_BOT_TOKEN is required (the token @BotFather gave the bot), or SECRET_KEY"},
		{"secret key too short", func(t *testing.T, e testEnv) {
			e["SECRET_KEY"] = base64.StdEncoding.EncodeToString(testKeyRaw[:16])
		}, "SECRET_KEY must be 32 random bytes written as base64 or hex"},
		{"secret key a passphrase", func(t *testing.T, e testEnv) {
			e["SECRET_KEY"] = "my very secret passphrase"
		}, "SECRET_KEY must be 32 random bytes"},
		{"previous key malformed", func(t *testing.T, e testEnv) {
			e["SECRET_KEY_PREVIOUS"] = "zz"
		}, "SECRET_KEY_PREVIOUS must be 32 random bytes"},
		{"previous key without a key", func(t *testing.T, e testEnv) {
			delete(e, "SECRET_KEY")
			e["SECRET_KEY_PREVIOUS"] = testPreviousKey
		}, "SECRET_KEY is required when SECRET_KEY_PREVIOUS is set"},
		{"unreadable key file", func(t *testing.T, e testEnv) {
			e["SECRET_KEY_FILE"] = missing
		}, "SECRET_KEY_FILE cannot be read"},
		{"no PUBLIC_URL", func(t *testing.T, e testEnv) {
			delete(e, "PUBLIC_URL")
		}, "PUBLIC_URL is required with SECRET_KEY"},
		{"weak admin token", func(t *testing.T, e testEnv) {
			e["ADMIN_TOKEN"] = "admin"
		}, "ADMIN_TOKEN must be at least 16 characters"},
		{"unreadable admin token file", func(t *testing.T, e testEnv) {
			e["ADMIN_TOKEN_FILE"] = missing
		}, "ADMIN_TOKEN_FILE cannot be read"},
		{"bad sync interval", func(t *testing.T, e testEnv) {
			e["CHANNEL_SYNC_INTERVAL"] = "often"
		}, "CHANNEL_SYNC_INTERVAL must be a positive duration"},
		{"bad webhook check interval", func(t *testing.T, e testEnv) {
			e["WEBHOOK_CHECK_INTERVAL"] = "-1m"
		}, "WEBHOOK_CHECK_INTERVAL must be a positive duration"},
		{"environment channel still checked", func(t *testing.T, e testEnv) {
			e["TELEGRAM_BOT_TOKEN"] = testBotToken
		}, "TURN_NUMBER_ID is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := hostedEnv(t)
			tc.change(t, e)
			var out syncBuffer
			code := runContext(context.Background(), []string{"serve"}, e.getenv, &out)
			got := out.String()
			if code != 2 || strings.Count(got, "\n") != 1 {
				t.Fatalf("exit code %d, output %q: want 2 and one line", code, got)
			}
			if prefix := "turn-telegram: configuration: " + tc.want; !strings.HasPrefix(failureMessage(t, got), prefix) {
				t.Errorf("output %q, want a message starting %q", got, prefix)
			}
			for _, secret := range []string{testSecretKey, testPreviousKey, "my very secret passphrase"} {
				if strings.Contains(got, secret) {
					t.Errorf("the output echoes a key: %q", got)
				}
			}
		})
	}
}

// TestHostedConfig checks valid hosted settings: keys as base64, hex or a
// file, a channel from the environment alongside, and the defaults.
func TestHostedConfig(t *testing.T) {
	e := hostedEnv(t)
	e["SECRET_KEY_FILE"] = writeFile(t, "key", hex.EncodeToString(testKeyRaw)+"\n")
	e["SECRET_KEY"] = "not-the-one-in-the-file"
	e["SECRET_KEY_PREVIOUS"] = testPreviousKey
	e["ADMIN_TOKEN_FILE"] = writeFile(t, "admin", testAdminToken+"\n")
	c, err := loadConfig(e.getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.SecretKey) != string(testKeyRaw) || string(c.SecretKeyPrevious) != "fedcba9876543210FEDCBA9876543210" {
		t.Errorf("keys %q / %q, want the file's and the previous one", c.SecretKey, c.SecretKeyPrevious)
	}
	if !c.hosted() || c.AdminToken != testAdminToken || c.SyncInterval.String() != "5s" || c.WebhookCheck.String() != "1m0s" {
		t.Errorf("hosted %t, admin token from the file %t, intervals %s and %s", c.hosted(), c.AdminToken == testAdminToken, c.SyncInterval, c.WebhookCheck)
	}
	for _, s := range []string{hex.EncodeToString(testKeyRaw), testPreviousKey, testAdminToken} {
		found := false
		for _, known := range c.secrets() {
			found = found || known == s
		}
		if !found {
			t.Errorf("the logger would not redact %.6s…", s)
		}
	}

	both := hostedEnv(t)
	for k, v := range validEnv(t) {
		both[k] = v
	}
	both["PUBLIC_URL"] = "https://tt.example.org"
	if c, err := loadConfig(both.getenv, true); err != nil || !c.hosted() || c.TelegramToken == "" || c.TelegramMode != "webhook" {
		t.Errorf("environment channel and stored channels together: hosted %t, env channel %t, mode %q (%v)",
			c != nil && c.hosted(), c != nil && c.TelegramToken != "", c.mode(), err)
	}
}

func (c *config) mode() string {
	if c == nil {
		return ""
	}
	return c.TelegramMode
}
