package channels

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// View is what operators see of a channel: everything but its secrets,
// which are only said to be set or not.
type View struct {
	Key      string      `json:"key"`
	Disabled bool        `json:"disabled"`
	Bot      BotView     `json:"bot"`
	Turn     TurnView    `json:"turn"`
	Telegram TelegramURL `json:"telegram"`
	Secrets  SecretsSet  `json:"secrets"`
	Options  Options     `json:"options"`
	KeyID    string      `json:"key_id"` // the key that sealed the secrets
	Version  int64       `json:"version"`
	Created  time.Time   `json:"created_at"`
	Updated  time.Time   `json:"updated_at"`
	// Problem says why the channel cannot be served (its secrets do not
	// open), if so.
	Problem string `json:"problem,omitempty"`
	// Warnings are things an operation could not finish (e.g. the webhook
	// registration), which the service retries by itself.
	Warnings []string `json:"warnings,omitempty"`
	// Served, ServedVersion and Webhook are this process's view, filled in
	// by the admin API: whether it serves the channel, which version of it
	// (behind Version for a moment after a change), and its webhook's state.
	Served        *bool         `json:"served,omitempty"`
	ServedVersion int64         `json:"served_version,omitempty"`
	Webhook       *WebhookState `json:"webhook,omitempty"`
	// Credentials are the channel's refused credentials as this process
	// last heard (Telegram refusing the bot token, Turn the channel token).
	Credentials []string `json:"credentials_refused,omitempty"`
}

// BotView identifies the Telegram bot.
type BotView struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// TurnView identifies the Turn channel.
type TurnView struct {
	NumberID  string `json:"number_id"`
	WebhookID string `json:"webhook_id,omitempty"`
	Origin    string `json:"origin"`
	Endpoint  string `json:"endpoint"` // the URL Turn must post to
}

// TelegramURL is where Telegram must post the bot's updates.
type TelegramURL struct {
	Webhook string `json:"webhook"`
}

// SecretsSet says which secrets a channel has, never what they are.
type SecretsSet struct {
	BotToken      bool `json:"bot_token"`
	TurnToken     bool `json:"turn_token"`
	HMACSecret    bool `json:"hmac_secret"`
	WebhookSecret bool `json:"webhook_secret"`
}

func (r *Registry) view(c *Channel, problem error) View {
	v := View{
		Key:      c.Key,
		Disabled: c.Disabled,
		Bot:      BotView{ID: c.Info.BotID, Username: c.Info.BotUsername, Name: c.Info.BotName},
		Turn: TurnView{
			NumberID: c.Info.TurnNumberID, WebhookID: c.Info.TurnWebhookID, Origin: c.Info.Origin,
			Endpoint: r.turnEndpoint(c.Key),
		},
		Telegram: TelegramURL{Webhook: r.WebhookURL(c.Key)},
		Options:  c.Info.Options,
		KeyID:    c.KeyID,
		Version:  c.Version,
		Created:  c.CreatedAt,
		Updated:  c.UpdatedAt,
	}
	if problem != nil {
		v.Problem = "cannot be served: " + openProblem(problem)
		return v
	}
	v.Secrets = SecretsSet{
		BotToken: c.Secrets.BotToken != "", TurnToken: c.Secrets.TurnToken != "",
		HMACSecret: c.Secrets.HMACSecret != "", WebhookSecret: c.Secrets.WebhookSecret != "",
	}
	return v
}

// List returns every channel, by key.
func (r *Registry) List(ctx context.Context) ([]View, error) {
	views, _, err := r.Page(ctx, "", 0)
	return views, err
}

// MaxPage is the most channels one page of Page holds.
const MaxPage = 1000

// Page returns, by key, the channels whose key sorts after `after` ("":
// from the first), at most limit of them (0: all), and the key to give as
// `after` for the next page ("" when there is none). Only the page's
// channels are opened.
func (r *Registry) Page(ctx context.Context, after string, limit int) ([]View, string, error) {
	if limit < 0 || limit > MaxPage {
		return nil, "", errorf(Invalid, nil, "limit must be a whole number from 1 to %d", MaxPage)
	}
	recs, err := r.cfg.Store.Channels(ctx, 0)
	if err != nil {
		return nil, "", errorf(Unavailable, err, "the store failed")
	}
	live := recs[:0]
	for _, rec := range recs {
		if !rec.Deleted && rec.Key > after {
			live = append(live, rec)
		}
	}
	slices.SortFunc(live, func(a, b store.ChannelRecord) int { return strings.Compare(a.Key, b.Key) })
	next := ""
	if limit > 0 && len(live) > limit {
		live = live[:limit]
		next = live[limit-1].Key
	}
	views := make([]View, 0, len(live))
	for _, rec := range live {
		c, err := r.cfg.Keys.open(rec)
		if c == nil {
			return nil, "", errorf(Internal, err, "channel %q is unreadable", rec.Key)
		}
		views = append(views, r.view(c, err))
	}
	return views, next, nil
}

// Secrets returns the secrets of every channel, for a redactor of what an
// operator's command prints.
func (r *Registry) Secrets(ctx context.Context) ([]string, error) {
	recs, err := r.cfg.Store.Channels(ctx, 0)
	if err != nil {
		return nil, errorf(Unavailable, err, "the store failed")
	}
	var out []string
	for _, rec := range recs {
		if rec.Deleted {
			continue
		}
		c, err := r.cfg.Keys.open(rec)
		if c == nil {
			return nil, errorf(Internal, err, "channel %q is unreadable", rec.Key)
		}
		out = append(out, c.SecretValues()...)
	}
	return out, nil
}

// Show returns one channel.
func (r *Registry) Show(ctx context.Context, key string) (View, error) {
	rec, err := r.cfg.Store.Channel(ctx, key)
	if err != nil {
		return View{}, storeError(err, key)
	}
	c, err := r.cfg.Keys.open(rec)
	if c == nil {
		return View{}, errorf(Internal, err, "channel %q is unreadable", key)
	}
	return r.view(c, err), nil
}
