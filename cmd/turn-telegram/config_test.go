package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validEnv is a complete, valid single-channel configuration; the tests
// below break one thing in it at a time. Nothing in it is ever reached:
// start-up stops at the configuration.
func validEnv(t *testing.T) testEnv {
	return testEnv{
		"TELEGRAM_BOT_TOKEN": testBotToken,
		"TELEGRAM_API_URL":   "http://127.0.0.1:1",
		"TURN_API_URL":       "http://127.0.0.1:1",
		"TURN_NUMBER_ID":     testNumberID,
		"TURN_TOKEN":         testTurnToken,
		"TURN_HMAC_SECRET":   testHMACSecret,
		"DATA_DIR":           t.TempDir(),
		"LISTEN_ADDR":        "127.0.0.1:1",
	}
}

// writeFile writes content to a new file of the test and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigErrors checks that every bad setting stops `serve` with exit
// code 2 and one line naming the variable (and, for an unreadable file, the
// file), and never echoes a secret.
func TestConfigErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-file")
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, e testEnv)
		want   string   // the line's prefix after "turn-telegram: configuration: "
		also   []string // further text the line must contain
	}{
		{"missing bot token", func(t *testing.T, e testEnv) {
			delete(e, "TELEGRAM_BOT_TOKEN")
		}, "TELEGRAM_BOT_TOKEN is required", nil},
		{"blank bot token", func(t *testing.T, e testEnv) {
			e["TELEGRAM_BOT_TOKEN"] = "   "
		}, "TELEGRAM_BOT_TOKEN is required", nil},
		{"malformed bot token", func(t *testing.T, e testEnv) {
			e["TELEGRAM_BOT_TOKEN"] = "AAFq3xZt9LmR2vK8wYp4HnB6cJd1sE5uGoT"
		}, "TELEGRAM_BOT_TOKEN is malformed", nil},
		{"bot token without its secret", func(t *testing.T, e testEnv) {
			e["TELEGRAM_BOT_TOKEN"] = "7412583690:"
		}, "TELEGRAM_BOT_TOKEN is malformed", nil},
		{"missing number id", func(t *testing.T, e testEnv) {
			delete(e, "TURN_NUMBER_ID")
		}, "TURN_NUMBER_ID is required", nil},
		{"number id with a slash", func(t *testing.T, e testEnv) {
			e["TURN_NUMBER_ID"] = "../admin"
		}, "TURN_NUMBER_ID is malformed", nil},
		{"missing Turn token", func(t *testing.T, e testEnv) {
			delete(e, "TURN_TOKEN")
		}, "TURN_TOKEN is required", nil},
		{"missing HMAC secret", func(t *testing.T, e testEnv) {
			delete(e, "TURN_HMAC_SECRET")
		}, "TURN_HMAC_SECRET is required", nil},
		{"webhook mode without PUBLIC_URL", func(t *testing.T, e testEnv) {
			e["TELEGRAM_MODE"] = "webhook"
		}, "PUBLIC_URL is required when TELEGRAM_MODE=webhook", nil},
		{"unknown mode", func(t *testing.T, e testEnv) {
			e["TELEGRAM_MODE"] = "push"
		}, "TELEGRAM_MODE must be polling or webhook", nil},
		{"PUBLIC_URL not http", func(t *testing.T, e testEnv) {
			e["PUBLIC_URL"] = "ftp://bot.example.org"
		}, "PUBLIC_URL must be an absolute http(s) URL", nil},
		{"TELEGRAM_API_URL without host", func(t *testing.T, e testEnv) {
			e["TELEGRAM_API_URL"] = "http://"
		}, "TELEGRAM_API_URL must be an absolute http(s) URL", nil},
		{"webhook secret with bad characters", func(t *testing.T, e testEnv) {
			e["TELEGRAM_WEBHOOK_SECRET"] = "no spaces allowed"
		}, "TELEGRAM_WEBHOOK_SECRET must be", nil},
		{"DATABASE_URL not postgres", func(t *testing.T, e testEnv) {
			e["DATABASE_URL"] = "mysql://user:pw@db.example.org/tt"
		}, "DATABASE_URL must be a postgres:// URL", nil},
		{"DATABASE_URL not a URL", func(t *testing.T, e testEnv) {
			e["DATABASE_URL"] = "host=db user=tt"
		}, "DATABASE_URL must be a postgres:// URL", nil},
		{"bad duration", func(t *testing.T, e testEnv) {
			e["MEDIA_LINK_TTL"] = "forever"
		}, "MEDIA_LINK_TTL must be a positive duration", nil},
		{"workers out of range", func(t *testing.T, e testEnv) {
			e["WORKERS"] = "0"
		}, "WORKERS must be a whole number from 1 to 1024", nil},
		{"bad log level", func(t *testing.T, e testEnv) {
			e["LOG_LEVEL"] = "verbose"
		}, "LOG_LEVEL must be", nil},

		// NAME_FILE wins over NAME.
		{"token file wins over a malformed token", func(t *testing.T, e testEnv) {
			e["TELEGRAM_BOT_TOKEN"] = "malformed"
			e["TELEGRAM_BOT_TOKEN_FILE"] = writeFile(t, "token", testBotToken+"\n")
			delete(e, "TURN_NUMBER_ID") // so start-up still stops, past the token
		}, "TURN_NUMBER_ID is required", nil},
		{"malformed token file wins over a good token", func(t *testing.T, e testEnv) {
			e["TELEGRAM_BOT_TOKEN_FILE"] = writeFile(t, "token", "123:short\n")
		}, "TELEGRAM_BOT_TOKEN is malformed", nil},
		{"empty HMAC secret file wins", func(t *testing.T, e testEnv) {
			e["TURN_HMAC_SECRET_FILE"] = writeFile(t, "hmac", "\n")
		}, "TURN_HMAC_SECRET is required", nil},
		{"DATABASE_URL file wins", func(t *testing.T, e testEnv) {
			e["DATABASE_URL"] = "postgres://tt@127.0.0.1:1/tt"
			e["DATABASE_URL_FILE"] = writeFile(t, "dburl", "mysql://tt@db/tt")
		}, "DATABASE_URL must be a postgres:// URL", nil},
		{"unreadable token file", func(t *testing.T, e testEnv) {
			e["TELEGRAM_BOT_TOKEN_FILE"] = missing
		}, "TELEGRAM_BOT_TOKEN_FILE cannot be read", []string{missing}},
		{"unreadable Turn token file", func(t *testing.T, e testEnv) {
			e["TURN_TOKEN_FILE"] = missing
		}, "TURN_TOKEN_FILE cannot be read", []string{missing}},
		{"HMAC secret file is a directory", func(t *testing.T, e testEnv) {
			e["TURN_HMAC_SECRET_FILE"] = t.TempDir()
		}, "TURN_HMAC_SECRET_FILE cannot be read", nil},
		{"unreadable webhook secret file", func(t *testing.T, e testEnv) {
			e["TELEGRAM_WEBHOOK_SECRET_FILE"] = missing
		}, "TELEGRAM_WEBHOOK_SECRET_FILE cannot be read", []string{missing}},
		{"unreadable DATABASE_URL file", func(t *testing.T, e testEnv) {
			e["DATABASE_URL_FILE"] = missing
		}, "DATABASE_URL_FILE cannot be read", []string{missing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := validEnv(t)
			tc.change(t, e)
			var out syncBuffer
			code := runContext(context.Background(), []string{"serve"}, e.getenv, &out)
			got := out.String()
			if code != 2 {
				t.Fatalf("exit code %d, want 2; output:\n%s", code, got)
			}
			if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
				t.Errorf("output is not one line:\n%s", got)
			}
			prefix := "turn-telegram: configuration: " + tc.want
			if msg := failureMessage(t, got); !strings.HasPrefix(msg, prefix) {
				t.Errorf("message %q, want it to start %q", msg, prefix)
			}
			for _, s := range tc.also {
				if !strings.Contains(got, s) {
					t.Errorf("output %q does not name %q", got, s)
				}
			}
			checkNoSecrets(t, got)
		})
	}
}

