package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgGroup is the write path's dialect on PostgreSQL: every method is one
// statement over arrays (unnest), and statements are held back and sent
// together in one pipelined batch: a group of acceptances is one round trip
// (BEGIN, the lane locks, the inserts, COMMIT), a group of completions two
// (the state changes and receipts, whose results decide the rest; then the
// inserts and COMMIT).
type pgGroup struct {
	p    *Postgres
	conn *pgxpool.Conn
	held *[]pgStep
}

// pgStep is a statement held back, with what reads its result.
type pgStep struct {
	sql  string
	args []any
	read func(br pgx.BatchResults) error // nil: an Exec
}

var _ groupTx = pgGroup{}

func (g pgGroup) queue(read func(pgx.BatchResults) error, sql string, args ...any) {
	*g.held = append(*g.held, pgStep{sql: sql, args: args, read: read})
}

// sync sends what is held as one batch and reads every result in order.
func (g pgGroup) sync(ctx context.Context) error {
	steps := *g.held
	*g.held = nil
	if len(steps) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, st := range steps {
		b.Queue(st.sql, st.args...)
	}
	br := g.conn.SendBatch(ctx, &b)
	for _, st := range steps {
		var err error
		if st.read != nil {
			err = st.read(br)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			_ = br.Close()
			return err
		}
	}
	return br.Close()
}

// runGroup runs fn in one READ COMMITTED transaction whose statements are
// pipelined. A failure rolls back; a connection that cannot roll back is
// closed.
func (p *Postgres) runGroup(ctx context.Context, fn func(tx groupTx) error) error {
	return p.pipelined(ctx, func(g pgGroup) error { return fn(g) })
}

// pipelined runs fn in one transaction whose statements fn queues; they are
// sent together at fn's syncs and with the COMMIT.
func (p *Postgres) pipelined(ctx context.Context, fn func(g pgGroup) error) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	g := pgGroup{p: p, conn: conn, held: new([]pgStep)}
	g.queue(nil, "BEGIN")
	err = fn(g)
	if err == nil {
		var tag pgconn.CommandTag
		g.queue(func(br pgx.BatchResults) error {
			var err error
			tag, err = br.Exec()
			return err
		}, "COMMIT")
		err = g.sync(ctx)
		if err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("commit: %s", tag.String())
		}
		if err == nil {
			return nil
		}
	}
	// A failed statement aborted the pipeline: the transaction is open (or
	// was never begun); end it so the connection goes back clean.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, rerr := conn.Exec(rctx, "ROLLBACK"); rerr != nil {
		conn.Conn().Close(rctx) // never hand a half-open transaction back to the pool
	}
	return err
}

func (g pgGroup) lockLanes(ctx context.Context, lanes []laneRef) error {
	keys := make([]int64, len(lanes))
	for i, l := range lanes {
		keys[i] = g.p.lockKey("lane", l.channel, l.lane)
	}
	// Locked in key order, whatever the lanes' order, so two writers never
	// wait on each other in a cycle.
	slices.Sort(keys)
	keys = slices.Compact(keys)
	g.queue(nil, `SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) WITH ORDINALITY AS u(k, n) ORDER BY n`, keys)
	return nil
}

func (g pgGroup) settle(ctx context.Context, fins []*finish, now time.Time, matched map[int64]bool) error {
	n := len(fins)
	var (
		ids      = make([]int64, n)
		tokens   = make([]string, n)
		states   = make([]string, n)
		progress = make([]int32, n)
		nextAt   = make([]*time.Time, n)
		reasons  = make([]*string, n)
		undo     = make([]int32, n)
		release  = make([]bool, n)
	)
	for i, f := range fins {
		ids[i], tokens[i], states[i], progress[i] = f.job.ID, f.job.Token, string(f.state), int32(f.progress)
		if !f.nextAt.IsZero() {
			t := orNow(f.nextAt, now)
			nextAt[i] = &t
		}
		if f.reason != "" {
			reasons[i] = &f.reason
		}
		if f.uncount {
			undo[i] = 1
		}
		release[i] = f.release
	}
	g.queue(func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		changed, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		for _, id := range changed {
			matched[id] = true
		}
		return err
	}, `
		UPDATE jobs SET
			state = u.state,
			progress = CASE WHEN u.progress >= 0 THEN u.progress ELSE jobs.progress END,
			next_attempt_at = coalesce(u.next_at, jobs.next_attempt_at),
			last_error = coalesce(u.reason, jobs.last_error),
			attempts = GREATEST(jobs.attempts - u.undo, 0),
			lease_token = CASE WHEN u.release THEN NULL ELSE jobs.lease_token END,
			leased_by = CASE WHEN u.release THEN NULL ELSE jobs.leased_by END,
			lease_until = CASE WHEN u.release THEN NULL ELSE jobs.lease_until END,
			updated_at = $9
		FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::timestamptz[], $6::text[], $7::int4[], $8::bool[])
			AS u(id, token, state, progress, next_at, reason, undo, release)
		WHERE jobs.id = u.id AND jobs.lease_token = u.token AND jobs.state = 'pending'
		RETURNING jobs.id`,
		ids, tokens, states, progress, nextAt, reasons, undo, release, now)
	return nil
}

