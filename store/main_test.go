package store_test

import (
	"os"
	"testing"
)

// TestMain lets the SQLite lock tests re-run this binary as another process
// (see sqliteChild).
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(sqliteChild(mode, os.Getenv(childDirEnv)))
	}
	os.Exit(m.Run())
}
