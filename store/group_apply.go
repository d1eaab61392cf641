package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// groupTx is what the write path needs of a dialect inside one transaction.
// Each method takes the rows of a whole group, so that a dialect can write
// them in one statement; a dialect may also hold statements back and send
// them together (PostgreSQL pipelines them), so results asked for are
// filled in only by the next sync, or by the commit. The policy (what is
// locked, what a lost lease skips, which duplicate wins, which ids go back
// to whom) is applyGroup's alone.
type groupTx interface {
	// lockLanes serialises writers of these lanes until the transaction
	// ends (sorted, without duplicates), so that within a lane job ids
	// commit in order and a claim that sees a job sees every earlier one.
	lockLanes(ctx context.Context, lanes []laneRef) error
	// settle applies each claimed job's change of state where its lease
	// token still holds, recording the ids it changed in matched.
	settle(ctx context.Context, fins []*finish, now time.Time, matched map[int64]bool) error
	// markRead marks the unread sent messages of these chats (distinct)
	// read, recording them in read.
	markRead(ctx context.Context, rs []Receipts, now time.Time, read map[ChatRef][]ReadMessage) error
	// acceptRequests records requests (distinct keys) accepted now, unless
	// a request of the same key was accepted at or after cut, and fills
	// held with the message id each key holds afterwards: the request's own
	// when recorded, the earlier one's when not.
	acceptRequests(ctx context.Context, reqs []*Request, now, cut time.Time, held map[requestKey]string) error
	// sync runs what is held back, so that the results asked for so far
	// are filled in.
	sync(ctx context.Context) error
	// insertJobs inserts jobs in order (their ids increase in that order),
	// filling ids with each id, or 0 for a job whose dedup key is already
	// stored. The jobs' dedup keys are distinct.
	insertJobs(ctx context.Context, jobs []NewJob, now time.Time, ids []int64) error
	// putMaps upserts message maps (distinct keys).
	putMaps(ctx context.Context, maps []MessageMap, now time.Time) error
	// putCallbacks inserts callbacks, keeping known keys as they are.
	putCallbacks(ctx context.Context, cbs []Callback, now time.Time) error
	// putSent inserts sent messages, keeping known ones as they are.
	putSent(ctx context.Context, sent []Sent, now time.Time) error
	// clearGone forgets that chats were gone and records them seen now
	// (distinct chats).
	clearGone(ctx context.Context, chats []ChatRef, now time.Time) error
	// setOffsets moves polled bots' offsets forward (distinct channels).
	setOffsets(ctx context.Context, offs []Offset) error
}

// errSplit: the group must be rolled back and its ops applied one by one
// (an op whose lease was lost had receipts, already marked read).
var errSplit = errors.New("store: group split")

// laneRef names a lane of a channel.
type laneRef struct{ channel, lane string }

func compareLanes(a, b laneRef) int {
	return cmp.Or(cmp.Compare(a.channel, b.channel), cmp.Compare(a.lane, b.lane))
}

// requestKey names a request: its channel and body digest.
type requestKey struct{ channel, digest string }

func keyOf(r *Request) requestKey { return requestKey{r.Channel, string(r.Digest)} }

// groupKeys tracks what a group being gathered already holds, to keep out
// an op whose result would depend on another op of the same group: read
// receipts for a chat the group already marks read, or whose sent messages
// the group is writing (it would not see them); a request the group
// already accepts (the second is a repeat of the first).
type groupKeys struct {
	receipts map[ChatRef]bool
	sent     map[ChatRef]bool
	requests map[requestKey]bool
}

func newGroupKeys() groupKeys {
	return groupKeys{receipts: map[ChatRef]bool{}, sent: map[ChatRef]bool{}, requests: map[requestKey]bool{}}
}

func (k groupKeys) add(op *writeOp) {
	if op.req != nil {
		k.requests[keyOf(op.req)] = true
	}
	for _, r := range op.batch.Receipts {
		k.receipts[ChatRef{r.Channel, r.ChatID}] = true
	}
	for _, s := range op.batch.Sent {
		k.sent[ChatRef{s.Channel, s.ChatID}] = true
	}
}

func (k groupKeys) conflicts(op *writeOp) bool {
	if op.req != nil && k.requests[keyOf(op.req)] {
		return true
	}
	for _, r := range op.batch.Receipts {
		c := ChatRef{r.Channel, r.ChatID}
		if k.receipts[c] || k.sent[c] {
			return true
		}
	}
	return false
}

