// Package store keeps everything the connector must not lose: the durable job
// queue behind both delivery directions, the Telegram <-> Turn message id map,
// inline-keyboard callbacks, media waiting to be sent, and per-chat state.
//
// Two implementations satisfy Store: PostgreSQL (store.OpenPostgres, for hosted
// and multi-replica use) and an embedded pure-Go SQLite file (store.OpenSQLite,
// the single-bot default). Both pass the same conformance suite in
// store/storetest, so the service relies on behaviour, not on a database.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors callers branch on.
var (
	// ErrNotFound: the row asked for does not exist (or has expired).
	ErrNotFound = errors.New("store: not found")
	// ErrLeaseLost: the job's lease expired and another worker claimed it, or
	// the job was already finished; the caller must drop its result.
	ErrLeaseLost = errors.New("store: job lease lost")
	// ErrLocked: the embedded store is already in use by another process.
	ErrLocked = errors.New("store: database is in use by another process")
	// ErrConflict: a write would overwrite a change it has not seen (a
	// channel created or changed meanwhile, or a bot already bound to
	// another channel).
	ErrConflict = errors.New("store: conflict")
	// ErrSchemaBehind: the database lacks migrations this binary has.
	ErrSchemaBehind = errors.New("store: database schema is behind this binary (run migrate)")
)

// Kind names what a job does; workers claim the kinds they handle.
type Kind string

const (
	// KindUpdate: a raw Telegram update to bridge to Turn (lane: the chat).
	KindUpdate Kind = "update"
	// KindOutbound: a rendered Turn message to send to Telegram (lane: the chat).
	KindOutbound Kind = "outbound"
	// KindStatus: a message status to report to Turn (lane: the chat).
	KindStatus Kind = "status"
	// KindFetch: download a Turn media link before it expires (own lane).
	KindFetch Kind = "fetch"
)

// State of a job.
type State string

const (
	StatePending State = "pending" // waiting, in flight, or waiting for a retry
	StateDone    State = "done"    // delivered; kept a while for de-duplication
	StateDead    State = "dead"    // dead letter: gave up, with LastError saying why
)

// NewJob is a job to enqueue. Channel, Kind and Lane are required.
type NewJob struct {
	Channel string
	Kind    Kind
	// Lane orders jobs: within one (Channel, Lane) a job is claimable only when
	// no earlier (lower ID) job of that lane is still pending. Dead and done
	// jobs do not block a lane. Jobs of different kinds may share a lane.
	// A lane has at most one leased job at a time: a requeued dead job waits
	// for a later job of its lane that is in flight.
	Lane string
	// DedupKey, when set, makes the job unique per (Channel, Kind, DedupKey):
	// enqueueing it again is a no-op (reported as ID 0) for as long as the
	// first job is kept, whatever its state.
	DedupKey string
	// Priority: lower is claimed first (conversation before broadcast).
	Priority int
	Payload  []byte
	// NotBefore delays the first attempt; zero means now.
	NotBefore time.Time
}

// Job is a claimed job. Token identifies the claim: finishing calls must
// present it, so a worker whose lease expired cannot finish a job another
// worker now owns.
type Job struct {
	ID        int64
	Channel   string
	Kind      Kind
	Lane      string
	DedupKey  string
	Priority  int
	Payload   []byte
	Progress  int // how many parts of a multi-part job are done (see Advance)
	Attempts  int // including the current one
	CreatedAt time.Time
	LastError string
	Token     string
}

// JobInfo is a job as listed for operators.
type JobInfo struct {
	ID          int64
	Channel     string
	Kind        Kind
	Lane        string
	State       State
	Attempts    int
	Progress    int
	LastError   string
	CreatedAt   time.Time
	NextAttempt time.Time
	UpdatedAt   time.Time
}

// ClaimParams selects what a worker takes.
type ClaimParams struct {
	Worker string // identifies the worker (host/pid), for operators
	Kinds  []Kind // kinds this worker handles; empty means all
	Limit  int    // at most this many jobs; <= 0 means 1
	// Lease: the claim expires after this, and another worker may then take
	// the job; <= 0 means DefaultLease.
	Lease time.Duration
	// PerChannel caps the jobs of one channel in the caller's hands: a
	// claim gives a channel at most PerChannel minus Held[channel] jobs
	// (<= 0: no cap). Channels share a claim in turns: by Priority, then
	// each channel's first job before any channel's second, channels in
	// key order from After.
	PerChannel int
	Held       map[string]int
	// After, when set, makes the claim consider only channels after it in
	// key order, so that successive claims go round all channels.
	After string
	// Resume, when set, is set to where the next claim should start
	// (its After) for the channels to take turns; empty when the next
	// should start from the first channel.
	Resume *string
}

// DefaultLease is the lease of a claim whose ClaimParams.Lease is not set.
const DefaultLease = time.Minute

// MessageMap links a Telegram message to the connector message id given to Turn
// (outbound), or to the inbound message id sent to Turn (inbound).
type MessageMap struct {
	Channel    string
	ChatID     int64
	TelegramID int    // Telegram message_id, unique within the chat
	TurnID     string // the connector's message id
}

