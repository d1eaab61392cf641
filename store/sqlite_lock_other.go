//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import "io"

// lockDir does nothing where flock(2) is not available: there, running two
// processes on one directory is the operator's mistake to avoid.
func lockDir(string) (io.Closer, error) {
	return nopCloser{}, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
