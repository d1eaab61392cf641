package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// sqliteChannels lists, by a loose index scan, the channels that have
// pending jobs after :after, at most :max of them.
const sqliteChannels = `
WITH RECURSIVE chans(channel) AS (
	SELECT (SELECT channel FROM jobs WHERE state = 'pending' AND channel > :after ORDER BY channel, priority, id LIMIT 1)
	UNION ALL
	SELECT (SELECT j.channel FROM jobs j WHERE j.state = 'pending' AND j.channel > c.channel
		ORDER BY j.channel, j.priority, j.id LIMIT 1)
	FROM chans c WHERE c.channel IS NOT NULL
)
SELECT channel FROM chans WHERE channel IS NOT NULL LIMIT :max`

// sqliteClaimable lists the claimable jobs of one channel, in its (priority,
// id) order; see pgClaim for the rules. Writes are serialised, so this sees
// every committed job and no other claim runs meanwhile.
const sqliteClaimable = `
SELECT j.id, j.priority FROM jobs j
WHERE j.channel = :channel AND j.state = 'pending'
  AND j.next_attempt_at <= :now
  AND (j.lease_until IS NULL OR j.lease_until <= :now)
  AND (json_array_length(:kinds) = 0 OR j.kind IN (SELECT value FROM json_each(:kinds)))
  AND NOT EXISTS (
	SELECT 1 FROM jobs e
	WHERE e.channel = j.channel AND e.lane = j.lane AND e.state = 'pending' AND e.id < j.id)
  AND NOT EXISTS (
	SELECT 1 FROM jobs e
	WHERE e.channel = j.channel AND e.lane = j.lane AND e.state = 'pending'
	  AND e.lease_until IS NOT NULL AND e.lease_until > :now AND e.id <> j.id)
ORDER BY j.priority, j.id
LIMIT :limit`

// sqliteLease leases one chosen job.
const sqliteLease = `
UPDATE jobs SET
	attempts = attempts + 1,
	lease_token = :token || '-' || id,
	leased_by = :worker,
	lease_until = :until,
	updated_at = :now
WHERE id = :id
RETURNING id, channel, kind, lane, coalesce(dedup_key, ''), priority, payload, progress, attempts,
	created_at, last_error, lease_token`

// Enqueue applies b atomically and returns the ids of b.Jobs (0: duplicate).
func (s *SQLite) Enqueue(ctx context.Context, b Batch) ([]int64, error) {
	if err := checkBatch(b); err != nil {
		return nil, fmt.Errorf("store: enqueue: %w", err)
	}
	op := &writeOp{batch: b}
	if err := s.commit.do(ctx, op); err != nil {
		return nil, fmt.Errorf("store: enqueue: %w", err)
	}
	return op.ids, nil
}

// Accept applies b unless req repeats a request accepted within
// RequestWindow; see Store.
func (s *SQLite) Accept(ctx context.Context, req Request, b Batch) (string, error) {
	return acceptOn(ctx, s.commit, req, b)
}

