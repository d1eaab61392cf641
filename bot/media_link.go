package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// mediaClaims is what a /media/{token} link stands for. The link carries the
// Telegram file_id, never the bot token: the service downloads the file with
// its token when Turn fetches the link.
type mediaClaims struct {
	Channel  string `json:"c"`
	FileID   string `json:"f"`
	MimeType string `json:"m,omitempty"`
	Filename string `json:"n,omitempty"`
	Expires  int64  `json:"e"`
}

var (
	errLinkInvalid = errors.New("media link invalid")
	errLinkExpired = errors.New("media link expired")
)

// signLink makes the token of a signed, expiring media link.
func signLink(key []byte, c mediaClaims) string {
	payload, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(linkMAC(key, p))
}

func linkMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("turn-telegram media link\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)[:20]
}

// peekLinkChannel reads the channel a token claims, unverified, so the right
// channel's key can verify it.
func peekLinkChannel(token string) (string, error) {
	p, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", errLinkInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return "", errLinkInvalid
	}
	var c mediaClaims
	if json.Unmarshal(raw, &c) != nil || c.Channel == "" {
		return "", errLinkInvalid
	}
	return c.Channel, nil
}

// verifyLink checks a token's signature and expiry and returns its claims.
func verifyLink(key []byte, token string, now time.Time) (mediaClaims, error) {
	var c mediaClaims
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return c, errLinkInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, linkMAC(key, p)) {
		return c, errLinkInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.FileID == "" {
		return c, errLinkInvalid
	}
	if now.Unix() > c.Expires {
		return c, errLinkExpired
	}
	return c, nil
}

// deriveKey derives a purpose-bound key from a secret, so one configured
// secret (the bot token, or SECRET_KEY) can serve several uses without the
// secret itself ever being exposed by any of them.
func deriveKey(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
