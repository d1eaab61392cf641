-- +goose Up
-- Media content in chunks of at most 512 KiB, written and read one at a
-- time, so a file is never held whole in memory. The media row keeps the
-- metadata and a state: 'writing' while the chunks are written, 'ready'
-- once complete (size and sha256 set), 'failed' (with the reason) when the
-- link will never be fetched. media.data is no longer written.
CREATE TABLE media_chunks (
    channel text    NOT NULL,
    key     text    NOT NULL,
    seq     integer NOT NULL,
    data    bytea   NOT NULL,
    PRIMARY KEY (channel, key, seq)
);
ALTER TABLE media ADD COLUMN size   bigint NOT NULL DEFAULT 0;
ALTER TABLE media ADD COLUMN state  text   NOT NULL DEFAULT 'ready';
ALTER TABLE media ADD COLUMN reason text   NOT NULL DEFAULT '';
-- Files stored whole before this migration become one chunk each.
INSERT INTO media_chunks (channel, key, seq, data)
    SELECT channel, key, 0, data FROM media WHERE length(data) > 0;
UPDATE media SET size = length(data), data = ''::bytea;

-- +goose Down
UPDATE media SET data = COALESCE((SELECT string_agg(c.data, ''::bytea ORDER BY c.seq) FROM media_chunks c
    WHERE c.channel = media.channel AND c.key = media.key), ''::bytea);
DELETE FROM media WHERE state <> 'ready';
ALTER TABLE media DROP COLUMN reason;
ALTER TABLE media DROP COLUMN state;
ALTER TABLE media DROP COLUMN size;
DROP TABLE media_chunks;
