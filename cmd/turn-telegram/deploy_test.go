package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// The deployment files (deploy/, the Dockerfile, the ignore files) are
// checked here: the alert rules and the dashboard parse and use only
// metrics, labels and label values a fresh service exports, the image's
// build line works as CI runs it, and the secrets never reach git or an
// image.

const repoRoot = "../.."

// alertRules is deploy/prometheus/alerts.yml; unknown fields are errors.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readAlertRules(t *testing.T) alertRules {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/prometheus/alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var r alertRules
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("deploy/prometheus/alerts.yml: %v", err)
	}
	return r
}

// promDuration is a Prometheus duration as rules' for: takes it.
var promDuration = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)

func TestDeployAlertRules(t *testing.T) {
	r := readAlertRules(t)
	if len(r.Groups) == 0 {
		t.Fatal("alerts.yml: no groups")
	}
	groups, alerts := map[string]bool{}, map[string]bool{}
	for _, g := range r.Groups {
		if g.Name == "" || groups[g.Name] {
			t.Errorf("alerts.yml: group name %q empty or repeated", g.Name)
		}
		groups[g.Name] = true
		if len(g.Rules) == 0 {
			t.Errorf("alerts.yml: group %s has no rules", g.Name)
		}
		for _, rule := range g.Rules {
			name := rule.Alert
			if !regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`).MatchString(name) || alerts[name] {
				t.Errorf("alerts.yml: alert name %q not CamelCase or repeated", name)
			}
			alerts[name] = true
			if strings.TrimSpace(rule.Expr) == "" {
				t.Errorf("%s: no expr", name)
			} else if err := balanced(rule.Expr); err != nil {
				t.Errorf("%s: expr %q: %v", name, rule.Expr, err)
			}
			if !promDuration.MatchString(rule.For) {
				t.Errorf("%s: for: %q is not a duration", name, rule.For)
			}
			if s := rule.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
				t.Errorf("%s: labels.severity %q, want critical, warning or info", name, s)
			}
			for _, a := range []string{"summary", "description"} {
				if len(strings.TrimSpace(rule.Annotations[a])) < 10 {
					t.Errorf("%s: annotations.%s missing or too short", name, a)
				}
			}
			for _, text := range rule.Annotations {
				if err := alertTemplate(text); err != nil {
					t.Errorf("%s: annotation %q: %v", name, text, err)
				}
			}
		}
	}
	// What an operator must hear of, each by some rule.
	used := map[string]bool{}
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			for _, m := range metricNames(rule.Expr) {
				used[m] = true
			}
			if regexp.MustCompile(`\b(up|probe_success)\b`).MatchString(rule.Expr) {
				used["(readiness)"] = true
			}
		}
	}
	for _, m := range []string{
		"turn_telegram_queue_oldest_seconds", "turn_telegram_jobs_dead_total",
		"turn_telegram_webhook_healthy", "turn_telegram_rate_limited_total",
		"turn_telegram_credentials_refused", "turn_telegram_build_info", "(readiness)",
	} {
		if !used[m] {
			t.Errorf("alerts.yml: no rule uses %s", m)
		}
	}
}

// dashboardExprs is every target's expr in deploy/grafana/*.json, by file.
func dashboardExprs(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "deploy/grafana/*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in deploy/grafana (%v)", err)
	}
	type panel struct {
		Title   string                  `json:"title"`
		Type    string                  `json:"type"`
		Targets []struct{ Expr string } `json:"targets"`
		Panels  []json.RawMessage       `json:"panels"` // a collapsed row's
	}
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Title      string            `json:"title"`
			UID        string            `json:"uid"`
			Panels     []json.RawMessage `json:"panels"`
			Templating struct {
				List []struct {
					Name  string `json:"name"`
					Query any    `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
			t.Errorf("%s: wants a title, a uid and panels", f)
		}
		var vars []string
		for _, v := range d.Templating.List {
			vars = append(vars, v.Name)
			q, _ := v.Query.(string)
			if m, ok := v.Query.(map[string]any); ok {
				q, _ = m["query"].(string)
			}
			if len(metricNames(q)) > 0 {
				out[f] = append(out[f], q) // a variable's query is checked too
			}
		}
		if !slices.Contains(vars, "channel") {
			t.Errorf("%s: no templated channel variable (has %v)", f, vars)
		}
		var walk func([]json.RawMessage)
		walk = func(raw []json.RawMessage) {
			for _, r := range raw {
				var p panel
				if err := json.Unmarshal(r, &p); err != nil {
					t.Errorf("%s: a panel: %v", f, err)
					continue
				}
				if p.Type != "row" && len(p.Targets) == 0 {
					t.Errorf("%s: panel %q has no targets", f, p.Title)
				}
				for _, tg := range p.Targets {
					if err := balanced(tg.Expr); err != nil || len(metricNames(tg.Expr)) == 0 && !strings.Contains(tg.Expr, "up{") {
						t.Errorf("%s: panel %q: expr %q: unbalanced (%v) or no metric", f, p.Title, tg.Expr, err)
					}
					out[f] = append(out[f], tg.Expr)
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	return out
}

func TestDeployDashboards(t *testing.T) {
	used := map[string]bool{}
	for _, exprs := range dashboardExprs(t) {
		for _, e := range exprs {
			for _, m := range metricNames(e) {
				used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")] = true
			}
		}
	}
	// The panels the dashboard exists for.
	for _, m := range []string{
		"turn_telegram_messages_delivered_total", "turn_telegram_queue_jobs",
		"turn_telegram_queue_oldest_seconds", "turn_telegram_jobs_dead_total",
		"turn_telegram_rate_limited_total", "turn_telegram_webhook_healthy",
		"turn_telegram_credentials_refused", "turn_telegram_job_attempt_seconds",
		"turn_telegram_telegram_call_seconds", "turn_telegram_turn_call_seconds",
		"turn_telegram_build_info",
	} {
		if !used[m] {
			t.Errorf("the dashboards use no %s", m)
		}
	}
}

// TestDeployMetricsExist checks every metric the rules and the dashboards
// use against a fresh service's /metrics: the name (a histogram only
// through _bucket, _sum or _count), the labels its selectors match on, and
// the values they match exactly.
func TestDeployMetricsExist(t *testing.T) {
	var exprs []string
	for _, g := range readAlertRules(t).Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
			for _, a := range r.Annotations {
				exprs = append(exprs, a)
			}
		}
	}
	for _, e := range dashboardExprs(t) {
		exprs = append(exprs, e...)
	}

	f := newFakes(t)
	// A channel key of its own: the metrics are the process's, and other
	// tests' services in this process start and drop their channels' series.
	const number = "5e1d7c3a-deploy-test-00000000000001"
	f.turn.AddNumber(number, testTurnToken)
	e := f.baseEnv(t)
	e["TURN_NUMBER_ID"] = number
	e["PUBLIC_URL"] = "http://" + e["LISTEN_ADDR"] // webhook mode: the webhook_* series
	s := startService(t, e)
	eventually(t, "the webhook to be checked once", func() bool {
		return strings.Contains(scrape(t, s.url), `turn_telegram_webhook_healthy{channel="`+number+`"}`)
	})
	fams := parseExposition(scrape(t, s.url))

	for _, expr := range exprs {
		for _, sel := range selectors(expr) {
			name, fam := sel.name, fams[sel.name]
			if fam == nil {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				if fam = fams[base]; base == name || fam == nil || fam.typ != "histogram" {
					t.Errorf("%s: %s is not in a fresh /metrics", shorten(expr), name)
					continue
				}
			} else if fam.typ == "histogram" {
				t.Errorf("%s: %s is a histogram: select its _bucket, _sum or _count", shorten(expr), name)
				continue
			}
			for _, m := range sel.matchers {
				if m.label == "job" || m.label == "instance" { // Prometheus's own
					continue
				}
				values, ok := fam.labels[m.label]
				if !ok {
					t.Errorf("%s: %s has no label %s (it has %v)", shorten(expr), name, m.label, keys(fam.labels))
				} else if m.op == "=" && !strings.Contains(m.value, "$") && !values[m.value] {
					t.Errorf("%s: %s{%s=%q}: no such value (there are %v)", shorten(expr), name, m.label, m.value, keys(values))
				}
			}
		}
	}
}

// family is what /metrics says of one metric family.
type family struct {
	typ    string
	labels map[string]map[string]bool // label name: values seen
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// parseExposition reads the text format: each family's type, labels and
// label values (le excluded).
func parseExposition(body string) map[string]*family {
	fams := map[string]*family{}
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			fams[name] = &family{typ: typ, labels: map[string]map[string]bool{}}
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[1]
		fam := fams[name]
		if fam == nil {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if f := fams[strings.TrimSuffix(name, suffix)]; f != nil && strings.HasSuffix(name, suffix) {
					fam = f
				}
			}
		}
		if fam == nil {
			continue
		}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			if p[1] == "le" {
				continue
			}
			if fam.labels[p[1]] == nil {
				fam.labels[p[1]] = map[string]bool{}
			}
			fam.labels[p[1]][p[2]] = true
		}
	}
	return fams
}

