package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeConfigurationTable checks the README's configuration table
// against the settings the binary reads: the same variables, each
// documented with its default.
func TestReadmeConfigurationTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	rows := map[string]string{} // variable -> its row's meaning
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("README lists %s twice", m[1])
			}
			rows[m[1]] = strings.Join(cells[2:], "|")
		}
	}
	if len(rows) == 0 {
		t.Fatal("no variable found in the README's configuration table")
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.name] = true
		row, ok := rows[s.name]
		switch {
		case !ok:
			t.Errorf("%s is read by the binary but not in the README's configuration table", s.name)
		case s.def != "" && !strings.Contains(row, "`"+s.def+"`"):
			t.Errorf("README's row of %s does not give its default `%s`: %s", s.name, s.def, row)
		}
	}
	for v := range rows {
		if !known[v] {
			t.Errorf("README documents %s, which the binary does not read", v)
		}
	}
}
