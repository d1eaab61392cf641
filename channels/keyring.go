package channels

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of SECRET_KEY: AES-256.
const KeySize = 32

// ErrBadKey: a secret key is not 32 bytes given as base64 or hex.
var ErrBadKey = errors.New("must be 32 random bytes written as base64 or hex (generate one with: openssl rand -base64 32)")

// ErrUnknownKey: a record was sealed with a key the keyring does not hold.
var ErrUnknownKey = errors.New("sealed with a key that is neither SECRET_KEY nor SECRET_KEY_PREVIOUS")

// ParseKey reads a secret key: 32 bytes as hex (64 digits) or base64
// (standard or URL alphabet, padded or not).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, ErrBadKey
}

// Keyring seals with the current key and opens with the current or any
// previous one, so that a key can be rotated while records sealed with the
// old one are still being read.
type Keyring struct {
	current *sealKey
	all     map[string]*sealKey
}

type sealKey struct {
	id   string
	aead cipher.AEAD
}

// NewKeyring makes a keyring sealing with current and also opening with
// previous (nil entries are skipped).
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	k := &Keyring{all: map[string]*sealKey{}}
	for i, raw := range append([][]byte{current}, previous...) {
		if raw == nil && i > 0 {
			continue
		}
		if len(raw) != KeySize {
			return nil, ErrBadKey
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		sk := &sealKey{id: KeyID(raw), aead: aead}
		if i == 0 {
			k.current = sk
		}
		if _, dup := k.all[sk.id]; !dup {
			k.all[sk.id] = sk
		}
	}
	return k, nil
}

// KeyID names a key without revealing it: the start of a SHA-256 of it,
// stored beside each ciphertext so rotation knows what to re-seal.
func KeyID(raw []byte) string {
	h := sha256.Sum256(append([]byte("turn-telegram secret key id\x00"), raw...))
	return hex.EncodeToString(h[:8])
}

// CurrentID is the id of the key Seal uses.
func (k *Keyring) CurrentID() string { return k.current.id }

// sealFormat is the first byte of a sealed value: the layout version.
const sealFormat = 1

// Seal encrypts plaintext for the channel with the current key. The
// channel key and key id are authenticated with it, so a ciphertext copied
// to another channel's row does not open.
func (k *Keyring) Seal(channel string, plaintext []byte) (sealed []byte, keyID string, err error) {
	nonce := make([]byte, k.current.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("seal: %w", err)
	}
	out := append([]byte{sealFormat}, nonce...)
	out = k.current.aead.Seal(out, nonce, plaintext, aad(channel, k.current.id))
	return out, k.current.id, nil
}

// Open decrypts what Seal sealed for the channel with the key keyID.
func (k *Keyring) Open(channel, keyID string, sealed []byte) ([]byte, error) {
	sk := k.all[keyID]
	if sk == nil {
		return nil, fmt.Errorf("key %s: %w", keyID, ErrUnknownKey)
	}
	n := sk.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealFormat {
		return nil, errors.New("sealed secrets are malformed")
	}
	plain, err := sk.aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad(channel, keyID))
	if err != nil {
		return nil, fmt.Errorf("sealed secrets do not open with key %s: %w", keyID, err)
	}
	return plain, nil
}

func aad(channel, keyID string) []byte {
	return []byte("turn-telegram channel secrets\x00" + channel + "\x00" + keyID)
}
