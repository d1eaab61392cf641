-- +goose Up
-- When the person last wrote: replies to people in conversation go before
-- broadcast traffic.
ALTER TABLE chats ADD COLUMN seen_at timestamptz;

-- Token buckets shared by every replica, so a bot's Telegram rate limit
-- holds in total, not per process.
CREATE TABLE rate_buckets (
    key        text             PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz      NOT NULL
);

-- +goose Down
DROP TABLE rate_buckets;
ALTER TABLE chats DROP COLUMN seen_at;
