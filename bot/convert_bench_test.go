package bot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-telegram/bot/models"
)

// benchUpdates are the inbound fixtures the benchmarks run: the common text
// message, a command with entities, a photo (media path) and a button press.
var benchUpdates = []string{"text", "text_emoji_entities", "photo_caption", "callback_query"}

func readUpdate(b *testing.B, name string) []byte {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "updates", name+".json"))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkUpdateJob is the Telegram webhook's work on an update before the
// store: validate the JSON, route it, make its job. The same runs per
// update of a getUpdates batch.
func BenchmarkUpdateJob(b *testing.B) {
	for _, name := range benchUpdates {
		raw := readUpdate(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, skip, err := updateJob("bench", raw); err != nil || skip != "" {
					b.Fatalf("updateJob: skip %q, %v", skip, err)
				}
			}
		})
	}
}

// BenchmarkConvertUpdate is the delivery side of an inbound update: decode
// the stored update, route it and convert its message to Turn's shape, then
// encode that as the Turn client sends it.
func BenchmarkConvertUpdate(b *testing.B) {
	for _, name := range []string{"text", "text_emoji_entities", "photo_caption", "location", "contact"} {
		raw := readUpdate(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				var upd models.Update
				if err := json.Unmarshal(raw, &upd); err != nil {
					b.Fatal(err)
				}
				if rt := route(&upd); rt.Skip != "" {
					b.Fatal(rt.Skip)
				}
				conv, err := convertMessage(upd.Message)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(&conv.Inbound); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConvertMessage is convertMessage alone, on a decoded text message.
func BenchmarkConvertMessage(b *testing.B) {
	var upd models.Update
	if err := json.Unmarshal(readUpdate(b, "text"), &upd); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := convertMessage(upd.Message); err != nil {
			b.Fatal(err)
		}
	}
}
