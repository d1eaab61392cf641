// Package channels is the hosted channel registry: the Telegram bots bound
// to Turn channels that one deployment serves, kept in the store with their
// secrets sealed (AES-256-GCM under SECRET_KEY).
//
// It holds the operations an operator uses, from the command line and the
// admin API alike (add, with the Turn channel's creation or binding to an
// existing one; list; show; set-token; disable; enable; remove; rotate-key),
// the Syncer that makes every replica serve the current set of channels
// within seconds, and the Healer that keeps each bot's Telegram webhook as
// it should be and reports what Telegram says about it.
package channels
