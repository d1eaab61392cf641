// Package render turns a Turn outbound message into the Telegram messages
// that show it: WhatsApp formatting as message entities (never a parse
// mode), texts split at Telegram's limits, keyboards within its limits,
// templates and FLOIP blocks. It is pure: no I/O, no clock, no store, so
// that everything Telegram would refuse is decided, and tested, here at
// acceptance.
package render