// Callback is one inline-keyboard button: Telegram carries only Key (<= 64
// bytes) as callback_data; the store keeps what the button means.
type Callback struct {
	Channel string
	Key     string // callback_data
	Group   string // all buttons of one keyboard share a group; a press uses the group (empty: the button is its own group)
	ChatID  int64
	TurnID  string // the connector message id of the message carrying the keyboard
	// Reply is what Turn receives when pressed: "button_reply", "list_reply"
	// (interactive) or "button" (template quick reply).
	Reply       string
	ReplyID     string // Turn's button/row id, or the template button payload
	Title       string
	Description string
	CreatedAt   time.Time // zero means now
}

// Sent records a Turn message accepted by Telegram, so that delivered/read
// statuses can follow when the person next writes.
type Sent struct {
	Channel string
	ChatID  int64
	TurnID  string
	SentAt  time.Time // zero means now
}

// Receipts asks, inside a Batch, to mark every Sent message of a chat that
// has not been read yet as read, and to queue the jobs that Jobs makes of
// them (all in Lane, which the store locks like the lane of any new job).
type Receipts struct {
	Channel string
	ChatID  int64
	At      time.Time // when the person was seen; zero means now
	Lane    string
	// Jobs makes the jobs that report the messages now read, given oldest
	// first; nil queues nothing.
	Jobs func(read []ReadMessage) []NewJob
}

// ReadMessage is a sent message that Receipts marked read.
type ReadMessage struct {
	TurnID string
	SentAt time.Time
	ReadAt time.Time
}

// Batch is a set of writes applied atomically with the call that carries it,
// in the order of its fields: Jobs, Maps (upserted), Callbacks (a known key
// is kept as it is), Sent (a known TurnID is kept as it is), Receipts,
// ClearGone, Offset.
type Batch struct {
	Jobs      []NewJob
	Maps      []MessageMap
	Callbacks []Callback
	Sent      []Sent
	Receipts  []Receipts
	// ClearGone forgets that these chats were gone (the person wrote again)
	// and records now as the time they were last seen (see ChatSeen).
	ClearGone []ChatRef
	// Offset, when set, stores a polled bot's next getUpdates offset in the
	// same transaction as the updates it acknowledges (never moving backwards).
	Offset *Offset
}

// Request is a Turn webhook call being accepted, known by the digest of
// its body: Turn retries a call it got no 200 for with the same body.
type Request struct {
	Channel string
	Digest  []byte
	TurnID  string // the message id a first acceptance gives
}

// RequestWindow is how long an accepted request is remembered: longer than
// Turn goes on retrying a call.
const RequestWindow = 24 * time.Hour

// Offset is a polled bot's next getUpdates offset.
type Offset struct {
	Channel string
	Next    int64
}

// ChatRef names a chat of a channel.
type ChatRef struct {
	Channel string
	ChatID  int64
}

// JobFilter selects jobs for operators; zero fields match everything.
type JobFilter struct {
	Channel string
	Kind    Kind
	State   State
	Limit   int
}

// QueueStat summarises one (channel, kind, state) group.
type QueueStat struct {
	Channel string
	Kind    Kind
	State   State
	Count   int
	Oldest  time.Time
}

// Store is all the service needs from persistence; each part of the
// service takes only the role it uses (Queue, Operator, ChannelStore,
// RateBuckets, MediaStore). Every method is safe for concurrent use; every
// write is durable when the method returns nil.
type Store interface {
	// Migrate applies pending migrations.
	Migrate(ctx context.Context) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
	// ReleaseLeases ends the leases worker holds on pending jobs, so that
	// other processes may claim them at once (a stopping process hands over
	// what it did not finish). The interrupted attempt is not counted. It
	// returns how many jobs it released.
	ReleaseLeases(ctx context.Context, worker string) (int, error)
	// CheckSchema reports whether the database has every migration this
	// binary embeds: an error wrapping ErrSchemaBehind when it has not.
	CheckSchema(ctx context.Context) error

	// Enqueue applies b atomically and returns, for each of b.Jobs in order,
	// the new job's ID, or 0 when its DedupKey was already known.
	Enqueue(ctx context.Context, b Batch) ([]int64, error)
	// Accept applies b atomically with the record of req, unless a request
	// with the same Channel and Digest was accepted within RequestWindow:
	// then nothing of b is written. It returns the message id the request is
	// known by: req.TurnID when b was applied, the first acceptance's when
	// not.
	Accept(ctx context.Context, req Request, b Batch) (turnID string, err error)
	// TurnID finds the connector id mapped to a Telegram message.
	TurnID(ctx context.Context, channel string, chatID int64, telegramID int) (string, error)
	// UseCallback resolves a button pressed in chatID. The first press of any
	// button of a group returns it with first=true and marks the group used;
	// later presses of that group return it with first=false. ErrNotFound,
	// with nothing marked, when the key is unknown, belongs to another chat,
	// or is older than maxAge (maxAge <= 0: no age limit).
	UseCallback(ctx context.Context, channel string, chatID int64, key string, maxAge time.Duration) (cb Callback, first bool, err error)
	// SetChatGone marks a chat as unreachable (blocked, deactivated, not found).
	SetChatGone(ctx context.Context, channel string, chatID int64, reason string) error
	// ChatGone reports whether a chat is marked unreachable, and why.
	ChatGone(ctx context.Context, channel string, chatID int64) (bool, string, error)
	// ChatSeen is when the person last wrote (the last ClearGone of the
	// chat); zero if never.
	ChatSeen(ctx context.Context, channel string, chatID int64) (time.Time, error)
	// Offset is the next getUpdates offset of a polled bot (0 if none yet).
	Offset(ctx context.Context, channel string) (int64, error)
	// SetOffset stores the next getUpdates offset; it never moves backwards.
	SetOffset(ctx context.Context, channel string, offset int64) error

	Queue
	Operator
	ChannelStore
	RateBuckets
	MediaStore
}