// applyGroup applies ops in tx as if each had been applied alone, one after
// another in order. An op whose lease is stale gets ErrLeaseLost and none of
// its writes. After the transaction commits, done hands the new jobs' ids
// to their ops and returns how many jobs were inserted.
func applyGroup(ctx context.Context, tx groupTx, now time.Time, ops []*writeOp) (done func() int, err error) {
	var lanes []laneRef
	for _, op := range ops {
		for _, j := range op.batch.Jobs {
			lanes = append(lanes, laneRef{j.Channel, j.Lane})
		}
		for _, r := range op.batch.Receipts {
			lanes = append(lanes, laneRef{r.Channel, r.Lane})
		}
	}
	slices.SortFunc(lanes, compareLanes)
	lanes = slices.Compact(lanes)
	if len(lanes) > 0 {
		if err := tx.lockLanes(ctx, lanes); err != nil {
			return nil, fmt.Errorf("lock lanes: %w", err)
		}
	}

	var fins []*finish
	var receipts []Receipts
	var reqs []*Request
	for _, op := range ops {
		if op.fin != nil {
			fins = append(fins, op.fin)
		}
		if op.req != nil {
			reqs = append(reqs, op.req)
		}
		receipts = append(receipts, op.batch.Receipts...)
	}
	matched := map[int64]bool{}
	read := map[ChatRef][]ReadMessage{}
	if len(fins) > 0 {
		slices.SortFunc(fins, func(a, b *finish) int { return cmp.Compare(a.job.ID, b.job.ID) })
		if err := tx.settle(ctx, fins, now, matched); err != nil {
			return nil, fmt.Errorf("settle jobs: %w", err)
		}
	}
	if len(receipts) > 0 {
		// Marked read together with the settling, in one round trip; an op
		// whose lease turns out lost must then not have had its receipts.
		if err := tx.markRead(ctx, receipts, now, read); err != nil {
			return nil, fmt.Errorf("receipts: %w", err)
		}
	}
	held := map[requestKey]string{}
	if len(reqs) > 0 {
		// In key order, so that concurrent groups lock them alike.
		slices.SortFunc(reqs, func(a, b *Request) int {
			return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(string(a.Digest), string(b.Digest)))
		})
		if err := tx.acceptRequests(ctx, reqs, now, now.Add(-RequestWindow), held); err != nil {
			return nil, fmt.Errorf("requests: %w", err)
		}
	}
	if len(fins) > 0 || len(receipts) > 0 || len(reqs) > 0 {
		if err := tx.sync(ctx); err != nil {
			return nil, err
		}
	}
	for _, op := range ops {
		if op.req == nil {
			continue
		}
		switch id := held[keyOf(op.req)]; id {
		case "":
			return nil, fmt.Errorf("requests: no message id held for a request of channel %q", op.req.Channel)
		case op.req.TurnID:
		default:
			op.known = id // a repeat: none of its writes
		}
	}
	for _, op := range ops {
		if op.fin != nil && !matched[op.fin.job.ID] {
			op.err = ErrLeaseLost
			if len(op.batch.Receipts) > 0 {
				return nil, errSplit
			}
		}
	}

	// Jobs in op order (each op's own, then those its receipts make), so
	// lanes keep the order of a one-at-a-time application. A dedup key
	// seen earlier in the group is a duplicate like a stored one.
	type slot struct {
		op *writeOp
		i  int // index in op.ids; -1 for a receipt's job
	}
	var (
		jobs  []NewJob
		slots []slot
		seen  = map[[3]string]bool{}
	)
	add := func(op *writeOp, i int, j NewJob) {
		if j.DedupKey != "" {
			k := [3]string{j.Channel, string(j.Kind), j.DedupKey}
			if seen[k] {
				return
			}
			seen[k] = true
		}
		jobs = append(jobs, j)
		slots = append(slots, slot{op, i})
	}
	var (
		maps    []MessageMap
		cbs     []Callback
		sent    []Sent
		gone    []ChatRef
		offsets []Offset
	)
	for _, op := range ops {
		if op.err != nil || op.known != "" {
			continue
		}
		b := op.batch
		op.ids = make([]int64, len(b.Jobs))
		for i, j := range b.Jobs {
			add(op, i, j)
		}
		for _, r := range b.Receipts {
			msgs := read[ChatRef{r.Channel, r.ChatID}]
			if len(msgs) == 0 || r.Jobs == nil {
				continue
			}
			slices.SortStableFunc(msgs, func(a, b ReadMessage) int { return a.SentAt.Compare(b.SentAt) })
			for _, j := range r.Jobs(msgs) {
				if j.Channel != r.Channel || j.Lane != r.Lane {
					return nil, fmt.Errorf("receipts of chat %d: a job outside the declared lane %q", r.ChatID, r.Lane)
				}
				add(op, -1, j)
			}
		}
		maps = append(maps, b.Maps...)
		cbs = append(cbs, b.Callbacks...)
		sent = append(sent, b.Sent...)
		gone = append(gone, b.ClearGone...)
		if b.Offset != nil {
			offsets = append(offsets, *b.Offset)
		}
	}
	if err := checkJobs(jobs); err != nil {
		return nil, err
	}
	// Upserts keep the last write of a key, inserts that keep what is
	// stored keep the first: as one-at-a-time application would.
	// Rows in key order, so that concurrent groups (other replicas) lock
	// them in the same order and cannot deadlock.
	if maps = lastByKey(maps, func(m MessageMap) any { return [3]any{m.Channel, m.ChatID, m.TelegramID} }); len(maps) > 0 {
		slices.SortFunc(maps, func(a, b MessageMap) int {
			return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.ChatID, b.ChatID), cmp.Compare(a.TelegramID, b.TelegramID))
		})
		if err := tx.putMaps(ctx, maps, now); err != nil {
			return nil, fmt.Errorf("message map: %w", err)
		}
	}
	if cbs = firstByKey(cbs, func(c Callback) any { return [2]string{c.Channel, c.Key} }); len(cbs) > 0 {
		if err := tx.putCallbacks(ctx, cbs, now); err != nil {
			return nil, fmt.Errorf("callbacks: %w", err)
		}
	}
	if sent = firstByKey(sent, func(s Sent) any { return [3]any{s.Channel, s.ChatID, s.TurnID} }); len(sent) > 0 {
		if err := tx.putSent(ctx, sent, now); err != nil {
			return nil, fmt.Errorf("sent: %w", err)
		}
	}
	if gone = firstByKey(gone, func(c ChatRef) any { return c }); len(gone) > 0 {
		slices.SortFunc(gone, func(a, b ChatRef) int {
			return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.ChatID, b.ChatID))
		})
		if err := tx.clearGone(ctx, gone, now); err != nil {
			return nil, fmt.Errorf("clear gone: %w", err)
		}
	}
	if len(offsets) > 0 {
		// Offsets never move backwards: the largest of a channel wins.
		slices.SortFunc(offsets, func(a, b Offset) int {
			return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(b.Next, a.Next))
		})
		offsets = slices.CompactFunc(offsets, func(a, b Offset) bool { return a.Channel == b.Channel })
		if err := tx.setOffsets(ctx, offsets); err != nil {
			return nil, fmt.Errorf("offset: %w", err)
		}
	}
	ids := make([]int64, len(jobs))
	if len(jobs) > 0 {
		if err := tx.insertJobs(ctx, jobs, now, ids); err != nil {
			return nil, fmt.Errorf("insert jobs: %w", err)
		}
	}
	// The ids are known once the transaction has run: hand them out then.
	return func() int {
		for k, s := range slots {
			if s.i >= 0 {
				s.op.ids[s.i] = ids[k]
			}
		}
		return len(jobs)
	}, nil
}

// firstByKey keeps the first of the rows sharing a key, in order.
func firstByKey[T any](rows []T, key func(T) any) []T {
	if len(rows) < 2 {
		return rows
	}
	seen := make(map[any]bool, len(rows))
	out := rows[:0:0]
	for _, r := range rows {
		if k := key(r); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// lastByKey keeps the last of the rows sharing a key, in the order of the
// kept rows' first appearance.
func lastByKey[T any](rows []T, key func(T) any) []T {
	if len(rows) < 2 {
		return rows
	}
	at := make(map[any]int, len(rows))
	out := rows[:0:0]
	for _, r := range rows {
		k := key(r)
		if i, ok := at[k]; ok {
			out[i] = r
			continue
		}
		at[k] = len(out)
		out = append(out, r)
	}
	return out
}
