package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Enqueue applies b atomically and returns the ids of b.Jobs (0: duplicate).
func (p *Postgres) Enqueue(ctx context.Context, b Batch) ([]int64, error) {
	if err := checkBatch(b); err != nil {
		return nil, fmt.Errorf("store: enqueue: %w", err)
	}
	op := &writeOp{batch: b}
	if err := p.accept.do(ctx, op); err != nil {
		return nil, fmt.Errorf("store: enqueue: %w", err)
	}
	return op.ids, nil
}

// Accept applies b unless req repeats a request accepted within
// RequestWindow; see Store.
func (p *Postgres) Accept(ctx context.Context, req Request, b Batch) (string, error) {
	return acceptOn(ctx, p.accept, req, b)
}

// pgChannels lists, by a loose scan of jobs_pending_channel (one index
// probe each, ordered as that index is so that no index holding done jobs
// is walked instead), the channels with pending jobs after $1, at most $2.
const pgChannels = `
WITH RECURSIVE chans(channel) AS (
	(SELECT channel FROM jobs WHERE state = 'pending' AND channel > $1 ORDER BY channel, priority, id LIMIT 1)
	UNION ALL
	SELECT (SELECT j.channel FROM jobs j WHERE j.state = 'pending' AND j.channel > c.channel
		ORDER BY j.channel, j.priority, j.id LIMIT 1)
	FROM chans c WHERE c.channel IS NOT NULL
)
SELECT channel FROM chans WHERE channel IS NOT NULL LIMIT $2`

// pgClaim leases the claimable jobs of the channels $7 in one statement. A
// job is claimable when it is pending, due, not leased (or its lease
// expired), and no other pending job of its (channel, lane) is earlier or
// holds a live lease. Writers add jobs to a lane under its advisory lock
// (see lockLanes), so a claim that sees a job of a lane also sees every
// earlier one.
//
// Each channel gives at most its room ($8 minus what the caller holds) of
// its claimable jobs, walked in its own (priority, id) order, so a
// channel's backlog costs other channels nothing to look past; the claim
// takes them by priority, then round (each channel's first before any
// channel's second), then the channels' order. Only the rows chosen are
// locked, SKIP LOCKED, so concurrent claims never wait on each other; the
// UPDATE re-checks that a row is still pending and unleased, so a row
// another claim leased meanwhile is passed over. Rows are found by id
// arrays, never joined, so no plan can scan the table for them.
const pgClaim = `
WITH held AS (
	SELECT * FROM unnest($9::text[], $10::int4[]) AS h(channel, n)
), pick AS (
	SELECT k.id FROM unnest($7::text[]) WITH ORDINALITY AS c(channel, n)
	CROSS JOIN LATERAL (
		SELECT j.id, j.priority, row_number() OVER (ORDER BY j.priority, j.id) AS round
		FROM jobs j
		WHERE j.channel = c.channel AND j.state = 'pending'
		  AND j.next_attempt_at <= $1
		  AND (j.lease_until IS NULL OR j.lease_until <= $1)
		  AND (cardinality($2::text[]) = 0 OR j.kind = ANY($2::text[]))
		  AND NOT EXISTS (
			SELECT 1 FROM jobs e
			WHERE e.channel = j.channel AND e.lane = j.lane AND e.state = 'pending' AND e.id < j.id)
		  AND NOT EXISTS (
			SELECT 1 FROM jobs e
			WHERE e.channel = j.channel AND e.lane = j.lane AND e.state = 'pending'
			  AND e.lease_until IS NOT NULL AND e.lease_until > $1 AND e.id <> j.id)
		ORDER BY j.priority, j.id
		LIMIT greatest(0, $8 - coalesce((SELECT n FROM held WHERE held.channel = c.channel), 0))
	) k
	ORDER BY k.priority, k.round, c.n
	LIMIT $3
), locked AS (
	SELECT j.id FROM jobs j WHERE j.id = ANY(ARRAY(SELECT id FROM pick)) ORDER BY j.id FOR UPDATE OF j SKIP LOCKED
)
UPDATE jobs SET
	attempts = jobs.attempts + 1,
	lease_token = $4 || '-' || jobs.id::text,
	leased_by = $5,
	lease_until = $6,
	updated_at = $1
WHERE jobs.id = ANY(ARRAY(SELECT id FROM locked))
	AND jobs.state = 'pending' AND (jobs.lease_until IS NULL OR jobs.lease_until <= $1)
RETURNING jobs.id, jobs.channel, jobs.kind, jobs.lane, coalesce(jobs.dedup_key, ''), jobs.priority,
	jobs.payload, jobs.progress, jobs.attempts, jobs.created_at, jobs.last_error, jobs.lease_token`

// Claim leases up to p.Limit claimable jobs, ordered by priority then id.
func (p *Postgres) Claim(ctx context.Context, cp ClaimParams) ([]Job, error) {
	c, err := newClaimSettings(cp)
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	rows, err := p.pool.Query(ctx, pgChannels, c.after, c.channels)
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	channels, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	var jobs []Job
	if len(channels) > 0 {
		t := now()
		rows, err = p.pool.Query(ctx, pgClaim, t, c.kinds, c.limit, c.token, c.worker, t.Add(c.lease),
			channels, c.perChannel, c.heldCh, c.heldN)
		if err != nil {
			return nil, fmt.Errorf("store: claim: %w", err)
		}
		jobs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Job, error) {
			var j Job
			err := row.Scan(&j.ID, &j.Channel, &j.Kind, &j.Lane, &j.DedupKey, &j.Priority,
				&j.Payload, &j.Progress, &j.Attempts, &j.CreatedAt, &j.LastError, &j.Token)
			j.CreatedAt = j.CreatedAt.UTC()
			return j, err
		})
		if err != nil {
			return nil, fmt.Errorf("store: claim: %w", err)
		}
	}
	c.resume(channels, jobs)
	sortJobs(jobs)
	return jobs, nil
}

