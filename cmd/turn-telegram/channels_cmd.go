package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/internal/app"
	"github.com/turn-telegram/turn-telegram/store"
)

const channelsUsage = `usage: turn-telegram channels COMMAND [flags]
  list                   every channel kept in the store (never a secret)
  show KEY               one channel, as JSON
  add [-key KEY] -bot-token-file FILE
      (-turn-token-file FILE [-name NAME] [-from-addr ADDR]     create the Turn channel
       | -number UUID -hmac-secret-file FILE)                   or bind an existing one
      [-channel-token-file FILE] [-rate-limit N]
                         check the bot with Telegram, create or bind the Turn
                         channel, store it and register the bot's webhook
  set-token KEY -token-file FILE
                         set the channel's token issued in Turn's UI
  disable KEY            stop serving it (its messages wait)
  enable KEY             serve it again
  remove KEY             delete its webhook and forget it
  rotate-key             re-seal every channel with SECRET_KEY (after setting the
                         old key as SECRET_KEY_PREVIOUS)
Every secret flag -NAME-file FILE also exists as -NAME VALUE (visible to other
users of the machine: prefer files). Needs SECRET_KEY and the store settings;
add needs PUBLIC_URL. See README.md, "Hosting many bots".`

// usageError asks runContext to print a command's usage.
type usageError struct{ usage string }

func (e *usageError) Error() string { return "usage" }

// channelsCmd runs `turn-telegram channels ...`.
func channelsCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	red := app.NewRedactor()
	defer func() {
		// What is printed of a failure holds no secret either.
		var ue *usageError
		var ce *configError
		if err != nil && !errors.As(err, &ue) && !errors.As(err, &ce) {
			err = errors.New(red.String(err.Error()))
		}
	}()
	if len(args) == 0 {
		return &usageError{channelsUsage}
	}
	c, err := loadConfig(getenv, false)
	if err != nil {
		return err
	}
	if !c.hosted() {
		return &configError{Var: "SECRET_KEY", Msg: "is required for channel commands: it seals the channels' secrets in the store (generate one with: openssl rand -base64 32)"}
	}
	level := "warn"
	if strings.EqualFold(c.LogLevel, "debug") {
		level = "debug"
	}
	red.Add(c.secrets()...)
	log := app.NewLogger(stderr, level, red)
	st, err := openStore(ctx, c, log)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w\nA running service holds the embedded store: use its admin API (ADMIN_TOKEN), or PostgreSQL (DATABASE_URL) to share the store", err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	reg, err := newRegistry(c, st, log)
	if err != nil {
		return err
	}
	sub, args := args[0], args[1:]
	out := func(v any) error {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	warn := func(warnings []string) {
		for _, w := range warnings {
			fmt.Fprintln(stderr, "warning:", red.String(w))
		}
	}
	switch sub {
	case "list":
		if len(args) != 0 {
			return &usageError{channelsUsage}
		}
		views, err := reg.List(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "KEY\tBOT\tTURN NUMBER\tSTATE\tTURN TOKEN\tKEY ID")
		for _, v := range views {
			state := "enabled"
			switch {
			case v.Problem != "":
				state = "unopenable"
			case v.Disabled:
				state = "disabled"
			}
			fmt.Fprintf(w, "%s\t@%s\t%s\t%s\t%s\t%s\n", v.Key, v.Bot.Username, v.Turn.NumberID, state, setOrNot(v.Secrets.TurnToken), v.KeyID)
		}
		return w.Flush()
	case "show", "disable", "enable", "remove":
		if len(args) != 1 {
			return &usageError{channelsUsage}
		}
		key := args[0]
		switch sub {
		case "show":
			v, err := reg.Show(ctx, key)
			if err != nil {
				return err
			}
			return out(v)
		case "remove":
			warnings, err := reg.Remove(ctx, key)
			if err != nil {
				return err
			}
			warn(warnings)
			fmt.Fprintf(stdout, "removed: %s\n", key)
			return nil
		}
		v, err := reg.SetDisabled(ctx, key, sub == "disable")
		if err != nil {
			return err
		}
		return out(v)
	case "set-token":
		return setTokenCmd(ctx, reg, red, args, stderr, out)
	case "add":
		return addCmd(ctx, reg, red, args, stderr, out, warn)
	case "rotate-key":
		res, err := reg.RotateKey(ctx)
		if err != nil {
			return err
		}
		if err := out(res); err != nil {
			return err
		}
		if len(res.Failed) > 0 {
			return fmt.Errorf("%d channels could not be opened with SECRET_KEY or SECRET_KEY_PREVIOUS: %s", len(res.Failed), strings.Join(res.Failed, ", "))
		}
		return nil
	}
	return &usageError{channelsUsage}
}

