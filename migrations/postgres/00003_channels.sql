-- +goose Up
-- Hosted channels: each a Telegram bot bound to a Turn channel. The service
-- seals the secrets (bot token, Turn token, HMAC secret, webhook secret)
-- with AES-256-GCM before they get here: the database never holds them in
-- the clear. A removed channel stays as a tombstone (deleted, no secrets)
-- with a new version, so every replica learns of the removal.
CREATE TABLE channels (
    key        text        PRIMARY KEY,
    bot_id     bigint      NOT NULL DEFAULT 0,
    info       text        NOT NULL DEFAULT '{}',
    sealed     bytea,
    key_id     text        NOT NULL DEFAULT '',
    disabled   boolean     NOT NULL DEFAULT false,
    deleted    boolean     NOT NULL DEFAULT false,
    version    bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- Replicas poll for channels changed since the version they have seen.
CREATE INDEX channels_version ON channels (version);
-- A bot has one webhook, so it serves one channel.
CREATE UNIQUE INDEX channels_bot ON channels (bot_id) WHERE NOT deleted AND bot_id <> 0;

-- +goose Down
DROP TABLE channels;
