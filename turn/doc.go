// Package turn speaks Turn's Channel API and nothing else: the inbound message
// and status payloads a connector posts to Turn, the outbound webhook payload
// Turn posts to the connector, webhook signature verification, and an HTTP
// client for /messages, /statuses and channel creation. It knows no Telegram.
package turn