func setOrNot(b bool) string {
	if b {
		return "set"
	}
	return "missing"
}

// secretFlag is a secret given as -NAME VALUE or -NAME-file FILE.
type secretFlag struct {
	name        string
	value, file string
}

func newSecretFlag(fs *flag.FlagSet, name, what string) *secretFlag {
	s := &secretFlag{name: name}
	fs.StringVar(&s.value, name, "", what+" (prefer -"+name+"-file)")
	fs.StringVar(&s.file, name+"-file", "", "a file holding "+what)
	return s
}

// get reads the secret; the file wins, as with NAME_FILE settings.
func (s *secretFlag) get() (string, error) {
	if s.file != "" {
		b, err := os.ReadFile(s.file)
		if err != nil {
			return "", &channels.Error{Code: channels.Invalid, Message: fmt.Sprintf("-%s-file cannot be read: %v", s.name, err)}
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(s.value), nil
}

func addCmd(ctx context.Context, reg *channels.Registry, red *app.Redactor, args []string, stderr io.Writer, out func(any) error, warn func([]string)) error {
	fs := flag.NewFlagSet("channels add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var q channels.AddRequest
	fs.StringVar(&q.Key, "key", "", "the channel's key in URLs and metrics (default: the bot's username in lower case)")
	botToken := newSecretFlag(fs, "bot-token", "the bot's token from @BotFather")
	turnToken := newSecretFlag(fs, "turn-token", "the token of an existing Turn number, to create the channel")
	hmac := newSecretFlag(fs, "hmac-secret", "the existing Turn channel's HMAC secret, to bind to it")
	channelToken := newSecretFlag(fs, "channel-token", "the channel's own Turn token, if already issued")
	fs.StringVar(&q.NumberID, "number", "", "the existing Turn channel's number uuid, to bind to it")
	fs.StringVar(&q.Name, "name", "", "the new Turn channel's name (default: the bot's name)")
	fs.StringVar(&q.FromAddr, "from-addr", "", "the new Turn channel's address (default: @ and the bot's username)")
	fs.Float64Var(&q.Options.RateLimit, "rate-limit", 0, "the bot's Telegram messages per second (default: TELEGRAM_RATE_LIMIT)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return &usageError{channelsUsage}
	}
	var err error
	for _, s := range []struct {
		f    *secretFlag
		dest *string
	}{{botToken, &q.BotToken}, {turnToken, &q.TurnToken}, {hmac, &q.HMACSecret}, {channelToken, &q.ChannelToken}} {
		if *s.dest, err = s.f.get(); err != nil {
			return err
		}
		red.Add(*s.dest)
	}
	v, err := reg.Add(ctx, q)
	if err != nil {
		return err
	}
	warn(v.Warnings)
	return out(v)
}

func setTokenCmd(ctx context.Context, reg *channels.Registry, red *app.Redactor, args []string, stderr io.Writer, out func(any) error) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return &usageError{channelsUsage}
	}
	key := args[0]
	fs := flag.NewFlagSet("channels set-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	token := newSecretFlag(fs, "token", "the channel's token issued in Turn's UI")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return &usageError{channelsUsage}
	}
	t, err := token.get()
	if err != nil {
		return err
	}
	red.Add(t)
	v, err := reg.SetToken(ctx, key, t)
	if err != nil {
		return err
	}
	return out(v)
}
