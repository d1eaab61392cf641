package store

import (
	"errors"
	"time"
)

// ChannelRecord is a hosted channel as stored: a Telegram bot bound to a
// Turn channel. The store never sees the channel's secrets in the clear:
// Sealed is what package channels encrypted, KeyID names the key it used.
type ChannelRecord struct {
	Key      string // the route key: /channels/{Key}/...
	BotID    int64  // the Telegram bot's id; a bot serves one channel (0: unknown)
	Info     []byte // JSON describing the channel, without secrets
	Sealed   []byte // the encrypted secrets
	KeyID    string // the id of the key that sealed them
	Disabled bool   // kept but not served
	Deleted  bool   // removed: a tombstone, reported only by Channels
	Version  int64  // increases with every write to any channel
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// checkChannel validates a record before it is written.
func checkChannel(rec ChannelRecord) error {
	switch {
	case rec.Key == "":
		return errors.New("channel without a key")
	case rec.Version < 0:
		return errors.New("negative channel version")
	case len(rec.Info) == 0:
		return errors.New("channel without info")
	}
	return nil
}
