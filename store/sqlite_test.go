package store_test

import (
	"testing"

	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.SQLite(t) })
}