func (g pgGroup) markRead(ctx context.Context, rs []Receipts, now time.Time, out map[ChatRef][]ReadMessage) error {
	channels, chats, ats := make([]string, len(rs)), make([]int64, len(rs)), make([]time.Time, len(rs))
	for i, r := range rs {
		channels[i], chats[i], ats[i] = r.Channel, r.ChatID, orNow(r.At, now)
	}
	// The UPDATE locks the rows, so two concurrent receipts for one chat
	// cannot both report a message.
	g.queue(func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		type row struct {
			c  ChatRef
			m  ReadMessage
			id int64
		}
		read, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.c.Channel, &x.c.ChatID, &x.m.TurnID, &x.m.SentAt, &x.m.ReadAt, &x.id)
			x.m.SentAt, x.m.ReadAt = x.m.SentAt.UTC(), x.m.ReadAt.UTC()
			return x, err
		})
		if err != nil {
			return err
		}
		slices.SortFunc(read, func(a, b row) int { return cmp.Compare(a.id, b.id) })
		for _, x := range read {
			out[x.c] = append(out[x.c], x.m)
		}
		return nil
	}, `
		UPDATE sent_messages s SET read_at = u.at
		FROM unnest($1::text[], $2::int8[], $3::timestamptz[]) AS u(channel, chat_id, at)
		WHERE s.channel = u.channel AND s.chat_id = u.chat_id AND s.read_at IS NULL
		RETURNING s.channel, s.chat_id, s.turn_id, s.sent_at, s.read_at, s.id`,
		channels, chats, ats)
	return nil
}

func (g pgGroup) acceptRequests(ctx context.Context, reqs []*Request, now, cut time.Time, held map[requestKey]string) error {
	channels, digests, ids := make([]string, len(reqs)), make([][]byte, len(reqs)), make([]string, len(reqs))
	for i, r := range reqs {
		channels[i], digests[i], ids[i] = r.Channel, r.Digest, r.TurnID
	}
	// Every row comes back, holding the id it keeps: a live earlier
	// acceptance keeps its own; an expired one is replaced. A concurrent
	// writer of the same key waits for this transaction and then sees it.
	g.queue(func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var k requestKey
		var digest []byte
		var id string
		_, err = pgx.ForEachRow(rows, []any{&k.channel, &digest, &id}, func() error {
			k.digest = string(digest)
			held[k] = id
			return nil
		})
		return err
	}, `
		INSERT INTO turn_requests AS t (channel, digest, turn_id, accepted_at)
		SELECT channel, digest, turn_id, $4
		FROM unnest($1::text[], $2::bytea[], $3::text[]) AS u(channel, digest, turn_id)
		ON CONFLICT (channel, digest) DO UPDATE SET
			turn_id = CASE WHEN t.accepted_at < $5 THEN excluded.turn_id ELSE t.turn_id END,
			accepted_at = CASE WHEN t.accepted_at < $5 THEN excluded.accepted_at ELSE t.accepted_at END
		RETURNING t.channel, t.digest, t.turn_id`,
		channels, digests, ids, now, cut)
	return nil
}

// insertJobs relies on the identity column numbering the rows of one
// INSERT ... SELECT in the SELECT's order: the ids returned, sorted, are
// those of the inserted rows in input order.
func (g pgGroup) insertJobs(ctx context.Context, jobs []NewJob, now time.Time, ids []int64) error {
	n := len(jobs)
	var (
		channels = make([]string, n)
		kinds    = make([]string, n)
		lanes    = make([]string, n)
		dedups   = make([]string, n)
		prios    = make([]int32, n)
		payloads = make([][]byte, n)
		nextAt   = make([]time.Time, n)
	)
	for i, j := range jobs {
		channels[i], kinds[i], lanes[i], dedups[i] = j.Channel, string(j.Kind), j.Lane, j.DedupKey
		prios[i], payloads[i], nextAt[i] = int32(j.Priority), payloadOf(j.Payload), orNow(j.NotBefore, now)
	}
	g.queue(func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		return assignJobIDs(rows, jobs, ids)
	}, `
		INSERT INTO jobs (channel, kind, lane, dedup_key, priority, payload, next_attempt_at, created_at, updated_at)
		SELECT channel, kind, lane, NULLIF(dedup, ''), priority, payload, next_at, $8, $8
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::bytea[], $7::timestamptz[])
			WITH ORDINALITY AS u(channel, kind, lane, dedup, priority, payload, next_at, n)
		ORDER BY n
		ON CONFLICT (channel, kind, dedup_key) DO NOTHING
		RETURNING id, channel, kind, coalesce(dedup_key, '')`,
		channels, kinds, lanes, dedups, prios, payloads, nextAt, now)
	return nil
}

