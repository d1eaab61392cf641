package app

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// minSecret is the shortest value the logger redacts: shorter ones would
// blank out ordinary words.
const minSecret = 6

// Redactor replaces every secret it knows with [redacted]. Secrets are
// added as they become known: the configuration's at start, each stored
// channel's when it is loaded.
type Redactor struct {
	mu      sync.Mutex
	known   map[string]bool // the secrets, to add thousands in linear time
	secrets []string
	r       atomic.Pointer[strings.Replacer]
}

func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add makes the redactor hide secrets too.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known == nil {
		r.known = map[string]bool{}
	}
	changed := false
	for _, s := range secrets {
		if len(s) >= minSecret && !r.known[s] {
			r.known[s] = true
			r.secrets = append(r.secrets, s)
			changed = true
		}
	}
	if !changed {
		return
	}
	// Longest first, so a secret containing another is hidden whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, "[redacted]")
	}
	r.r.Store(strings.NewReplacer(pairs...))
}

// String is s without the secrets.
func (r *Redactor) String(s string) string {
	if rep := r.r.Load(); rep != nil {
		return rep.Replace(s)
	}
	return s
}

// NewLogger writes JSON lines and redacts every secret r knows from every
// message and attribute, whatever code produced them.
func NewLogger(w io.Writer, level string, r *Redactor) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: lv,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Value.Kind() {
			case slog.KindDuration:
				// One duration format in every line: Go's ("1.5s", "932ms"),
				// never nanoseconds beside such strings.
				return slog.String(a.Key, a.Value.Duration().String())
			case slog.KindString:
				return slog.String(a.Key, r.String(a.Value.String()))
			case slog.KindAny:
				switch v := a.Value.Any().(type) {
				case error:
					return slog.String(a.Key, r.String(v.Error()))
				case fmt.Stringer:
					return slog.String(a.Key, r.String(v.String()))
				default:
					// Structures and slices: hide secrets in their JSON.
					b, err := json.Marshal(v)
					if err != nil {
						return slog.String(a.Key, r.String(fmt.Sprint(v)))
					}
					if red := r.String(string(b)); red != string(b) {
						return slog.Any(a.Key, json.RawMessage(red))
					}
				}
			}
			return a
		},
	}))
}
