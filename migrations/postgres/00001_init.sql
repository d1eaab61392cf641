-- +goose Up

-- The durable job queue behind both delivery directions.
CREATE TABLE jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text        NOT NULL,
    kind            text        NOT NULL,
    lane            text        NOT NULL,
    dedup_key       text,
    priority        integer     NOT NULL DEFAULT 0,
    payload         bytea       NOT NULL DEFAULT '\x'::bytea,
    state           text        NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'done', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    progress        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_token     text,
    leased_by       text,
    lease_until     timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- NULL dedup keys are distinct: only jobs that have one are unique.
    CONSTRAINT jobs_dedup UNIQUE (channel, kind, dedup_key)
);
-- A queue table churns: vacuum and analyze it sooner than the defaults, so
-- that dead rows do not pile up and the planner knows how many jobs wait.
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02);
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
    channel     text        NOT NULL,
    chat_id     bigint      NOT NULL,
    telegram_id bigint      NOT NULL,
    turn_id     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (channel, chat_id, telegram_id)
);
CREATE INDEX message_map_turn ON message_map (channel, turn_id);

-- Inline keyboard buttons, by callback_data.
CREATE TABLE callbacks (
    channel     text        NOT NULL,
    key         text        NOT NULL,
    grp         text        NOT NULL,
    chat_id     bigint      NOT NULL,
    turn_id     text        NOT NULL,
    reply       text        NOT NULL,
    reply_id    text        NOT NULL,
    title       text        NOT NULL,
    description text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (channel, key)
);

-- Keyboards already answered: the first press of a group inserts its row.
CREATE TABLE callback_groups (
    channel text        NOT NULL,
    grp     text        NOT NULL,
    key     text        NOT NULL,
    used_at timestamptz NOT NULL,
    PRIMARY KEY (channel, grp)
);

-- Turn messages accepted by Telegram, awaiting delivered/read statuses.
CREATE TABLE sent_messages (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel text        NOT NULL,
    chat_id bigint      NOT NULL,
    turn_id text        NOT NULL,
    sent_at timestamptz NOT NULL,
    read_at timestamptz,
    CONSTRAINT sent_messages_turn UNIQUE (channel, chat_id, turn_id)
);
CREATE INDEX sent_messages_unread ON sent_messages (channel, chat_id, sent_at, id)
    WHERE read_at IS NULL;

-- Files fetched from Turn, kept until sent.
CREATE TABLE media (
    channel    text        NOT NULL,
    key        text        NOT NULL,
    mime_type  text        NOT NULL,
    filename   text        NOT NULL,
    sha256     text        NOT NULL,
    data       bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (channel, key)
);

-- Telegram file_ids of uploaded content, by SHA-256.
CREATE TABLE file_ids (
    channel    text        NOT NULL,
    sha256     text        NOT NULL,
    file_id    text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (channel, sha256)
);

-- Per-chat state: whether the chat is unreachable, and why.
CREATE TABLE chats (
    channel     text        NOT NULL,
    chat_id     bigint      NOT NULL,
    gone_reason text,
    gone_at     timestamptz,
    PRIMARY KEY (channel, chat_id)
);

-- A polled bot's next getUpdates offset.
CREATE TABLE offsets (
    channel text   NOT NULL PRIMARY KEY,
    next    bigint NOT NULL
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