// assignJobIDs reads the ids an insert returned and gives each new job its
// own, in input order; a job whose dedup key was known keeps 0.
func assignJobIDs(rows pgx.Rows, jobs []NewJob, ids []int64) error {
	type ret struct {
		id                   int64
		channel, kind, dedup string
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ret, error) {
		var x ret
		err := r.Scan(&x.id, &x.channel, &x.kind, &x.dedup)
		return x, err
	})
	if err != nil {
		return err
	}
	fresh := make(map[[3]string]bool, len(got))
	for _, x := range got {
		if x.dedup != "" {
			fresh[[3]string{x.channel, x.kind, x.dedup}] = true
		}
	}
	slices.SortFunc(got, func(a, b ret) int { return cmp.Compare(a.id, b.id) })
	next := 0
	for i, j := range jobs {
		if j.DedupKey != "" && !fresh[[3]string{j.Channel, string(j.Kind), j.DedupKey}] {
			continue // already stored
		}
		if next >= len(got) {
			return fmt.Errorf("insert jobs: %d rows returned for more new jobs", len(got))
		}
		ids[i] = got[next].id
		next++
	}
	return nil
}

func (g pgGroup) putMaps(ctx context.Context, maps []MessageMap, now time.Time) error {
	channels, chats, tg, turnIDs := make([]string, len(maps)), make([]int64, len(maps)), make([]int64, len(maps)), make([]string, len(maps))
	for i, m := range maps {
		channels[i], chats[i], tg[i], turnIDs[i] = m.Channel, m.ChatID, int64(m.TelegramID), m.TurnID
	}
	g.queue(nil, `
		INSERT INTO message_map (channel, chat_id, telegram_id, turn_id, created_at)
		SELECT channel, chat_id, telegram_id, turn_id, $5
		FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[]) AS u(channel, chat_id, telegram_id, turn_id)
		ON CONFLICT (channel, chat_id, telegram_id) DO UPDATE SET turn_id = EXCLUDED.turn_id`,
		channels, chats, tg, turnIDs, now)
	return nil
}

func (g pgGroup) putCallbacks(ctx context.Context, cbs []Callback, now time.Time) error {
	n := len(cbs)
	var (
		channels, keys, groups, turnIDs  = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		replies, replyIDs, titles, descs = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		chats                            = make([]int64, n)
		created                          = make([]time.Time, n)
	)
	for i, c := range cbs {
		channels[i], keys[i], groups[i], turnIDs[i] = c.Channel, c.Key, cmp.Or(c.Group, c.Key), c.TurnID
		replies[i], replyIDs[i], titles[i], descs[i] = c.Reply, c.ReplyID, c.Title, c.Description
		chats[i], created[i] = c.ChatID, orNow(c.CreatedAt, now)
	}
	g.queue(nil, `
		INSERT INTO callbacks (channel, key, grp, chat_id, turn_id, reply, reply_id, title, description, created_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::timestamptz[])
		ON CONFLICT (channel, key) DO NOTHING`,
		channels, keys, groups, chats, turnIDs, replies, replyIDs, titles, descs, created)
	return nil
}

func (g pgGroup) putSent(ctx context.Context, sent []Sent, now time.Time) error {
	channels, chats, turnIDs, at := make([]string, len(sent)), make([]int64, len(sent)), make([]string, len(sent)), make([]time.Time, len(sent))
	for i, s := range sent {
		channels[i], chats[i], turnIDs[i], at[i] = s.Channel, s.ChatID, s.TurnID, orNow(s.SentAt, now)
	}
	g.queue(nil, `
		INSERT INTO sent_messages (channel, chat_id, turn_id, sent_at)
		SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::timestamptz[])
		ON CONFLICT (channel, chat_id, turn_id) DO NOTHING`,
		channels, chats, turnIDs, at)
	return nil
}

func (g pgGroup) clearGone(ctx context.Context, chats []ChatRef, now time.Time) error {
	channels, ids := make([]string, len(chats)), make([]int64, len(chats))
	for i, c := range chats {
		channels[i], ids[i] = c.Channel, c.ChatID
	}
	g.queue(nil, `
		INSERT INTO chats (channel, chat_id, seen_at)
		SELECT channel, chat_id, $3 FROM unnest($1::text[], $2::int8[]) AS u(channel, chat_id)
		ON CONFLICT (channel, chat_id) DO UPDATE
		SET gone_reason = NULL, gone_at = NULL, seen_at = EXCLUDED.seen_at`,
		channels, ids, now)
	return nil
}

func (g pgGroup) setOffsets(ctx context.Context, offs []Offset) error {
	for _, o := range offs {
		g.queue(nil, setOffsetSQL, o.Channel, o.Next)
	}
	return nil
}

// pgExecer is what both a pool and a transaction offer.
type pgExecer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const setOffsetSQL = `
		INSERT INTO offsets (channel, next) VALUES ($1, $2)
		ON CONFLICT (channel) DO UPDATE SET next = GREATEST(offsets.next, EXCLUDED.next)`

// setOffsetPostgres stores a polled bot's offset, never moving it backwards.
func setOffsetPostgres(ctx context.Context, q pgExecer, channel string, next int64) error {
	if _, err := q.Exec(ctx, setOffsetSQL, channel, next); err != nil {
		return fmt.Errorf("offset: %w", err)
	}
	return nil
}
