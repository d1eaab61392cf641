package channels

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// AddRequest adds a channel: a bot, and either a Turn channel to create
// (TurnToken) or an existing one to bind (NumberID and HMACSecret).
type AddRequest struct {
	// Key is the channel's route key; default: the bot's username in lower case.
	Key      string `json:"key,omitempty"`
	BotToken string `json:"bot_token"`

	// TurnToken is the token of an existing number of the Turn account,
	// used once to create the channel (POST /v1/numbers), never stored.
	TurnToken string `json:"turn_token,omitempty"`
	// Name and FromAddr override the new Turn channel's display name (the
	// bot's name) and address (the bot's @username).
	Name     string `json:"name,omitempty"`
	FromAddr string `json:"from_addr,omitempty"`

	// NumberID and HMACSecret bind to an existing Turn channel.
	NumberID   string `json:"number_id,omitempty"`
	HMACSecret string `json:"hmac_secret,omitempty"`

	// ChannelToken is the channel's own Turn token, when already issued.
	ChannelToken string `json:"channel_token,omitempty"`

	Options Options `json:"options"`
}

func (q *AddRequest) check() error {
	q.Key, q.BotToken, q.TurnToken = strings.TrimSpace(q.Key), strings.TrimSpace(q.BotToken), strings.TrimSpace(q.TurnToken)
	q.NumberID, q.HMACSecret, q.ChannelToken = strings.TrimSpace(q.NumberID), strings.TrimSpace(q.HMACSecret), strings.TrimSpace(q.ChannelToken)
	create, bind := q.TurnToken != "", q.NumberID != "" || q.HMACSecret != ""
	switch {
	case q.BotToken == "":
		return errorf(Invalid, nil, "the bot token is required (the token @BotFather gave the bot)")
	case !tokenRe.MatchString(q.BotToken):
		return errorf(Invalid, nil, "the bot token is malformed (expected <digits>:<secret> as @BotFather gives it)")
	case create == bind:
		return errorf(Invalid, nil, "give either the token of an existing Turn number (to create the Turn channel) or the number id and HMAC secret of an existing Turn channel (to bind to it)")
	case bind && q.NumberID == "":
		return errorf(Invalid, nil, "binding needs the Turn channel's number id")
	case bind && q.HMACSecret == "":
		return errorf(Invalid, nil, "binding needs the Turn channel's HMAC secret")
	case bind && !numberRe.MatchString(q.NumberID):
		return errorf(Invalid, nil, "the Turn number id %q is malformed", q.NumberID)
	case q.Options.RateLimit < 0 || q.Options.RateLimit > 1000:
		return errorf(Invalid, nil, "the rate limit must be from 1 to 1000 messages per second (0: the service's)")
	case strings.ContainsAny(q.ChannelToken, " \t\r\n"):
		return errorf(Invalid, nil, "the channel token must not contain spaces")
	}
	if q.Key != "" {
		return checkKey(q.Key)
	}
	return nil
}