// TestConfigFileContents checks that a secret read from a file is trimmed
// of the newline an editor or `echo` leaves, and that NAME_FILE wins.
func TestConfigFileContents(t *testing.T) {
	e := validEnv(t)
	e["TURN_TOKEN"] = "from-the-environment"
	e["TURN_TOKEN_FILE"] = writeFile(t, "turn-token", "  from-the-file\r\n")
	c, err := loadConfig(e.getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.TurnToken != "from-the-file" {
		t.Errorf("TURN_TOKEN = %q, want %q", c.TurnToken, "from-the-file")
	}
	if c.TelegramMode != "polling" {
		t.Errorf("mode without PUBLIC_URL = %q, want polling", c.TelegramMode)
	}
	e["PUBLIC_URL"] = "https://bot.example.org"
	if c, err = loadConfig(e.getenv, true); err != nil {
		t.Fatal(err)
	}
	if c.TelegramMode != "webhook" {
		t.Errorf("mode with PUBLIC_URL = %q, want webhook", c.TelegramMode)
	}
}

// TestMigrate checks that `migrate` needs only the store settings, creates
// the embedded store in a fresh DATA_DIR and can run again.
func TestMigrate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet", "there")
	e := testEnv{"DATA_DIR": dir}
	for i := range 2 {
		var out syncBuffer
		if code := runContext(context.Background(), []string{"migrate"}, e.getenv, &out); code != 0 {
			t.Fatalf("migrate #%d exited %d; output:\n%s", i+1, code, out.String())
		}
		if !strings.Contains(out.String(), "migrations applied") {
			t.Errorf("migrate #%d did not say it applied the migrations:\n%s", i+1, out.String())
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("DATA_DIR %s holds no store after migrate (%v)", dir, err)
	}

	var out syncBuffer
	bad := testEnv{"DATA_DIR": t.TempDir(), "DATABASE_URL": "sqlite://x"}
	if code := runContext(context.Background(), []string{"migrate"}, bad.getenv, &out); code != 2 || !strings.Contains(out.String(), "DATABASE_URL") {
		t.Errorf("migrate with a bad DATABASE_URL exited %d with %q, want 2 naming DATABASE_URL", code, out.String())
	}
}

// TestCommands checks the command line around the commands themselves.
func TestCommands(t *testing.T) {
	var out, errOut syncBuffer
	if code := runIO(context.Background(), []string{"help"}, testEnv{}.getenv, &out, &errOut); code != 0 || !strings.Contains(out.String(), "usage: turn-telegram") {
		t.Errorf("help exited %d with %q, want 0 and the usage on stdout", code, out.String())
	}
	var out2 syncBuffer
	if code := runContext(context.Background(), []string{"serv"}, testEnv{}.getenv, &out2); code != 2 || !strings.Contains(out2.String(), `unknown command "serv"`) {
		t.Errorf("a misspelt command exited %d with %q, want 2 naming it", code, out2.String())
	}
}
