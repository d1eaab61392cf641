-- +goose Up
-- Hosted channels: each a Telegram bot bound to a Turn channel. The service
-- seals the secrets with AES-256-GCM before they get here: the database
-- never holds them in the clear. A removed channel stays as a tombstone
-- (deleted, no secrets) with a new version. Times are unix microseconds.
CREATE TABLE channels (
    key        TEXT    PRIMARY KEY,
    bot_id     INTEGER NOT NULL DEFAULT 0,
    info       TEXT    NOT NULL DEFAULT '{}',
    sealed     BLOB,
    key_id     TEXT    NOT NULL DEFAULT '',
    disabled   INTEGER NOT NULL DEFAULT 0,
    deleted    INTEGER NOT NULL DEFAULT 0,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX channels_version ON channels (version);
CREATE UNIQUE INDEX channels_bot ON channels (bot_id) WHERE deleted = 0 AND bot_id <> 0;

-- +goose Down
DROP TABLE channels;