var metricName = regexp.MustCompile(`\bturn_telegram_[a-zA-Z0-9_:]*[a-zA-Z0-9]`)

// metricNames is every turn_telegram_* name in s, as written (histogram
// suffixes included).
func metricNames(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range metricName.FindAllString(s, -1) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

type matcher struct{ label, op, value string }

type selector struct {
	name     string
	matchers []matcher
}

var matcherRe = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)

// selectors is every turn_telegram_* selector in expr with its label
// matchers (name{a="b", c=~"d"}).
func selectors(expr string) []selector {
	var out []selector
	for _, loc := range metricName.FindAllStringIndex(expr, -1) {
		sel := selector{name: expr[loc[0]:loc[1]]}
		rest := strings.TrimLeft(expr[loc[1]:], " ")
		if strings.HasPrefix(rest, "{") {
			if end := strings.Index(rest, "}"); end > 0 {
				for _, m := range matcherRe.FindAllStringSubmatch(rest[1:end], -1) {
					sel.matchers = append(sel.matchers, matcher{m[1], m[2], m[3]})
				}
			}
		}
		out = append(out, sel)
	}
	return out
}

// balanced says whether the brackets of a PromQL expression pair up,
// outside its quoted strings.
func balanced(s string) error {
	var stack []byte
	pairs := map[byte]byte{')': '(', ']': '[', '}': '{'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'', '`':
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && c != '`' {
					j++ // escaped
				}
			}
			if j >= len(s) {
				return fmt.Errorf("unterminated %c string at %d", c, i)
			}
			i = j
		case '(', '[', '{':
			stack = append(stack, c)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				return fmt.Errorf("unmatched %q at %d", c, i)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	return nil
}