// Add checks the bot with Telegram, creates the Turn channel (or binds to
// the given one), stores the channel with its secrets sealed, and registers
// the bot's webhook with a secret token of its own. A webhook registration
// that fails is reported in Warnings: the channel is stored, and the serving
// processes register the webhook themselves.
func (r *Registry) Add(ctx context.Context, q AddRequest) (View, error) {
	if err := q.check(); err != nil {
		return View{}, err
	}
	if r.cfg.PublicURL == "" {
		return View{}, errorf(Invalid, nil, "PUBLIC_URL is required to add a channel: Turn and Telegram must reach the service")
	}
	tg, err := r.telegram(q.BotToken)
	if err != nil {
		return View{}, err
	}
	me, err := tg.GetMe(ctx)
	if err != nil {
		return View{}, telegramError(tg.Scrub(err), "getMe")
	}
	key := q.Key
	if key == "" {
		key = strings.ToLower(me.Username)
		if err := checkKey(key); err != nil {
			return View{}, errorf(Invalid, nil, "the bot's username %q is not a usable channel key: give a key", me.Username)
		}
	}
	if err := r.available(ctx, key, me.ID); err != nil {
		return View{}, err
	}
	c := &Channel{
		Key:     key,
		Info:    Info{BotID: me.ID, BotUsername: me.Username, BotName: strings.TrimSpace(me.FirstName + " " + me.LastName), Options: q.Options},
		Secrets: Secrets{BotToken: q.BotToken, TurnToken: q.ChannelToken, WebhookSecret: newWebhookSecret()},
	}
	log := r.log.With("channel", key)
	if q.TurnToken != "" {
		name, from := q.Name, q.FromAddr
		if name == "" {
			name = c.Info.BotName
		}
		if from == "" {
			from = "@" + me.Username
		}
		created, err := turn.CreateChannel(ctx, r.cfg.HTTPClient, r.cfg.TurnAPIURL, q.TurnToken, turn.CreateChannelRequest{
			FromAddr: from, Name: name, Endpoint: r.turnEndpoint(key),
		})
		if err != nil {
			return View{}, turnError(err)
		}
		c.Info.TurnNumberID, c.Info.TurnWebhookID, c.Info.Origin = created.Number.UUID, created.Webhook.UUID, "created"
		c.Secrets.HMACSecret = created.Webhook.HMACSecret
		log.Info("turn channel created", "turn_number", created.Number.UUID, "from_addr", from)
	} else {
		c.Info.TurnNumberID, c.Info.Origin = q.NumberID, "bound"
		c.Secrets.HMACSecret = q.HMACSecret
	}
	stored, err := r.put(ctx, c)
	if err != nil {
		if c.Info.Origin == "created" {
			log.Error("turn channel created but not stored", "turn_number", c.Info.TurnNumberID, "err", err)
		}
		return View{}, err
	}
	v := r.view(stored, nil)
	if err := tg.SetWebhook(ctx, r.WebhookURL(key), c.Secrets.WebhookSecret); err != nil {
		err = tg.Scrub(err)
		log.Warn("telegram webhook not registered; the service will retry", "err", err)
		v.Warnings = append(v.Warnings, "the Telegram webhook is not registered yet ("+err.Error()+"); the service registers it when it serves the channel")
	}
	if !v.Secrets.TurnToken {
		v.Warnings = append(v.Warnings, "no Turn token yet: issue the channel's token in Turn's UI, then set it with `turn-telegram channels set-token "+key+"`; messages to Turn wait until then")
	}
	log.Info("channel added", "bot", me.Username, "turn_number", c.Info.TurnNumberID, "origin", c.Info.Origin)
	return v, nil
}

// available checks that neither the key nor the bot is taken, before
// anything is created at Turn.
func (r *Registry) available(ctx context.Context, key string, botID int64) error {
	// Two indexed lookups, whatever the number of channels.
	switch _, err := r.cfg.Store.Channel(ctx, key); {
	case err == nil:
		return errorf(Conflict, nil, "channel %q exists", key)
	case !errors.Is(err, store.ErrNotFound):
		return errorf(Unavailable, err, "the store failed")
	}
	switch rec, err := r.cfg.Store.ChannelByBot(ctx, botID); {
	case err == nil:
		return errorf(Conflict, nil, "this bot already serves channel %q", rec.Key)
	case !errors.Is(err, store.ErrNotFound):
		return errorf(Unavailable, err, "the store failed")
	}
	return nil
}

// newWebhookSecret is a random secret_token: 256 bits in Telegram's
// alphabet (A-Z, a-z, 0-9, _ and -).
func newWebhookSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// telegramError maps a failed Bot API call of an operation.
func telegramError(err error, method string) error {
	var api *bot.APIError
	if errors.As(err, &api) {
		switch api.Code {
		case http.StatusUnauthorized, http.StatusNotFound:
			return errorf(Invalid, err, "Telegram refused the bot token (%s: %d %s)", method, api.Code, api.Description)
		case http.StatusTooManyRequests:
			return errorf(Unavailable, err, "Telegram asks to wait %d s (%s)", api.RetryAfter, method)
		}
		return errorf(Unavailable, err, "Telegram answered %s with %d %s", method, api.Code, api.Description)
	}
	return errorf(Unavailable, err, "Telegram cannot be reached (%s)", method)
}

// turnError maps a failed channel creation.
func turnError(err error) error {
	var api *turn.APIError
	if errors.As(err, &api) {
		switch {
		case api.StatusCode == http.StatusUnauthorized || api.StatusCode == http.StatusForbidden:
			return errorf(Invalid, err, "Turn refused the token of the existing number (%d)", api.StatusCode)
		case api.StatusCode >= 400 && api.StatusCode < 500 && api.StatusCode != http.StatusTooManyRequests:
			return errorf(Invalid, err, "Turn refused to create the channel: %s", api.Message)
		}
		return errorf(Unavailable, err, "Turn could not create the channel now (%d)", api.StatusCode)
	}
	return errorf(Unavailable, err, "Turn cannot be reached to create the channel")
}
