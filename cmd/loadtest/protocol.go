package main

import "time"

// The one channel every run uses, as in single-channel mode.
const (
	botToken    = "7000001:AAloadtestTOKENloadtestTOKEN_xyz12"
	botUsername = "loadtest_bot"
	numberID    = "5b6f1f5e-0c55-4a43-9d39-0d5c1a1b2c3d"
	turnToken   = "turn-loadtest-token-0123456789"
	hmacSecret  = "turn-loadtest-hmac-secret-0123456789"
	webhookKey  = "loadtest-webhook-secret-0123456789"
)

// A second channel (noisy-neighbour): its own bot and its own Turn number,
// served by the same connector.
const (
	botTokenB    = "7000002:AAloadtestTOKENloadtestTOKEN_xyz34"
	botUsernameB = "loadtest_b_bot"
	numberIDB    = "9c2e7a41-3d5b-4f6e-8a1c-2b3d4e5f6a7b"
	turnTokenB   = "turn-loadtest-token-b-0123456789"
	hmacSecretB  = "turn-loadtest-hmac-secret-b-0123456789"
	webhookKeyB  = "loadtest-webhook-secret-b-0123456789"
)

// channelKeys are one channel's names and secrets, as the connector and the
// fakes both know them.
type channelKeys struct {
	key, botToken, botUsername, turnToken, hmacSecret, webhookSecret string
}

// loadChannels are the channels a run may use; most scenarios use the
// first only.
var loadChannels = []channelKeys{
	{key: numberID, botToken: botToken, botUsername: botUsername, turnToken: turnToken, hmacSecret: hmacSecret, webhookSecret: webhookKey},
	{key: numberIDB, botToken: botTokenB, botUsername: botUsernameB, turnToken: turnTokenB, hmacSecret: hmacSecretB, webhookSecret: webhookKeyB},
}

// worldInfo is the first line a world prints: where its parts listen.
type worldInfo struct {
	Control  string `json:"control"`  // POST /run
	Telegram string `json:"telegram"` // the connection tap in front of the fake Bot API
	Turn     string `json:"turn"`     // the connection tap in front of the fake Turn
}

// runRequest asks the world to drive one scenario against the service.
type runRequest struct {
	Scenario    string        `json:"scenario"`
	Service     string        `json:"service"` // http://127.0.0.1:port
	Duration    time.Duration `json:"duration"`
	Rate        float64       `json:"rate"`
	Count       int           `json:"count"`
	Chats       int           `json:"chats"`
	Concurrency int           `json:"concurrency"`
	SendRate    float64       `json:"send_rate"` // the rate the service and the fake Telegram are set to
	DrainLimit  time.Duration `json:"drain_limit"`
	Hangs       int           `json:"hangs,omitempty"` // noisy-neighbour: A's messages whose media link hangs
	Size        int64         `json:"size,omitempty"`  // large-media: bytes per document
	Limit       time.Duration `json:"limit,omitempty"` // noisy-neighbour: longest A's drain is waited for (DrainLimit: B's last messages)
}

// Result is what the world measured. Times are from the load generator's
// side: accept is request sent (or due, for a fixed rate) to answer
// received; end-to-end is sent (or due) to the fake on the other side
// accepting the message.
type Result struct {
	Scenario string `json:"scenario"`

	Sent     int `json:"sent"`     // requests made, or updates pushed
	Accepted int `json:"accepted"` // 200s, or updates confirmed by a getUpdates offset
	Rejected int `json:"rejected"` // other answers
	Errors   int `json:"errors"`   // no answer

	AcceptSeconds float64 `json:"accept_s"`    // first send to last acceptance
	AcceptRate    float64 `json:"accept_rate"` // Accepted / AcceptSeconds
	Accept        Dist    `json:"accept"`

	Delivered       int     `json:"delivered"` // reached the other fake
	Lost            int     `json:"lost"`      // accepted, never delivered within the drain limit
	Duplicates      int     `json:"duplicates"`
	OutOfOrder      int     `json:"out_of_order"` // a chat's message delivered before an earlier one
	DrainSeconds    float64 `json:"drain_s"`      // first send to last delivery
	DeliverRate     float64 `json:"deliver_rate"` // deliveries per second, first to last
	SteadyRate      float64 `json:"steady_rate"`  // same over the middle 80 % of deliveries
	MaxRate1s       float64 `json:"max_rate_1s"`  // most deliveries in any 1 s window
	EndToEnd        Dist    `json:"e2e"`
	Late            int     `json:"late"`              // fixed rate: sends that left over 10 ms after they were due
	MaxPending      int     `json:"max_pending"`       // polling: most updates waiting at the fake
	TooManyRequests int     `json:"too_many_requests"` // 429s the fake Telegram answered
	PauseViolations int     `json:"pause_violations"`  // calls during a 429's retry_after
	Statuses        int     `json:"statuses"`          // statuses Turn accepted
	TurnRejected    int     `json:"turn_rejected"`     // calls the fake Turn refused
	TelegramRefused int     `json:"telegram_refused"`  // non-429 errors from the fake Telegram

	// Button round trips.
	RoundTrips  int  `json:"round_trips"`
	Outbound    Dist `json:"outbound"`      // Turn webhook sent -> Telegram accepted the message with buttons
	PressToTurn Dist `json:"press_to_turn"` // press pushed -> Turn accepted the button reply
	RoundTrip   Dist `json:"round_trip"`    // Turn webhook sent -> button reply at Turn (press is instant)
	Answered    int  `json:"answered"`      // answerCallbackQuery calls
	Edited      int  `json:"edited"`        // editMessageReplyMarkup calls

	// Connections the service opened to each fake (new TCP connections the
	// connection taps saw).
	TelegramConns int64 `json:"telegram_conns"`
	TurnConns     int64 `json:"turn_conns"`

	// Scenario-specific figures.
	Noisy *NoisyResult `json:"noisy,omitempty"`
	Media *MediaResult `json:"media,omitempty"`
	// The hosted scenario: the busy channels' traffic each way, and the
	// Bot API calls per method and unix second (hosted-calls).
	HostedIn    *HostedTraffic           `json:"hosted_in,omitempty"`
	HostedOut   *HostedTraffic           `json:"hosted_out,omitempty"`
	HostedCalls map[string]map[int64]int `json:"hosted_calls,omitempty"`

	Notes []string `json:"notes,omitempty"`
}
