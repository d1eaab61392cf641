package channels

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// Info describes a channel; it is stored in the clear, so it holds no secret.
type Info struct {
	BotID         int64   `json:"bot_id"`
	BotUsername   string  `json:"bot_username"`
	BotName       string  `json:"bot_name"`
	TurnNumberID  string  `json:"turn_number_id"`
	TurnWebhookID string  `json:"turn_webhook_id,omitempty"`
	Origin        string  `json:"origin"` // "created" through Turn's API, or "bound" to an existing channel
	Options       Options `json:"options"`
}

// Options tune one channel.
type Options struct {
	// RateLimit is the bot's Telegram messages per second (paid broadcasts
	// allow up to 1000); 0: the service's TELEGRAM_RATE_LIMIT.
	RateLimit float64 `json:"rate_limit,omitempty"`
}

// Secrets are a channel's secrets, only ever stored sealed.
type Secrets struct {
	BotToken      string `json:"bot_token"`
	TurnToken     string `json:"turn_token,omitempty"` // the channel's token from Turn's UI; empty until set
	HMACSecret    string `json:"hmac_secret"`          // signs Turn's webhook calls
	WebhookSecret string `json:"webhook_secret"`       // Telegram's secret_token for this bot's webhook
}

// list is every secret, for redaction.
func (s Secrets) list() []string {
	out := []string{s.BotToken, s.TurnToken, s.HMACSecret, s.WebhookSecret}
	if _, after, ok := strings.Cut(s.BotToken, ":"); ok {
		out = append(out, after) // the part of a bot token that is secret
	}
	return out
}

// Channel is a stored channel with its secrets opened.
type Channel struct {
	Key       string
	Info      Info
	Secrets   Secrets
	Disabled  bool
	KeyID     string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SecretValues are the channel's secrets, for a redacting logger.
func (c *Channel) SecretValues() []string { return c.Secrets.list() }

var (
	keyRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	tokenRe  = regexp.MustCompile(`^[0-9]{3,}:[A-Za-z0-9_-]{20,}$`)
	numberRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
)

// checkKey validates a channel key: it is a URL path segment and a metric
// label, so it is short and plain.
func checkKey(key string) error {
	if !keyRe.MatchString(key) {
		return errorf(Invalid, nil, "channel key %q must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit", key)
	}
	return nil
}

// seal makes the store record of c, sealing its secrets with the current key.
func (k *Keyring) seal(c *Channel) (store.ChannelRecord, error) {
	info, err := json.Marshal(c.Info)
	if err != nil {
		return store.ChannelRecord{}, fmt.Errorf("encode channel info: %w", err)
	}
	plain, err := json.Marshal(c.Secrets)
	if err != nil {
		return store.ChannelRecord{}, fmt.Errorf("encode channel secrets: %w", err)
	}
	sealed, keyID, err := k.Seal(c.Key, plain)
	if err != nil {
		return store.ChannelRecord{}, err
	}
	return store.ChannelRecord{
		Key: c.Key, BotID: c.Info.BotID, Info: info, Sealed: sealed, KeyID: keyID,
		Disabled: c.Disabled, Version: c.Version,
	}, nil
}

// describe reads a record's info without opening its secrets.
func describe(rec store.ChannelRecord) (*Channel, error) {
	c := &Channel{
		Key: rec.Key, Disabled: rec.Disabled, KeyID: rec.KeyID, Version: rec.Version,
		CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
	}
	if err := json.Unmarshal(rec.Info, &c.Info); err != nil {
		return c, fmt.Errorf("channel %q: stored info undecodable: %w", rec.Key, err)
	}
	return c, nil
}

// open reads a record and opens its secrets.
func (k *Keyring) open(rec store.ChannelRecord) (*Channel, error) {
	c, err := describe(rec)
	if err != nil {
		return nil, err
	}
	plain, err := k.Open(rec.Key, rec.KeyID, rec.Sealed)
	if err != nil {
		return c, fmt.Errorf("channel %q: %w", rec.Key, err)
	}
	if err := json.Unmarshal(plain, &c.Secrets); err != nil {
		return c, fmt.Errorf("channel %q: sealed secrets undecodable: %w", rec.Key, err)
	}
	return c, nil
}
