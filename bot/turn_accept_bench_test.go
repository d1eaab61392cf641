package bot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/turn-telegram/turn-telegram/bot/render"
	"github.com/turn-telegram/turn-telegram/turn"
)

// BenchmarkTurnAccept is the Turn webhook's work between reading the body
// and the store: signature check, decode, render, and the batch to store
// (the plan encoded as JSON, callbacks, media fetches).
func BenchmarkTurnAccept(b *testing.B) {
	secret := []byte("turn-hmac-secret-0123456789")
	for _, name := range []string{"text", "interactive_button", "image", "long_text"} {
		body, err := os.ReadFile(filepath.Join("testdata", "outbound", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		sig := turn.Sign(secret, body)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !turn.VerifySignature(secret, body, sig) {
					b.Fatal("signature")
				}
				out, err := turn.DecodeOutbound(body)
				if err != nil {
					b.Fatal(err)
				}
				rd, err := render.Render("bench", newMessageID(), 412587349, out)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := outboundBatch("bench", 412587349, rd, priorityBroadcast); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
