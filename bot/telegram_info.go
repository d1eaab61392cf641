package bot

import (
	"context"

	"github.com/go-telegram/bot/models"
)

// GetMe returns the bot's own user: its id, username and name. A refused
// token answers *APIError with Code 401.
func (t *Telegram) GetMe(ctx context.Context) (*models.User, error) {
	var u models.User
	if err := t.call(ctx, "getMe", []byte(`{}`), &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetWebhookInfo returns the bot's webhook as Telegram has it: URL, allowed
// updates, pending updates and the last delivery error (never the secret).
func (t *Telegram) GetWebhookInfo(ctx context.Context) (*models.WebhookInfo, error) {
	var info models.WebhookInfo
	if err := t.call(ctx, "getWebhookInfo", []byte(`{}`), &info); err != nil {
		return nil, err
	}
	return &info, nil
}
