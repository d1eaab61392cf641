package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpTouchesNothing: -h on every command prints its usage to stdout
// and exits 0 before reading a setting or opening a store. The environment
// here would make any command fail (a DATABASE_URL that cannot be parsed,
// a DATA_DIR that is a file), and the data directory must stay untouched.
func TestHelpTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := testEnv{"DATABASE_URL": "::not a url", "DATA_DIR": file, "TELEGRAM_BOT_TOKEN": "bad"}
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"help"},
		{"serve", "-h"}, {"migrate", "-h"}, {"migrate", "--help"}, {"queue", "-h"}, {"queue", "list", "-h"},
		{"channels", "-h"}, {"channels", "add", "-h"}, {"version", "-h"}, {"health", "-h"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut syncBuffer
			code := runIO(context.Background(), args, env.getenv, &out, &errOut)
			if code != 0 || !strings.Contains(out.String(), "usage: turn-telegram") || errOut.String() != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the usage on stdout only", code, out.String(), errOut.String())
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("help touched the data directory: %v %v", entries, err)
	}
}

// TestVersion: the build's version, as `version` and `--version`.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errOut syncBuffer
		if code := runIO(context.Background(), args, testEnv{}.getenv, &out, &errOut); code != 0 ||
			!strings.HasPrefix(out.String(), "turn-telegram ") || !strings.Contains(out.String(), "go1.") {
			t.Errorf("%v: exit %d, %q", args, code, out.String())
		}
	}
}

// TestInvalidFlagsExit2: a wrong flag value exits 2 naming the flag, before
// the store is opened (the environment here would make opening fail).
func TestInvalidFlagsExit2(t *testing.T) {
	env := testEnv{"DATABASE_URL": "::not a url"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"queue", "list", "-state", "bogus"}, "-state"},
		{[]string{"queue", "list", "-kind", "parcel"}, "-kind"},
		{[]string{"queue", "list", "-limit", "0"}, "-limit"},
		{[]string{"queue", "list", "-color"}, "-color"},
		{[]string{"queue", "retry", "twelve"}, `"twelve" is not a job id`},
		{[]string{"queue", "stats", "extra"}, "usage: turn-telegram queue"},
		{[]string{"queue", "bogus"}, "usage: turn-telegram queue"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut syncBuffer
			code := runIO(context.Background(), tc.args, env.getenv, &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), tc.want) || strings.Contains(errOut.String(), "DATABASE_URL") {
				t.Errorf("exit %d, stderr %q; want 2 naming %q before any setting is read", code, errOut.String(), tc.want)
			}
		})
	}
}

// failureMessage is the message of serve's one failure line, which must
// be a JSON log line like every other line it writes, at level ERROR and
// naming the setting when there is one.
func failureMessage(t *testing.T, out string) string {
	t.Helper()
	var line struct {
		Level   string `json:"level"`
		Msg     string `json:"msg"`
		Setting string `json:"setting"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil || line.Level != "ERROR" {
		t.Fatalf("the failure is not a JSON log line at level ERROR: %q (%v)", out, err)
	}
	if strings.Contains(line.Msg, "configuration: ") && line.Setting == "" {
		t.Errorf("a configuration failure without its setting: %q", out)
	}
	return line.Msg
}

// TestHealthCommand: `health` answers for the service beside it: 0 when
// ready, 1 with the reason when not or when nothing listens.
func TestHealthCommand(t *testing.T) {
	f := newFakes(t)
	e := f.baseEnv(t)
	s := startService(t, e)
	for _, args := range [][]string{{"health"}, {"health", "-live"}} {
		var out, errOut syncBuffer
		if code := runIO(context.Background(), args, e.getenv, &out, &errOut); code != 0 {
			t.Errorf("%v against a ready service: exit %d, %q", args, code, errOut.String())
		}
	}
	s.stop(t)
	var out, errOut syncBuffer
	if code := runIO(context.Background(), []string{"health"}, e.getenv, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "health") {
		t.Errorf("health with nothing listening: exit %d, %q; want 1", code, errOut.String())
	}
}

// TestHelpListsSettings: help lists every setting with its default, from
// the table the configuration is read from.
func TestHelpListsSettings(t *testing.T) {
	var out, errOut syncBuffer
	if code := runIO(context.Background(), []string{"help"}, testEnv{}.getenv, &out, &errOut); code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, s := range settings {
		line := ""
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), s.name+" ") {
				line = l
			}
		}
		if line == "" || (s.def != "" && !strings.Contains(line, s.def)) {
			t.Errorf("help does not list %s with its default %q: %q", s.name, s.def, line)
		}
	}
}
