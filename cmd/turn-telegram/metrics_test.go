package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestMetricsMatchReadme scrapes a fresh service (nothing sent yet) and
// checks its metrics against the README's table, both ways: every series
// the README lists is there from the start, at 0 where nothing happened,
// and nothing is exported that the README does not list.
func TestMetricsMatchReadme(t *testing.T) {
	f := newFakes(t)
	// A channel key of its own: the metrics are the process's, and other
	// tests' services in this process start and drop testNumberID's series.
	const number = "5e1d7c3a-metrics-test-0000000000001"
	f.turn.AddNumber(number, testTurnToken)
	e := f.baseEnv(t)
	e["TURN_NUMBER_ID"] = number
	e["PUBLIC_URL"] = "http://" + e["LISTEN_ADDR"]
	s := startService(t, e)
	eventually(t, "the webhook to be checked once", func() bool {
		return strings.Contains(scrape(t, s.url), "turn_telegram_webhook_healthy{")
	})
	body := scrape(t, s.url)
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (turn_telegram_[a-z_]+) `).FindAllStringSubmatch(body, -1) {
		exported[m[1]] = true
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "### Metrics\n")
	section, _, _ = strings.Cut(section, "\n### ")
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(turn_telegram_[a-z_]+)[{`]").FindAllStringSubmatch(section, -1) {
		listed[m[1]] = true
	}
	if len(listed) < 10 {
		t.Fatalf("found only %d metrics in the README's Metrics table", len(listed))
	}
	for m := range listed {
		if !exported[m] {
			t.Errorf("the README lists %s, absent from a fresh /metrics", m)
		}
	}
	for m := range exported {
		if !listed[m] {
			t.Errorf("/metrics exports %s, which the README does not list", m)
		}
	}
	// The channel's series are there at 0 before anything happened.
	for _, want := range []string{
		`turn_telegram_queue_jobs{channel="` + number + `",kind="outbound",state="dead"} 0`,
		`turn_telegram_jobs_dead_total{kind="update"} 0`,
		`turn_telegram_job_attempts_total{channel="` + number + `",kind="outbound",result="permanent"} 0`,
		`turn_telegram_messages_delivered_total{channel="` + number + `",direction="to_turn"} 0`,
		`turn_telegram_outbound_accepted_total{result="bad_signature"} 0`,
		`turn_telegram_rate_limited_total{channel="` + number + `",upstream="telegram"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("a fresh /metrics lacks %s", want)
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