// Claim leases up to p.Limit claimable jobs, ordered by priority then id.
func (s *SQLite) Claim(ctx context.Context, cp ClaimParams) ([]Job, error) {
	c, err := newClaimSettings(cp)
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	kinds, err := json.Marshal(c.kinds)
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	t := now()
	var jobs []Job
	var looked []string
	err = s.write(ctx, func(tx *sql.Tx) error {
		picked, chans, err := sqlitePick(ctx, tx, c, string(kinds), t)
		if err != nil {
			return err
		}
		for _, id := range picked {
			var j Job
			var created int64
			if err := tx.QueryRowContext(ctx, sqliteLease,
				sql.Named("token", c.token), sql.Named("worker", c.worker),
				sql.Named("until", micros(t.Add(c.lease))), sql.Named("now", micros(t)), sql.Named("id", id)).
				Scan(&j.ID, &j.Channel, &j.Kind, &j.Lane, &j.DedupKey, &j.Priority,
					&j.Payload, &j.Progress, &j.Attempts, &created, &j.LastError, &j.Token); err != nil {
				return err
			}
			j.CreatedAt = fromMicros(created)
			jobs = append(jobs, j)
		}
		looked = chans
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	c.resume(looked, jobs)
	sortJobs(jobs)
	return jobs, nil
}

// Advance records progress parts done of a claimed job, with b.
func (s *SQLite) Advance(ctx context.Context, job Job, progress int, b Batch) error {
	return finishJob(ctx, s.commit, "advance", advanceOf(job, progress), b)
}

// Complete marks a claimed job done, with b.
func (s *SQLite) Complete(ctx context.Context, job Job, b Batch) error {
	return finishJob(ctx, s.commit, "complete", completeOf(job), b)
}

// Retry releases a claimed job to be tried again at `at`.
func (s *SQLite) Retry(ctx context.Context, job Job, at time.Time, reason string, uncount bool) error {
	return finishJob(ctx, s.commit, "retry", retryOf(job, at, reason, uncount), Batch{})
}

// Kill moves a claimed job to the dead-letter state, with b.
func (s *SQLite) Kill(ctx context.Context, job Job, reason string, b Batch) error {
	return finishJob(ctx, s.commit, "kill", killOf(job, reason), b)
}

// ListJobs lists jobs matching f, newest first.
func (s *SQLite) ListJobs(ctx context.Context, f JobFilter) ([]JobInfo, error) {
	limit := -1 // no limit
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, channel, kind, lane, state, attempts, progress, last_error, created_at,
			next_attempt_at, updated_at
		FROM jobs
		WHERE (:channel = '' OR channel = :channel) AND (:kind = '' OR kind = :kind)
			AND (:state = '' OR state = :state)
		ORDER BY id DESC
		LIMIT :limit`,
		sql.Named("channel", f.Channel), sql.Named("kind", string(f.Kind)),
		sql.Named("state", string(f.State)), sql.Named("limit", limit))
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	defer rows.Close()
	var jobs []JobInfo
	for rows.Next() {
		var j JobInfo
		var created, next, updated int64
		if err := rows.Scan(&j.ID, &j.Channel, &j.Kind, &j.Lane, &j.State, &j.Attempts, &j.Progress,
			&j.LastError, &created, &next, &updated); err != nil {
			return nil, fmt.Errorf("store: list jobs: %w", err)
		}
		j.CreatedAt, j.NextAttempt, j.UpdatedAt = fromMicros(created), fromMicros(next), fromMicros(updated)
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	return jobs, nil
}

// QueueStats counts jobs that are not done by channel, kind and state.
func (s *SQLite) QueueStats(ctx context.Context) ([]QueueStat, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT channel, kind, state, count(*), min(created_at)
		FROM jobs WHERE state <> 'done'
		GROUP BY channel, kind, state
		ORDER BY channel, kind, state`)
	if err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	defer rows.Close()
	var stats []QueueStat
	for rows.Next() {
		var st QueueStat
		var oldest int64
		if err := rows.Scan(&st.Channel, &st.Kind, &st.State, &st.Count, &oldest); err != nil {
			return nil, fmt.Errorf("store: queue stats: %w", err)
		}
		st.Oldest = fromMicros(oldest)
		stats = append(stats, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	return stats, nil
}

// Requeue makes a dead job pending again, due now, with attempts reset.
func (s *SQLite) Requeue(ctx context.Context, id int64) error {
	t := micros(now())
	n, err := s.exec(ctx, `
		UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_token = NULL,
			leased_by = NULL, lease_until = NULL, updated_at = ?
		WHERE id = ? AND state = 'dead'`, t, t, id)
	if err != nil {
		return fmt.Errorf("store: requeue job %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: requeue job %d: no dead job with this id: %w", id, ErrNotFound)
	}
	return nil
}

// Discard deletes a job that is dead, or pending and not leased.
func (s *SQLite) Discard(ctx context.Context, id int64) error {
	n, err := s.exec(ctx, `
		DELETE FROM jobs
		WHERE id = ? AND (state = 'dead'
			OR (state = 'pending' AND (lease_until IS NULL OR lease_until <= ?)))`, id, micros(now()))
	if err != nil {
		return fmt.Errorf("store: discard job %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: discard job %d: no dead or idle pending job with this id: %w", id, ErrNotFound)
	}
	return nil
}

// Prune deletes done jobs last updated before `before`.
func (s *SQLite) Prune(ctx context.Context, before time.Time) (int, error) {
	n, err := s.exec(ctx, `DELETE FROM jobs WHERE state = 'done' AND updated_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("store: prune: %w", err)
	}
	if _, err := s.exec(ctx, `DELETE FROM turn_requests WHERE accepted_at < ?`, micros(now().Add(-RequestWindow))); err != nil {
		return 0, fmt.Errorf("store: prune requests: %w", err)
	}
	// An idle bucket is full again: forgetting it changes nothing.
	if _, err := s.exec(ctx, `DELETE FROM rate_buckets WHERE updated_at < ?`, micros(now().Add(-time.Hour))); err != nil {
		return 0, fmt.Errorf("store: prune buckets: %w", err)
	}
	// Keep the planner's statistics of the queue fresh.
	if _, err := s.exec(ctx, `PRAGMA optimize`); err != nil {
		return 0, fmt.Errorf("store: optimize: %w", err)
	}
	return int(n), nil
}

// exec runs one write statement on the writer, returning the rows affected.
func (s *SQLite) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sqlitePick chooses the jobs a claim takes, as pgClaim does: each channel
// (in turn from c.after) gives at most its room, and the claim takes them
// by priority, then round, then the channels' order. It returns them with
// the channels it looked at.
func sqlitePick(ctx context.Context, tx *sql.Tx, c claimSettings, kinds string, t time.Time) ([]int64, []string, error) {
	chans, err := tx.QueryContext(ctx, sqliteChannels, sql.Named("after", c.after), sql.Named("max", c.channels))
	if err != nil {
		return nil, nil, err
	}
	var channels []string
	for chans.Next() {
		var ch string
		if err := chans.Scan(&ch); err != nil {
			chans.Close()
			return nil, nil, err
		}
		channels = append(channels, ch)
	}
	if err := errors.Join(chans.Err(), chans.Close()); err != nil {
		return nil, nil, err
	}
	type cand struct {
		id       int64
		priority int
		round    int
		n        int // the channel's place in channels
	}
	var cands []cand
	for n, ch := range channels {
		room := c.room(ch)
		if room == 0 {
			continue
		}
		rows, err := tx.QueryContext(ctx, sqliteClaimable, sql.Named("channel", ch), sql.Named("now", micros(t)),
			sql.Named("kinds", kinds), sql.Named("limit", room))
		if err != nil {
			return nil, nil, err
		}
		for round := 1; rows.Next(); round++ {
			x := cand{round: round, n: n}
			if err := rows.Scan(&x.id, &x.priority); err != nil {
				rows.Close()
				return nil, nil, err
			}
			cands = append(cands, x)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, nil, err
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.round, b.round), cmp.Compare(a.n, b.n))
	})
	ids := make([]int64, 0, min(len(cands), c.limit))
	for _, x := range cands[:min(len(cands), c.limit)] {
		ids = append(ids, x.id)
	}
	return ids, channels, nil
}
