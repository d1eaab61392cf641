package turn

import (
	"encoding/base64"
	"testing"
)

func TestSignKnownVector(t *testing.T) {
	// Computed independently (Python hmac + base64) to pin the encoding.
	got := Sign([]byte("the-secret-for-your-webhook"), []byte(`{"to":"5512784653"}`))
	if want := "n8IlNMCulXI4KHDRrWkVr6vZotaWiRfbpvslheZTecY="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	secret := []byte("the-secret-for-your-webhook")
	body := []byte(`{"to":"5512784653","turn":{"type":"text","text":{"body":"hi"}}}`)
	good := Sign(secret, body)
	raw, _ := base64.StdEncoding.DecodeString(good)

	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   bool
	}{
		{"good", secret, body, good, true},
		{"good with surrounding space", secret, body, " " + good + "\n", true},
		{"wrong secret", []byte("another-secret"), body, good, false},
		{"signed with other secret", secret, body, Sign([]byte("x"), body), false},
		{"missing", secret, body, "", false},
		{"blank", secret, body, "   ", false},
		{"bad base64", secret, body, "not*base64!", false},
		{"unpadded", secret, body, base64.RawStdEncoding.EncodeToString(raw), false},
		{"url alphabet", secret, body, base64.URLEncoding.EncodeToString(raw) + "~", false},
		{"truncated mac", secret, body, base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"hex instead of base64", secret, body, "6e38c2253", false},
		{"body changed", secret, append(append([]byte(nil), body...), ' '), good, false},
		{"body emptied", secret, nil, good, false},
		{"empty secret never verifies", nil, body, Sign(nil, body), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature(tt.secret, tt.body, tt.header); got != tt.want {
				t.Fatalf("VerifySignature = %v, want %v", got, tt.want)
			}
		})
	}
}
