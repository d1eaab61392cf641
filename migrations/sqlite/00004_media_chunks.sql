-- +goose Up
-- Media content in chunks of at most 512 KiB, written and read one at a
-- time, so a file is never held whole in memory. The media row keeps the
-- metadata and a state: 'writing' while the chunks are written, 'ready'
-- once complete (size and sha256 set), 'failed' (with the reason) when the
-- link will never be fetched. media.data is no longer written. A rowid
-- table: large blobs do not belong in a WITHOUT ROWID b-tree.
CREATE TABLE media_chunks (
    channel TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (channel, key, seq)
);
ALTER TABLE media ADD COLUMN size   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE media ADD COLUMN state  TEXT    NOT NULL DEFAULT 'ready';
ALTER TABLE media ADD COLUMN reason TEXT    NOT NULL DEFAULT '';
-- Files stored whole before this migration become one chunk each.
INSERT INTO media_chunks (channel, key, seq, data)
    SELECT channel, key, 0, data FROM media WHERE length(data) > 0;
UPDATE media SET size = length(data), data = x'';

-- +goose Down
-- Chunked files cannot be put back together reliably in SQL here: media
-- are transient, so those not yet sent are dropped (the old sender then
-- fetches the link again).
DELETE FROM media WHERE size > 0 OR state <> 'ready';
ALTER TABLE media DROP COLUMN reason;
ALTER TABLE media DROP COLUMN state;
ALTER TABLE media DROP COLUMN size;
DROP TABLE media_chunks;
