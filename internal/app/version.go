package app

import (
	"fmt"
	"runtime/debug"
)

// Build is what the binary knows of its build: module version, VCS
// revision and time, and Go version.
type Build struct {
	Version, Revision, Time, GoVersion string
	Modified                           bool
}

// BuildInfo reads the build information Go embeds in the binary.
func BuildInfo() Build {
	b := Build{Version: "(devel)", Revision: "unknown", Time: "unknown time", GoVersion: "unknown Go"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.GoVersion = info.GoVersion
	if info.Main.Version != "" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the version line `turn-telegram version` prints.
func (b Build) String() string {
	dirty := ""
	if b.Modified {
		dirty = "+dirty"
	}
	return fmt.Sprintf("turn-telegram %s (revision %s%s, %s, %s)", b.Version, b.Revision, dirty, b.Time, b.GoVersion)
}
