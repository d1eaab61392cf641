package store

import (
	"context"
	"fmt"
	"time"
)

// callbackTx is what UseCallback needs of a dialect inside one transaction.
type callbackTx interface {
	// callback reads a stored button; ErrNotFound when the key is unknown.
	callback(ctx context.Context, channel, key string) (Callback, error)
	// useGroup records the first press of a keyboard, reporting whether
	// this was it.
	useGroup(ctx context.Context, channel, group, key string, at time.Time) (first bool, err error)
}

// useCallback is UseCallback's policy, the same on every database: a key
// too old or pressed in another chat is unknown (a forged key must not use
// up the keyboard of the chat it belongs to), and the first press of any
// button of a group wins.
func useCallback(ctx context.Context, tx callbackTx, channel string, chatID int64, key string, maxAge time.Duration) (Callback, bool, error) {
	cb, err := tx.callback(ctx, channel, key)
	if err != nil {
		return Callback{}, false, fmt.Errorf("store: use callback %q: %w", key, err)
	}
	t := now()
	if (maxAge > 0 && cb.CreatedAt.Before(t.Add(-maxAge))) || cb.ChatID != chatID {
		return Callback{}, false, fmt.Errorf("store: use callback %q: %w", key, ErrNotFound)
	}
	first, err := tx.useGroup(ctx, channel, cb.Group, key, t)
	if err != nil {
		return Callback{}, false, fmt.Errorf("store: use callback %q: %w", key, err)
	}
	return cb, first, nil
}