// alertTemplate parses an annotation as Prometheus does: a Go template
// with $labels and $value, and Prometheus's functions (stubs here).
func alertTemplate(text string) error {
	stub := func(...any) any { return nil }
	funcs := template.FuncMap{}
	for _, f := range []string{"humanize", "humanize1024", "humanizeDuration", "humanizePercentage",
		"humanizeTimestamp", "title", "toUpper", "toLower", "query", "first", "label", "value",
		"strvalue", "reReplaceAll", "match", "args", "safeHtml", "externalURL", "pathPrefix",
		"graphLink", "tableLink", "sortByLabel", "parseDuration", "stripPort", "stripDomain", "toTime"} {
		funcs[f] = stub
	}
	const defs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	_, err := template.New("annotation").Funcs(funcs).Parse(defs + text)
	return err
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 90 {
		return s[:87] + "..."
	}
	return s
}

// TestDeployIgnoresSecrets: ./secrets (docker-compose.yml's) and ./data
// (the embedded store) are never committed nor sent as build context.
func TestDeployIgnoresSecrets(t *testing.T) {
	paths := []string{"secrets/database_url", "secrets/secret_key", "data/turn-telegram.db", "turn-telegram.env"}
	for _, file := range []string{".gitignore", ".dockerignore"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if !ignored(string(b), p, file == ".gitignore") {
				t.Errorf("%s does not ignore %s", file, p)
			}
		}
		for _, p := range []string{"go.mod", "cmd/turn-telegram/main.go", "migrations/postgres", "channels/secrets.go", "bot/testdata/updates/text.json"} {
			if ignored(string(b), p, file == ".gitignore") {
				t.Errorf("%s ignores %s, which the build needs", file, p)
			}
		}
	}
	// And git itself agrees, where there is one.
	if _, err := exec.LookPath("git"); err != nil {
		return
	}
	if exec.Command("git", "-C", repoRoot, "rev-parse", "--is-inside-work-tree").Run() != nil {
		return
	}
	for _, p := range paths {
		if err := exec.Command("git", "-C", repoRoot, "check-ignore", "-q", "--no-index", p).Run(); err != nil {
			t.Errorf("git check-ignore %s: not ignored (%v)", p, err)
		}
	}
}

// ignored says whether the ignore file's patterns exclude path (relative
// to the repository's root, a file): .gitignore's rules if git, else
// .dockerignore's. The last pattern that matches wins; a file inside an
// excluded directory is excluded.
func ignored(patterns, path string, git bool) bool {
	parts := strings.Split(path, "/")
	// Each directory on the way, then the file: once a directory is
	// excluded, git does not look inside (docker matches parents too).
	for i := 1; i <= len(parts); i++ {
		sub, isDir := strings.Join(parts[:i], "/"), i < len(parts)
		excluded := false
		for _, line := range strings.Split(patterns, "\n") {
			p := strings.TrimSpace(line)
			if p == "" || strings.HasPrefix(p, "#") {
				continue
			}
			neg := strings.HasPrefix(p, "!")
			p = strings.TrimPrefix(p, "!")
			dirOnly := strings.HasSuffix(p, "/")
			p = strings.TrimSuffix(p, "/")
			anchored := true
			if git {
				anchored = strings.Contains(p, "/")
				if dirOnly && !isDir {
					continue
				}
			}
			p = strings.TrimPrefix(p, "/")
			re := "^" + globRegexp(p) + "$"
			if !anchored {
				re = "^(.*/)?" + globRegexp(p) + "$"
			}
			if regexp.MustCompile(re).MatchString(sub) {
				excluded = !neg
			}
		}
		if excluded {
			return true
		}
	}
	return false
}