// Queue is what the delivery engine needs: claiming jobs and recording
// what became of them.
type Queue interface {
	// Claim leases up to p.Limit claimable jobs: pending, due (next attempt
	// <= now), not leased (or lease expired), head of their lane. Ordered by
	// Priority, then ID. Attempts is incremented.
	Claim(ctx context.Context, p ClaimParams) ([]Job, error)
	// Advance records partial progress of a claimed job (parts done) with b,
	// atomically, and extends nothing else. ErrLeaseLost if the claim is stale.
	Advance(ctx context.Context, job Job, progress int, b Batch) error
	// Complete marks a claimed job done and applies b atomically.
	Complete(ctx context.Context, job Job, b Batch) error
	// Retry releases a claimed job to be tried again at `at` (zero: now),
	// recording why. When uncount is true the current attempt is not counted
	// (a throttle pause, not a failure). The job keeps blocking its lane.
	Retry(ctx context.Context, job Job, at time.Time, reason string, uncount bool) error
	// Kill moves a claimed job to the dead-letter state with its reason, and
	// applies b atomically (e.g. a "failed" status job).
	Kill(ctx context.Context, job Job, reason string, b Batch) error
	// Extend renews a claimed job's lease for another `lease` from now, so a
	// long delivery keeps its job; ErrLeaseLost if the claim is stale.
	Extend(ctx context.Context, job Job, lease time.Duration) error
}

// Operator is what operators' tools need: listing, counting, requeueing,
// discarding and pruning jobs.
type Operator interface {
	// ListJobs lists jobs for operators, newest first.
	ListJobs(ctx context.Context, f JobFilter) ([]JobInfo, error)
	// QueueStats counts jobs by channel, kind and state, with the oldest
	// creation time of each group; done jobs are not counted.
	QueueStats(ctx context.Context) ([]QueueStat, error)
	// Requeue makes a dead job pending again, due now, with attempts reset
	// (LastError and Progress are kept: a multi-part job resumes where it
	// stopped). ErrNotFound when there is no dead job with this id.
	Requeue(ctx context.Context, id int64) error
	// Discard deletes a job that is dead, or pending and not leased.
	// ErrNotFound when no job with this id is in either state.
	Discard(ctx context.Context, id int64) error
	// Prune deletes done jobs last updated before `before`, returning how many.
	Prune(ctx context.Context, before time.Time) (int, error)
}

// ChannelStore keeps hosted channels.
type ChannelStore interface {
	// PutChannel creates or replaces a hosted channel and returns it as
	// stored (with its new Version and times). With rec.Version 0 it
	// creates: ErrConflict when a channel with rec.Key exists (a removed
	// one is replaced). Otherwise it replaces the channel whose current
	// Version is rec.Version: ErrConflict when the channel changed since or
	// is gone. ErrConflict too when another channel has rec.BotID (non-zero).
	PutChannel(ctx context.Context, rec ChannelRecord) (ChannelRecord, error)
	// Channel returns the channel with this key; ErrNotFound when there is
	// none or it was removed.
	Channel(ctx context.Context, key string) (ChannelRecord, error)
	// ChannelByBot returns the channel served by the bot botID (non-zero);
	// ErrNotFound when there is none (removed ones do not count).
	ChannelByBot(ctx context.Context, botID int64) (ChannelRecord, error)
	// Channels returns every channel whose Version is above since, removed
	// ones included (Deleted, without Info or Sealed), by Version. Versions
	// become visible in order: after seeing version v, a later call never
	// returns a version at or below v that it had not returned before.
	Channels(ctx context.Context, since int64) ([]ChannelRecord, error)
	// DeleteChannel removes a channel: its secrets are erased and a
	// tombstone with a new Version remains, so that Channels reports the
	// removal. ErrNotFound when there is no such channel.
	DeleteChannel(ctx context.Context, key string) error
}

// RateBuckets are token buckets shared by every process on the database.
type RateBuckets interface {
	// Take reserves one token of the shared token bucket named key (refilled
	// at rate per second up to burst; created full) and returns how long the
	// caller must wait before using it: 0 when a token was there. Tokens
	// are reserved even when the bucket is empty, so waiting callers are
	// paced one after another with a single call each, never by polling.
	// Every process sharing the database shares the bucket.
	Take(ctx context.Context, key string, rate float64, burst int) (time.Duration, error)
}
