package channels_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/channels"
)

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := make([]byte, channels.KeySize)
	for i := range raw {
		raw[i] = byte(i*7 + 250) // high bytes: base64 uses + and /, or - and _
	}
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"hex", hex.EncodeToString(raw), true},
		{"hex upper case", strings.ToUpper(hex.EncodeToString(raw)), true},
		{"base64", base64.StdEncoding.EncodeToString(raw), true},
		{"base64 unpadded", base64.RawStdEncoding.EncodeToString(raw), true},
		{"base64url", base64.URLEncoding.EncodeToString(raw), true},
		{"base64url unpadded", base64.RawURLEncoding.EncodeToString(raw), true},
		{"with a trailing newline", base64.StdEncoding.EncodeToString(raw) + "\n", true},
		{"empty", "", false},
		{"a passphrase", "correct horse battery staple", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(raw, 1)), false},
		{"hex of 31 bytes", hex.EncodeToString(raw[:31]), false},
		{"64 characters, not hex", strings.Repeat("z", 64), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := channels.ParseKey(tc.in)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("ParseKey: %v", err)
			case tc.ok && !bytes.Equal(got, raw):
				t.Fatalf("ParseKey = %x, want %x", got, raw)
			case !tc.ok && !errors.Is(err, channels.ErrBadKey):
				t.Fatalf("ParseKey = %x, %v; want ErrBadKey", got, err)
			}
		})
	}
}

func TestKeyringSealOpen(t *testing.T) {
	t.Parallel()
	secret := []byte(`{"bot_token":"5550001111:AAclinicSECRET"}`)
	oldKeys := keyring(t, fixedKey(1))
	sealed, oldID, err := oldKeys.Seal("clinic", secret)
	if err != nil {
		t.Fatal(err)
	}
	if oldID != channels.KeyID(fixedKey(1)) || oldID == channels.KeyID(fixedKey(2)) {
		t.Fatalf("key id %q: want the id of the sealing key, distinct from another key's", oldID)
	}
	if bytes.Contains(sealed, secret) || bytes.Contains(sealed, []byte("AAclinicSECRET")) {
		t.Fatal("the sealed value contains the plaintext")
	}
	again, _, _ := oldKeys.Seal("clinic", secret)
	if bytes.Equal(again, sealed) {
		t.Fatal("sealing twice gave the same bytes: the nonce is not random")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1

	for _, tc := range []struct {
		name    string
		keys    *channels.Keyring
		channel string
		keyID   string
		sealed  []byte
		want    string // "": opens; else the error says this
	}{
		{"same key", oldKeys, "clinic", oldID, sealed, ""},
		{"new key with the old as previous", keyring(t, fixedKey(2), fixedKey(1)), "clinic", oldID, sealed, ""},
		{"new key alone", keyring(t, fixedKey(2)), "clinic", oldID, sealed, channels.ErrUnknownKey.Error()},
		{"another channel's row", oldKeys, "school", oldID, sealed, "do not open"},
		{"tampered", oldKeys, "clinic", oldID, tampered, "do not open"},
		{"truncated", oldKeys, "clinic", oldID, sealed[:5], "malformed"},
		{"key id swapped", keyring(t, fixedKey(2), fixedKey(1)), "clinic", channels.KeyID(fixedKey(2)), sealed, "do not open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.keys.Open(tc.channel, tc.keyID, tc.sealed)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Open: %v", err)
			case tc.want == "" && !bytes.Equal(got, secret):
				t.Fatalf("Open = %q, want %q", got, secret)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Open = %q, %v; want an error saying %q", got, err, tc.want)
			}
		})
	}
	if _, err := keyring(t, fixedKey(2)).Open("clinic", oldID, sealed); !errors.Is(err, channels.ErrUnknownKey) {
		t.Fatalf("Open with an unknown key id: %v, want ErrUnknownKey", err)
	}
	if _, err := channels.NewKeyring(fixedKey(1)[:16]); !errors.Is(err, channels.ErrBadKey) {
		t.Fatalf("NewKeyring with a 16-byte key: %v, want ErrBadKey", err)
	}
}
