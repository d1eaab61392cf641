-- +goose Up
-- Claims walk each channel's pending jobs in its own (priority, id) order,
-- so one channel's backlog is never walked by another channel's claim; the
-- same index finds the channels that have pending jobs (a loose scan).
CREATE INDEX jobs_pending_channel ON jobs (channel, priority, id) WHERE state = 'pending';
DROP INDEX jobs_pending_order;

-- +goose Down
CREATE INDEX jobs_pending_order ON jobs (priority, id) WHERE state = 'pending';
DROP INDEX jobs_pending_channel;
