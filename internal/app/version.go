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

// Version and Revision, when set at link time, win over Go's build
// information, which an image build lacks (its context has no .git):
//
//	go build -ldflags "-X github.com/turn-telegram/turn-telegram/internal/app.Version=v1.2.3 -X github.com/turn-telegram/turn-telegram/internal/app.Revision=$(git rev-parse HEAD)"
//
// Empty (the default), they change nothing.
var Version, Revision string

// BuildInfo reads the build information Go embeds in the binary, with
// Version and Revision first when they are set.
func BuildInfo() Build {
	b := buildInfo()
	if Version != "" {
		b.Version = Version
	}
	if Revision != "" {
		b.Revision = Revision
	}
	return b
}

func buildInfo() Build {
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
