package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// Environment of a child process started by these tests.
const (
	childEnv    = "STORE_TEST_SQLITE_CHILD" // "open" or "hold"
	childDirEnv = "STORE_TEST_SQLITE_DIR"
)

// Exit codes of a child that tried to open.
const (
	childOpened = 0
	childFailed = 1
	childLocked = 3
)

// sqliteChild is the other process. "open" opens the directory, prints the
// error if any, and exits with childOpened or childLocked; "hold" opens it,
// enqueues a job, prints its id once the call has returned, and waits to be
// killed.
func sqliteChild(mode, dir string) int {
	ctx := context.Background()
	s, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		fmt.Println(err)
		if errors.Is(err, store.ErrLocked) {
			return childLocked
		}
		return childFailed
	}
	switch mode {
	case "open":
		if err := s.Close(); err != nil {
			fmt.Println(err)
			return childFailed
		}
		return childOpened
	case "hold":
		if err := s.Migrate(ctx); err != nil {
			fmt.Println(err)
			return childFailed
		}
		ids, err := s.Enqueue(ctx, store.Batch{
			Jobs:   []store.NewJob{{Channel: "c", Kind: store.KindUpdate, Lane: "chat:1", Payload: []byte("acked")}},
			Offset: &store.Offset{Channel: "c", Next: 77},
		})
		if err != nil {
			fmt.Println(err)
			return childFailed
		}
		fmt.Println(ids[0])
		time.Sleep(time.Hour) // until killed
		return childFailed
	}
	fmt.Println("unknown mode", mode)
	return childFailed
}

// child starts this test binary as a child process in mode on dir.
func child(t *testing.T, mode, dir string) *exec.Cmd {
	t.Helper()
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skipf("no directory lock on %s", runtime.GOOS)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childDirEnv+"="+dir)
	return cmd
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	t.Fatalf("child: %v", err)
	return -1
}

func openSQLite(t *testing.T, dir string) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestSQLiteLockSameProcess(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skipf("no directory lock on %s", runtime.GOOS)
	}
	dir := filepath.Join(t.TempDir(), "nested", "data") // created by OpenSQLite
	s := openSQLite(t, dir)
	_, err := store.OpenSQLite(t.Context(), dir)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, "another turn-telegram process") ||
		!strings.Contains(msg, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second open: %q, want the directory, the owner's pid and what holds it", msg)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSQLite(t, dir)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSQLiteLockOtherProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openSQLite(t, dir)
	out, err := child(t, "open", dir).CombinedOutput()
	if code := exitCode(t, err); code != childLocked {
		t.Fatalf("child open while locked: exit %d, output %q; want exit %d", code, out, childLocked)
	}
	if !strings.Contains(string(out), dir) || !strings.Contains(string(out), "another turn-telegram process") {
		t.Fatalf("child's error %q does not name the directory and the other process", out)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, err = child(t, "open", dir).CombinedOutput()
	if code := exitCode(t, err); code != childOpened {
		t.Fatalf("child open after Close: exit %d, output %q", code, out)
	}
}

// TestSQLiteKilledProcess kills (SIGKILL) a process right after a write was
// acknowledged: the write is there, and the lock died with the process.
func TestSQLiteKilledProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := child(t, "hold", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child: %v", err)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child said %q", line)
	}
	if _, err := store.OpenSQLite(t.Context(), dir); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("open while the child holds the directory: %v, want ErrLocked", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // killed: an error is expected
	s := openSQLite(t, dir)
	defer s.Close()
	jobs, err := s.Claim(t.Context(), store.ClaimParams{Limit: 10, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].ID != id || string(jobs[0].Payload) != "acked" {
		t.Fatalf("after kill -9: claimed %+v, want the acknowledged job %d", jobs, id)
	}
	if off, err := s.Offset(t.Context(), "c"); err != nil || off != 77 {
		t.Fatalf("after kill -9: offset %d, %v; want 77", off, err)
	}
}

func TestSQLiteReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := t.Context()
	s := openSQLite(t, dir)
	ids, err := s.Enqueue(ctx, store.Batch{
		Jobs: []store.NewJob{
			{Channel: "c", Kind: store.KindOutbound, Lane: "chat:1", DedupKey: "k", Payload: []byte("p")},
			{Channel: "c", Kind: store.KindOutbound, Lane: "chat:1"},
		},
		Maps:   []store.MessageMap{{Channel: "c", ChatID: 1, TelegramID: 2, TurnID: "t"}},
		Offset: &store.Offset{Channel: "c", Next: 9},
	})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, store.ClaimParams{Limit: 1, Lease: time.Minute})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim: %v, %v", jobs, err)
	}
	if err := s.Advance(ctx, jobs[0], 1, store.Batch{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteMedia(ctx, store.MediaMeta{Channel: "c", Key: "m"}, strings.NewReader("data")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openSQLite(t, dir)
	defer s.Close()
	// The lease survives: the job is still in flight, its lane blocked.
	if got, err := s.Claim(ctx, store.ClaimParams{Limit: 10, Lease: time.Minute}); err != nil || len(got) != 0 {
		t.Fatalf("Claim after reopen: %v, %v; want nothing (job leased)", got, err)
	}
	if err := s.Complete(ctx, jobs[0], store.Batch{}); err != nil {
		t.Fatalf("Complete with the token from before the reopen: %v", err)
	}
	if again, err := s.Enqueue(ctx, store.Batch{Jobs: []store.NewJob{
		{Channel: "c", Kind: store.KindOutbound, Lane: "chat:1", DedupKey: "k"}}}); err != nil || again[0] != 0 {
		t.Fatalf("dedup after reopen: %v, %v", again, err)
	}
	next, err := s.Claim(ctx, store.ClaimParams{Limit: 10, Lease: time.Minute})
	if err != nil || len(next) != 1 || next[0].ID != ids[1] {
		t.Fatalf("Claim after reopen: %+v, %v; want job %d", next, err, ids[1])
	}
	if id, err := s.TurnID(ctx, "c", 1, 2); err != nil || id != "t" {
		t.Fatalf("TurnID after reopen: %q, %v", id, err)
	}
	if off, err := s.Offset(ctx, "c"); err != nil || off != 9 {
		t.Fatalf("Offset after reopen: %d, %v", off, err)
	}
	_, r, err := s.OpenMedia(ctx, "c", "m")
	if err != nil {
		t.Fatalf("OpenMedia after reopen: %v", err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(data) != "data" {
		t.Fatalf("media after reopen: %q, %v", data, err)
	}
}

func TestSQLiteRejectsBadDirectory(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := store.OpenSQLite(t.Context(), filepath.Join(file, "sub")); err == nil {
		s.Close()
		t.Fatal("OpenSQLite under a regular file succeeded")
	}
	if s, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "what?")); err == nil {
		s.Close()
		t.Fatal("OpenSQLite of a path with '?' succeeded")
	}
}
