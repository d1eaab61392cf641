package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/turn-telegram/turn-telegram/store"
)

// countingStore passes every call to the store and counts the calls on the
// paths the load takes, with their time: where a message's database time
// goes, which a CPU profile of the connector cannot show. It adds an atomic
// add and two clock reads to calls that take hundreds of microseconds.
type countingStore struct {
	store.Store
	ops       [numOps]opStat
	claimJobs atomic.Int64
	// channelRows are the records Channels returned: what the sync
	// passes read.
	channelRows atomic.Int64
}

type opStat struct{ n, nanos atomic.Int64 }

const (
	opEnqueue = iota
	opClaim
	opComplete
	opAdvance
	opRetry
	opKill
	opTake
	opChatGone
	opChatSeen
	opTurnID
	opUseCallback
	opOffset
	opExtend
	opChannels
	opChannel
	opPutChannel
	opDeleteChannel
	numOps
)

var opNames = [numOps]string{"Enqueue", "Claim", "Complete", "Advance", "Retry", "Kill", "Take", "ChatGone", "ChatSeen", "TurnID", "UseCallback", "Offset", "Extend", "Channels", "Channel", "PutChannel", "DeleteChannel"}

func (s *countingStore) time(op int, start time.Time) {
	s.ops[op].n.Add(1)
	s.ops[op].nanos.Add(int64(time.Since(start)))
}

func (s *countingStore) Enqueue(ctx context.Context, b store.Batch) ([]int64, error) {
	defer s.time(opEnqueue, time.Now())
	return s.Store.Enqueue(ctx, b)
}

func (s *countingStore) Claim(ctx context.Context, p store.ClaimParams) ([]store.Job, error) {
	defer s.time(opClaim, time.Now())
	jobs, err := s.Store.Claim(ctx, p)
	s.claimJobs.Add(int64(len(jobs)))
	return jobs, err
}

func (s *countingStore) Complete(ctx context.Context, j store.Job, b store.Batch) error {
	defer s.time(opComplete, time.Now())
	return s.Store.Complete(ctx, j, b)
}

func (s *countingStore) Advance(ctx context.Context, j store.Job, n int, b store.Batch) error {
	defer s.time(opAdvance, time.Now())
	return s.Store.Advance(ctx, j, n, b)
}

func (s *countingStore) Retry(ctx context.Context, j store.Job, at time.Time, reason string, uncount bool) error {
	defer s.time(opRetry, time.Now())
	return s.Store.Retry(ctx, j, at, reason, uncount)
}

func (s *countingStore) Kill(ctx context.Context, j store.Job, reason string, b store.Batch) error {
	defer s.time(opKill, time.Now())
	return s.Store.Kill(ctx, j, reason, b)
}

func (s *countingStore) Take(ctx context.Context, key string, rate float64, burst int) (time.Duration, error) {
	defer s.time(opTake, time.Now())
	return s.Store.Take(ctx, key, rate, burst)
}

func (s *countingStore) ChatGone(ctx context.Context, channel string, chat int64) (bool, string, error) {
	defer s.time(opChatGone, time.Now())
	return s.Store.ChatGone(ctx, channel, chat)
}

func (s *countingStore) ChatSeen(ctx context.Context, channel string, chat int64) (time.Time, error) {
	defer s.time(opChatSeen, time.Now())
	return s.Store.ChatSeen(ctx, channel, chat)
}

func (s *countingStore) TurnID(ctx context.Context, channel string, chat int64, id int) (string, error) {
	defer s.time(opTurnID, time.Now())
	return s.Store.TurnID(ctx, channel, chat, id)
}

func (s *countingStore) UseCallback(ctx context.Context, channel string, chatID int64, key string, maxAge time.Duration) (store.Callback, bool, error) {
	defer s.time(opUseCallback, time.Now())
	return s.Store.UseCallback(ctx, channel, chatID, key, maxAge)
}

func (s *countingStore) Offset(ctx context.Context, channel string) (int64, error) {
	defer s.time(opOffset, time.Now())
	return s.Store.Offset(ctx, channel)
}

func (s *countingStore) Extend(ctx context.Context, j store.Job, lease time.Duration) error {
	defer s.time(opExtend, time.Now())
	return s.Store.Extend(ctx, j, lease)
}

func (s *countingStore) Channels(ctx context.Context, since int64) ([]store.ChannelRecord, error) {
	defer s.time(opChannels, time.Now())
	recs, err := s.Store.Channels(ctx, since)
	s.channelRows.Add(int64(len(recs)))
	return recs, err
}

func (s *countingStore) Channel(ctx context.Context, key string) (store.ChannelRecord, error) {
	defer s.time(opChannel, time.Now())
	return s.Store.Channel(ctx, key)
}

func (s *countingStore) PutChannel(ctx context.Context, rec store.ChannelRecord) (store.ChannelRecord, error) {
	defer s.time(opPutChannel, time.Now())
	return s.Store.PutChannel(ctx, rec)
}

func (s *countingStore) DeleteChannel(ctx context.Context, key string) error {
	defer s.time(opDeleteChannel, time.Now())
	return s.Store.DeleteChannel(ctx, key)
}

// opCount is the calls of op so far and their total time.
func (s *countingStore) opCount(op int) (int64, time.Duration) {
	return s.ops[op].n.Load(), time.Duration(s.ops[op].nanos.Load())
}

// StoreCall is one kind of store call during a scenario.
type StoreCall struct {
	Op     string  `json:"op"`
	Calls  int64   `json:"calls"`
	MeanMS float64 `json:"mean_ms"`
	// Busy is the calls' total time over the scenario's wall time: how many
	// such calls were in progress on average.
	Busy float64 `json:"busy"`
}

// snapshot returns the calls so far, busiest first; Claim's mean jobs per
// call is in jobsPerClaim.
func (s *countingStore) snapshot(wall time.Duration) (calls []StoreCall, jobsPerClaim float64) {
	for i := range numOps {
		n := s.ops[i].n.Load()
		if n == 0 {
			continue
		}
		total := time.Duration(s.ops[i].nanos.Load())
		calls = append(calls, StoreCall{Op: opNames[i], Calls: n, MeanMS: ms(total / time.Duration(n)), Busy: total.Seconds() / wall.Seconds()})
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].Busy > calls[j].Busy })
	if n := s.ops[opClaim].n.Load(); n > 0 {
		jobsPerClaim = float64(s.claimJobs.Load()) / float64(n)
	}
	return calls, jobsPerClaim
}

func formatCalls(calls []StoreCall, messages int) string {
	var parts []string
	for _, c := range calls {
		per := ""
		if messages > 0 {
			per = fmt.Sprintf(" %.2f/msg", float64(c.Calls)/float64(messages))
		}
		parts = append(parts, fmt.Sprintf("%s %d%s %.2fms busy %.1f", c.Op, c.Calls, per, c.MeanMS, c.Busy))
	}
	return strings.Join(parts, "; ")
}
