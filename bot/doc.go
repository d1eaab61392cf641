// Package bot is the Telegram side of the connector and the bridge between
// Telegram and Turn: it converts Telegram updates into Turn inbound messages,
// renders Turn's outbound messages as native Telegram messages (formatting,
// inline keyboards, media), resolves button presses, receives updates by
// webhook or long polling, and sends to Telegram within its rate limits.
//
// Everything it accepts is stored before it is acknowledged; delivery runs
// from the store through the delivery engine.
package bot
