package app

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// TestLoggerRedacts logs secrets in every shape an attribute can take and
// checks that none survives, including secrets learnt after the logger
// was made (a channel loaded at run time).
func TestLoggerRedacts(t *testing.T) {
	const early, late, inner = "early-secret-value", "late-secret-value-2", "secret-value"
	var out strings.Builder
	red := NewRedactor(early, "short") // "short" is under minSecret: kept as is
	log := NewLogger(&out, "debug", red)
	red.Add(late, inner)

	u, _ := url.Parse("https://example.org/bot" + late + "/getMe")
	for _, tc := range []struct {
		name string
		log  func()
	}{
		{"message", func() { log.Info("token " + early + " in the message") }},
		{"string", func() { log.Info("m", "v", "x"+late+"x") }},
		{"error", func() { log.Info("m", "err", errors.New("call failed: "+early)) }},
		{"stringer", func() { log.Info("m", "url", u) }},
		{"slice", func() { log.Info("m", "list", []string{"a", late}) }},
		{"struct", func() { log.Info("m", "s", struct{ Token string }{early}) }},
		{"group", func() { log.Info("m", slog.Group("g", "v", late)) }},
		{"with", func() { log.With("channel", "c", "k", early).Info("m") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(out.String())
			tc.log()
			line := out.String()[before:]
			if !strings.Contains(line, "[redacted]") {
				t.Errorf("nothing redacted in %s", line)
			}
			for _, s := range []string{early, late, inner} {
				if strings.Contains(line, s) {
					t.Errorf("the line holds %q: %s", s, line)
				}
			}
		})
	}
	before := len(out.String())
	log.Info("a short word", "v", "short")
	if !strings.Contains(out.String()[before:], `"v":"short"`) {
		t.Errorf("a value under %d characters was redacted: %s", minSecret, out.String()[before:])
	}
}
