-- +goose Up
-- When the person last wrote (unix microseconds): replies to people in
-- conversation go before broadcast traffic.
ALTER TABLE chats ADD COLUMN seen_at INTEGER;

-- Token buckets (kept for parity with PostgreSQL; one process owns an
-- embedded store, so its limiter may also stay in memory).
CREATE TABLE rate_buckets (
    key        TEXT    PRIMARY KEY,
    tokens     REAL    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE rate_buckets;
ALTER TABLE chats DROP COLUMN seen_at;