// globRegexp turns a glob (*, ?, **, [...]) into a regular expression.
func globRegexp(glob string) string {
	var b strings.Builder
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(glob[i:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := glob[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// TestDeployDockerfile checks the Dockerfile's build line the way .ci/run
// extracts it, its health check and labels, and (without -short) builds
// the binary with it to see the version arrive.
func TestDeployDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	var buildLines []string
	for _, line := range strings.Split(df, "\n") {
		if rest, ok := strings.CutPrefix(line, "RUN "); ok && regexp.MustCompile(`^CGO_ENABLED=0 go build .*`).MatchString(rest) {
			buildLines = append(buildLines, rest)
		}
	}
	if len(buildLines) != 1 || !strings.HasSuffix(buildLines[0], " -o /out/turn-telegram ./cmd/turn-telegram") {
		t.Fatalf("Dockerfile: want exactly one line 'RUN CGO_ENABLED=0 go build ... -o /out/turn-telegram ./cmd/turn-telegram' (.ci/run runs it), have %q", buildLines)
	}
	line := buildLines[0]
	joined := strings.ReplaceAll(df, "\\\n", " ")
	if !regexp.MustCompile(`(?m)^HEALTHCHECK .*CMD \["/turn-telegram",\s*"health"\]\s*$`).MatchString(joined) {
		t.Error(`Dockerfile: no HEALTHCHECK ... CMD ["/turn-telegram", "health"] (exec form: the image has no shell)`)
	}
	for _, l := range []string{"title", "description", "source", "version", "revision"} {
		if !strings.Contains(joined, "org.opencontainers.image."+l+"=") {
			t.Errorf("Dockerfile: no label org.opencontainers.image.%s", l)
		}
	}

	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the build line as .ci/run does")
	}
	// What go receives, as .ci/run's shell (set -u) expands the line, with
	// the build args unset and set: go is a function printing its arguments.
	args := func(env ...string) []string {
		cmd := exec.Command(bash, "-c", `set -euo pipefail; go() { printf '%s\n' "$@"; }; eval "$LINE"`)
		cmd.Env = append(os.Environ(), "LINE="+line)
		cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool {
			return strings.HasPrefix(kv, "VERSION=") || strings.HasPrefix(kv, "REVISION=")
		})
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the build line in bash -u with %v: %v\n%s", env, err, out)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	const pkg = "github.com/turn-telegram/turn-telegram/internal/app"
	ldflags := func(a []string) string {
		for _, s := range a {
			if v, ok := strings.CutPrefix(s, "-ldflags="); ok {
				return v
			}
		}
		t.Fatalf("the build line passes no -ldflags=: %q", a)
		return ""
	}
	if l := ldflags(args()); !strings.Contains(l, "-X "+pkg+".Version= ") && !strings.HasSuffix(l, "-X "+pkg+".Version=") {
		t.Errorf("unset VERSION: -ldflags=%q, want -X %s.Version= (empty)", l, pkg)
	}
	l := ldflags(args("VERSION=v1.2.3", "REVISION=0123abcd"))
	for _, want := range []string{"-X " + pkg + ".Version=v1.2.3", "-X " + pkg + ".Revision=0123abcd"} {
		if !strings.Contains(l, want) {
			t.Errorf("-ldflags=%q lacks %q", l, want)
		}
	}

	if testing.Short() {
		return
	}
	// The real build, with the build args, as .ci/run runs it.
	out := t.TempDir()
	cmd := exec.Command(bash, "-c", `set -euo pipefail; eval "${LINE//\/out\//$OUT/}"`)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "LINE="+line, "OUT="+out, "VERSION=v0.0.0-deploy-test", "REVISION=0123abcd")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the build line: %v\n%s", err, b)
	}
	v, err := exec.Command(filepath.Join(out, "turn-telegram"), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(v), "turn-telegram v0.0.0-deploy-test (revision 0123abcd,") {
		t.Errorf("turn-telegram version of the image's build: %q (%v), want version v0.0.0-deploy-test, revision 0123abcd", v, err)
	}
}
