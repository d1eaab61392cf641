package channels_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/store/storetest"
)

// dumper returns everything a database holds, as an attacker with a copy of
// it (but not SECRET_KEY) would read it.
type dumper func(t *testing.T) []byte

// TestSecretsUnreadableWithoutKey stores two channels and searches the
// database itself for their secrets: the raw files of the embedded store,
// every column of PostgreSQL's channels table. Without the key, a registry
// sees the channels but not their secrets.
func TestSecretsUnreadableWithoutKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (store.Store, dumper)
	}{
		{"sqlite", func(t *testing.T) (store.Store, dumper) {
			dir := t.TempDir()
			st, err := store.OpenSQLite(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			return st, func(t *testing.T) []byte {
				var all []byte
				files, _ := filepath.Glob(filepath.Join(dir, "*"))
				for _, f := range files {
					b, err := os.ReadFile(f)
					if err != nil {
						t.Fatal(err)
					}
					all = append(all, b...)
				}
				if len(all) == 0 {
					t.Fatal("the store's directory is empty")
				}
				return all
			}
		}},
		{"postgres", func(t *testing.T) (store.Store, dumper) {
			dsn := storetest.PostgresURL(t)
			st, err := store.OpenPostgres(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			return st, func(t *testing.T) []byte {
				conn, err := pgx.Connect(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(context.Background())
				rows, err := conn.Query(context.Background(),
					`SELECT key, bot_id::text, info, coalesce(sealed, ''::bytea), key_id, row_to_json(c)::text FROM channels c`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var all []byte
				for rows.Next() {
					var key, botID, info, keyID, asJSON string
					var sealed []byte
					if err := rows.Scan(&key, &botID, &info, &sealed, &keyID, &asJSON); err != nil {
						t.Fatal(err)
					}
					all = append(all, strings.Join([]string{key, botID, info, keyID, asJSON}, "\n")...)
					all = append(all, sealed...)
				}
				if rows.Err() != nil || len(all) == 0 {
					t.Fatalf("no channel rows (%v)", rows.Err())
				}
				return all
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, dump := tc.open(t)
			w := newWorld(t, st)
			w.add(t, channels.AddRequest{Key: "clinic", BotToken: clinicToken, TurnToken: numberToken})
			if _, err := w.reg.SetToken(t.Context(), "clinic", channelToken); err != nil {
				t.Fatal(err)
			}
			const hmac = "bound-channel-hmac-secret-9f8e7d"
			w.add(t, channels.AddRequest{Key: "school", BotToken: schoolToken, NumberID: numberID, HMACSecret: hmac})

			var secrets []string
			for _, key := range []string{"clinic", "school"} {
				c, err := w.reg.Load(t.Context(), key)
				if err != nil {
					t.Fatal(err)
				}
				secrets = append(secrets, c.SecretValues()...)
			}
			raw := dump(t)
			for _, s := range secrets {
				if s != "" && bytes.Contains(raw, []byte(s)) {
					t.Errorf("the database holds a secret in the clear (%.8s…)", s)
				}
			}
			if !bytes.Contains(raw, []byte("clinic")) || !bytes.Contains(raw, []byte(numberID)) {
				t.Fatal("the dump does not hold the channels at all: the test proves nothing")
			}

			// Another key sees the channels, not their secrets.
			stranger := w.registry(keyring(t, fixedKey(9)))
			views, err := stranger.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(views) != 2 {
				t.Fatalf("List with another key: %d channels, want 2", len(views))
			}
			for _, v := range views {
				if !strings.Contains(v.Problem, "neither SECRET_KEY nor SECRET_KEY_PREVIOUS") || v.Secrets != (channels.SecretsSet{}) {
					t.Errorf("channel %s seen with another key: problem %q, secrets %+v", v.Key, v.Problem, v.Secrets)
				}
			}
			if _, err := stranger.Load(t.Context(), "clinic"); channels.CodeOf(err) != channels.Internal {
				t.Errorf("Load with another key: %v, want it refused", err)
			}
		})
	}
}

// TestRotateKey rotates SECRET_KEY: with the old key as SECRET_KEY_PREVIOUS
// every channel still opens, rotate-key reseals them all with the new key,
// after which the old key is no longer needed (nor enough).
func TestRotateKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st store.Store) {
		w := newWorld(t, st) // sealing with key 1
		w.add(t, channels.AddRequest{Key: "clinic", BotToken: clinicToken, TurnToken: numberToken})
		w.add(t, channels.AddRequest{Key: "school", BotToken: schoolToken, NumberID: numberID, HMACSecret: "school-hmac-secret"})
		before, err := w.reg.Load(t.Context(), "clinic")
		if err != nil {
			t.Fatal(err)
		}

		rotated := w.registry(keyring(t, fixedKey(2), fixedKey(1)))
		res, err := rotated.RotateKey(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if res.Resealed != 2 || res.Current != 0 || len(res.Failed) != 0 {
			t.Fatalf("first rotation: %+v, want 2 resealed", res)
		}
		if res, err = rotated.RotateKey(t.Context()); err != nil || res.Resealed != 0 || res.Current != 2 {
			t.Fatalf("second rotation: %+v, %v; want 2 already current", res, err)
		}
		newOnly := w.registry(keyring(t, fixedKey(2)))
		after, err := newOnly.Load(t.Context(), "clinic")
		if err != nil {
			t.Fatalf("after rotation the new key alone does not open: %v", err)
		}
		if after.Secrets != before.Secrets || after.KeyID != channels.KeyID(fixedKey(2)) || after.Version <= before.Version {
			t.Errorf("rotation changed the secrets or did not record the new key: key %s, version %d -> %d",
				after.KeyID, before.Version, after.Version)
		}
		if _, err := w.reg.Load(t.Context(), "clinic"); err == nil {
			t.Error("after rotation the old key still opens the channel")
		}
	})
}

// TestRotateKeyReportsUnopenable checks that a channel sealed with a key
// the keyring lacks is reported, not lost.
func TestRotateKeyReportsUnopenable(t *testing.T) {
	t.Parallel()
	w := newWorld(t, storetest.SQLite(t))
	w.add(t, channels.AddRequest{Key: "clinic", BotToken: clinicToken, TurnToken: numberToken})
	res, err := w.registry(keyring(t, fixedKey(3), fixedKey(4))).RotateKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Resealed != 0 || len(res.Failed) != 1 || res.Failed[0] != "clinic" {
		t.Fatalf("rotation without the sealing key: %+v, want clinic failed", res)
	}
	if _, err := w.reg.Load(t.Context(), "clinic"); err != nil {
		t.Fatalf("the failed channel no longer opens with its own key: %v", err)
	}
}
