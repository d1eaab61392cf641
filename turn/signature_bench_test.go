package turn

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkVerifySignature checks Turn's HMAC-SHA256 signature, as every
// outbound webhook call is checked before it is parsed.
func BenchmarkVerifySignature(b *testing.B) {
	secret := []byte("turn-hmac-secret-0123456789")
	for _, size := range []int{512, 4 << 10, 64 << 10} {
		body := []byte(`{"to":"412587349","turn":{"type":"text","text":{"body":"` + strings.Repeat("x", size) + `"}}}`)
		sig := Sign(secret, body)
		b.Run(sizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !VerifySignature(secret, body, sig) {
					b.Fatal("signature did not verify")
				}
			}
		})
	}
	b.Run("wrong", func(b *testing.B) {
		body := []byte(`{"to":"412587349","turn":{"type":"text","text":{"body":"hello"}}}`)
		sig := Sign([]byte("another secret"), body)
		b.ReportAllocs()
		for b.Loop() {
			if VerifySignature(secret, body, sig) {
				b.Fatal("wrong signature verified")
			}
		}
	})
}

// BenchmarkSign signs as Turn does (the fake and the load test use it).
func BenchmarkSign(b *testing.B) {
	secret := []byte("turn-hmac-secret-0123456789")
	body := []byte(`{"to":"412587349","turn":{"type":"text","text":{"body":"` + strings.Repeat("x", 512) + `"}}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		Sign(secret, body)
	}
}

// BenchmarkDecodeOutbound decodes Turn's outbound webhook payloads.
func BenchmarkDecodeOutbound(b *testing.B) {
	for _, name := range []string{"text", "interactive_button", "interactive_list", "template", "image", "unknown_fields"} {
		body, err := os.ReadFile(filepath.Join("testdata", "outbound", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := DecodeOutbound(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}