// Advance records progress parts done of a claimed job, with b.
func (p *Postgres) Advance(ctx context.Context, job Job, progress int, b Batch) error {
	return finishJob(ctx, p.settle, "advance", advanceOf(job, progress), b)
}

// Complete marks a claimed job done, with b.
func (p *Postgres) Complete(ctx context.Context, job Job, b Batch) error {
	return finishJob(ctx, p.settle, "complete", completeOf(job), b)
}

// Retry releases a claimed job to be tried again at `at`.
func (p *Postgres) Retry(ctx context.Context, job Job, at time.Time, reason string, uncount bool) error {
	return finishJob(ctx, p.settle, "retry", retryOf(job, at, reason, uncount), Batch{})
}

// Kill moves a claimed job to the dead-letter state, with b.
func (p *Postgres) Kill(ctx context.Context, job Job, reason string, b Batch) error {
	return finishJob(ctx, p.settle, "kill", killOf(job, reason), b)
}

// ListJobs lists jobs matching f, newest first.
func (p *Postgres) ListJobs(ctx context.Context, f JobFilter) ([]JobInfo, error) {
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	rows, err := p.pool.Query(ctx, `
		SELECT id, channel, kind, lane, state, attempts, progress, last_error, created_at,
			next_attempt_at, updated_at
		FROM jobs
		WHERE ($1 = '' OR channel = $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR state = $3)
		ORDER BY id DESC
		LIMIT $4`,
		f.Channel, string(f.Kind), string(f.State), limit)
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (JobInfo, error) {
		var j JobInfo
		err := row.Scan(&j.ID, &j.Channel, &j.Kind, &j.Lane, &j.State, &j.Attempts, &j.Progress,
			&j.LastError, &j.CreatedAt, &j.NextAttempt, &j.UpdatedAt)
		j.CreatedAt, j.NextAttempt, j.UpdatedAt = j.CreatedAt.UTC(), j.NextAttempt.UTC(), j.UpdatedAt.UTC()
		return j, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	return jobs, nil
}

// QueueStats counts jobs that are not done by channel, kind and state.
func (p *Postgres) QueueStats(ctx context.Context) ([]QueueStat, error) {
	rows, err := p.pool.Query(ctx, `
		SELECT channel, kind, state, count(*), min(created_at)
		FROM jobs WHERE state <> 'done'
		GROUP BY channel, kind, state
		ORDER BY channel, kind, state`)
	if err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	stats, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (QueueStat, error) {
		var s QueueStat
		err := row.Scan(&s.Channel, &s.Kind, &s.State, &s.Count, &s.Oldest)
		s.Oldest = s.Oldest.UTC()
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	return stats, nil
}

// Requeue makes a dead job pending again, due now, with attempts reset.
func (p *Postgres) Requeue(ctx context.Context, id int64) error {
	t := now()
	tag, err := p.pool.Exec(ctx, `
		UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = $2, lease_token = NULL,
			leased_by = NULL, lease_until = NULL, updated_at = $2
		WHERE id = $1 AND state = 'dead'`, id, t)
	if err != nil {
		return fmt.Errorf("store: requeue job %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: requeue job %d: no dead job with this id: %w", id, ErrNotFound)
	}
	return nil
}

// Discard deletes a job that is dead, or pending and not leased.
func (p *Postgres) Discard(ctx context.Context, id int64) error {
	tag, err := p.pool.Exec(ctx, `
		DELETE FROM jobs
		WHERE id = $1 AND (state = 'dead'
			OR (state = 'pending' AND (lease_until IS NULL OR lease_until <= $2)))`, id, now())
	if err != nil {
		return fmt.Errorf("store: discard job %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: discard job %d: no dead or idle pending job with this id: %w", id, ErrNotFound)
	}
	return nil
}

// Prune deletes done jobs last updated before `before`.
func (p *Postgres) Prune(ctx context.Context, before time.Time) (int, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM jobs WHERE state = 'done' AND updated_at < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: prune: %w", err)
	}
	if _, err := p.pool.Exec(ctx, `DELETE FROM turn_requests WHERE accepted_at < $1`, now().Add(-RequestWindow)); err != nil {
		return 0, fmt.Errorf("store: prune requests: %w", err)
	}
	// An idle bucket is full again: forgetting it changes nothing.
	if _, err := p.pool.Exec(ctx, `DELETE FROM rate_buckets WHERE updated_at < $1`, now().Add(-time.Hour)); err != nil {
		return 0, fmt.Errorf("store: prune buckets: %w", err)
	}
	// The claim query's plan depends on fresh statistics of the queue
	// (measured: 256 ms per claim with a 45,000-job backlog and none, 0.2 ms
	// after ANALYZE). Autovacuum may be off or slow: refresh them here too.
	if _, err := p.pool.Exec(ctx, `ANALYZE jobs`); err != nil {
		return 0, fmt.Errorf("store: analyze: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
