package store

import "time"

// now is the store's clock: UTC, at the microsecond precision both databases
// keep, so a time read back equals the time written. Both stores take times
// from the process clock, never the database's, so that NotBefore and Retry
// times (which callers give) and leases are measured on one clock.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// orNow returns t in UTC at microsecond precision, or now when t is zero.
func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC().Truncate(time.Microsecond)
}
