package main

import (
	"context"
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
		{"channels", "-h"}, {"channels", "add", "-h"}, {"version", "-h"},
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
