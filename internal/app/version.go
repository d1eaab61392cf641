package main

import (
	"fmt"
	"runtime/debug"
)

// versionLine is the build's version from its build information: module
// version, VCS revision and time, Go version.
func versionLine() string {
	v := buildVersion()
	return fmt.Sprintf("turn-telegram %s (revision %s%s, %s, %s)", v.version, v.revision, map[bool]string{true: "+dirty"}[v.modified], v.time, v.goVersion)
}

type build struct {
	version, revision, time, goVersion string
	modified                           bool
}

func buildVersion() build {
	b := build{version: "(devel)", revision: "unknown", time: "unknown time", goVersion: "unknown Go"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.goVersion = info.GoVersion
	if info.Main.Version != "" {
		b.version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	return b
}
