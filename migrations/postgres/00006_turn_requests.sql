-- +goose Up
-- Turn retries a webhook call it got no 200 for, with the same body: each
-- accepted body is remembered for a day by its digest, so that a retry is
-- answered with the first acceptance's message id and sends nothing.
CREATE TABLE turn_requests (
    channel     text        NOT NULL,
    digest      bytea       NOT NULL,
    turn_id     text        NOT NULL,
    accepted_at timestamptz NOT NULL,
    PRIMARY KEY (channel, digest)
);
CREATE INDEX turn_requests_accepted ON turn_requests (accepted_at);

-- +goose Down
DROP TABLE turn_requests;
