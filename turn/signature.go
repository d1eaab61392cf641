package turn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// SignatureHeader carries the webhook signature on Turn's outbound calls.
const SignatureHeader = "X-Turn-Hook-Signature"

// Sign returns the value Turn puts in SignatureHeader: the standard (padded)
// base64 of HMAC-SHA256 over the raw body, keyed with the channel's secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether header is the signature of body under
// secret. It compares in constant time. An empty secret never verifies: a
// channel configured without one must not accept calls signed with the empty
// key, which anyone can compute.
func VerifySignature(secret, body []byte, header string) bool {
	header = strings.TrimSpace(header)
	if len(secret) == 0 || header == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
