package main

import (
	"context"
	"io"

	"github.com/turn-telegram/turn-telegram/internal/app"
)

const migrateUsage = `usage: turn-telegram migrate
Applies the embedded database migrations to DATABASE_URL (or the embedded
store in DATA_DIR) and exits; serve applies them too.`

func migrate(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	c, err := loadConfig(getenv, false)
	if err != nil {
		return err
	}
	log := app.NewLogger(stderr, c.LogLevel, app.NewRedactor(c.secrets()...))
	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	log.Info("migrations applied")
	return st.Close()
}
