package bot

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/turn"
)

// classifyTelegram maps a Bot API failure to a delivery class, once.
// go-telegram/bot's TooManyRequestsError has no Unwrap, so errors.Is misses
// it: errors.As is the only reliable test.
func classifyTelegram(err error) error {
	if err == nil {
		return nil
	}
	var tooMany *tgbot.TooManyRequestsError
	if errors.As(err, &tooMany) {
		wait := time.Duration(tooMany.RetryAfter) * time.Second
		if wait <= 0 {
			wait = time.Second
		}
		return delivery.Throttle(err, wait)
	}
	var api *APIError
	if errors.As(err, &api) {
		switch {
		case api.Code == http.StatusTooManyRequests:
			return delivery.Throttle(err, max(time.Duration(api.RetryAfter)*time.Second, time.Second))
		case api.Code == http.StatusForbidden:
			return delivery.Gone(err)
		case api.Code == http.StatusBadRequest && chatGoneText(api.Description):
			return delivery.Gone(err)
		case api.Code == http.StatusBadRequest:
			return delivery.Permanent(err)
		}
		return delivery.Retry(err)
	}
	var migrate *tgbot.MigrateError
	if errors.As(err, &migrate) {
		return delivery.Permanent(err)
	}
	switch {
	case errors.Is(err, tgbot.ErrorForbidden):
		return delivery.Gone(err)
	case errors.Is(err, tgbot.ErrorBadRequest):
		if chatGoneText(err.Error()) {
			return delivery.Gone(err)
		}
		return delivery.Permanent(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return delivery.Retry(err)
	}
	// 401/404 (token revoked or wrong API URL), 409, 5xx, network: an
	// operator or time can fix these, so retry within the job's bounds.
	return delivery.Retry(err)
}

func chatGoneText(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "chat not found") || strings.Contains(s, "user not found") ||
		strings.Contains(s, "bot was blocked") || strings.Contains(s, "user is deactivated") ||
		strings.Contains(s, "bot was kicked")
}

// classifyTurn maps a Turn API failure to a delivery class, once.
func classifyTurn(err error) error {
	if err == nil {
		return nil
	}
	var api *turn.APIError
	if errors.As(err, &api) {
		switch {
		case api.StatusCode == http.StatusTooManyRequests:
			wait := api.RetryAfter
			if wait <= 0 {
				wait = 5 * time.Second
			}
			return delivery.Throttle(err, wait)
		case api.Temporary():
			return delivery.Retry(err)
		case api.StatusCode == http.StatusUnauthorized || api.StatusCode == http.StatusForbidden:
			// A wrong or rotated channel token is fixed by an operator; keep
			// the message until then (bounded by the job's attempts and age).
			return delivery.Retry(err)
		}
		return delivery.Permanent(err)
	}
	return delivery.Retry(err)
}
