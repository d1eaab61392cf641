package bot

import (
	"strings"
	"testing"
)

func TestExtensionFor(t *testing.T) {
	tests := []struct{ mimeType, want string }{
		{"image/jpeg", ".jpg"}, // not .jfif
		{"audio/ogg", ".ogg"},  // not .oga
		{"video/mp4", ".mp4"},  // not .f4v
		{"text/plain", ".txt"}, // not .asc
		{"text/plain; charset=utf-8", ".txt"},
		{"Application/PDF", ".pdf"},
		{"audio/mp4", ".m4a"},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"},
		{"application/x-unknown-to-everyone", ""},
		{"application/octet-stream", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := extensionFor(tt.mimeType); got != tt.want {
			t.Errorf("extensionFor(%q) = %q, want %q", tt.mimeType, got, tt.want)
		}
	}
	// The table is looked up by the lower-case type, and names files.
	for typ, ext := range preferredExtensions {
		if ext == "" && typ == "application/octet-stream" {
			continue
		}
		if typ != strings.ToLower(typ) || len(ext) < 2 || ext[0] != '.' || strings.ContainsAny(ext[1:], "./ ") {
			t.Errorf("table entry %q -> %q", typ, ext)
		}
	}
}
