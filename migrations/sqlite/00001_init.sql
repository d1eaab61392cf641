-- +goose Up

-- Times are unix microseconds, UTC.

-- The durable job queue behind both delivery directions.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    lane            TEXT    NOT NULL,
    dedup_key       TEXT,
    priority        INTEGER NOT NULL DEFAULT 0,
    payload         BLOB    NOT NULL DEFAULT x'',
    state           TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'done', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    progress        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_token     TEXT,
    leased_by       TEXT,
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- NULL dedup keys are distinct: only jobs that have one are unique.
    CONSTRAINT jobs_dedup UNIQUE (channel, kind, dedup_key)
);
-- Head-of-lane checks: earlier pending jobs of a (channel, lane).
CREATE INDEX jobs_pending_lane ON jobs (channel, lane, id) WHERE state = 'pending';
-- Claim order: claims walk pending jobs by (priority, id) and stop at their
-- limit. (No index on next_attempt_at: it would tempt the planner into
-- collecting and sorting every due job.)
CREATE INDEX jobs_pending_order ON jobs (priority, id) WHERE state = 'pending';
-- Jobs in flight (or whose lease expired), for the one-holder-per-lane check.
CREATE INDEX jobs_pending_leased ON jobs (channel, lane)
    WHERE state = 'pending' AND lease_until IS NOT NULL;
-- Prune.
CREATE INDEX jobs_done_updated ON jobs (updated_at) WHERE state = 'done';
-- Operators: ListJobs and QueueStats.
CREATE INDEX jobs_channel_kind_state ON jobs (channel, kind, state, id);

-- Telegram message <-> connector message id.
CREATE TABLE message_map (
    channel     TEXT    NOT NULL,
    chat_id     INTEGER NOT NULL,
    telegram_id INTEGER NOT NULL,
    turn_id     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel, chat_id, telegram_id)
);
CREATE INDEX message_map_turn ON message_map (channel, turn_id);

-- Inline keyboard buttons, by callback_data.
CREATE TABLE callbacks (
    channel     TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    grp         TEXT    NOT NULL,
    chat_id     INTEGER NOT NULL,
    turn_id     TEXT    NOT NULL,
    reply       TEXT    NOT NULL,
    reply_id    TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel, key)
);

-- Keyboards already answered: the first press of a group inserts its row.
CREATE TABLE callback_groups (
    channel TEXT    NOT NULL,
    grp     TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    used_at INTEGER NOT NULL,
    PRIMARY KEY (channel, grp)
);

-- Turn messages accepted by Telegram, awaiting delivered/read statuses.
CREATE TABLE sent_messages (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT    NOT NULL,
    chat_id INTEGER NOT NULL,
    turn_id TEXT    NOT NULL,
    sent_at INTEGER NOT NULL,
    read_at INTEGER,
    CONSTRAINT sent_messages_turn UNIQUE (channel, chat_id, turn_id)
);
CREATE INDEX sent_messages_unread ON sent_messages (channel, chat_id, sent_at, id)
    WHERE read_at IS NULL;

-- Files fetched from Turn, kept until sent.
CREATE TABLE media (
    channel    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    mime_type  TEXT    NOT NULL,
    filename   TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    data       BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel, key)
);

-- Telegram file_ids of uploaded content, by SHA-256.
CREATE TABLE file_ids (
    channel    TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    file_id    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel, sha256)
);

-- Per-chat state: whether the chat is unreachable, and why.
CREATE TABLE chats (
    channel     TEXT    NOT NULL,
    chat_id     INTEGER NOT NULL,
    gone_reason TEXT,
    gone_at     INTEGER,
    PRIMARY KEY (channel, chat_id)
);

-- A polled bot's next getUpdates offset.
CREATE TABLE offsets (
    channel TEXT    NOT NULL PRIMARY KEY,
    next    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE offsets;
DROP TABLE chats;
DROP TABLE file_ids;
DROP TABLE media;
DROP TABLE sent_messages;
DROP TABLE callback_groups;
DROP TABLE callbacks;
DROP TABLE message_map;
DROP TABLE jobs;
