package bot

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	updatesAccepted = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_updates_accepted_total",
		Help: "Telegram updates accepted for bridging (stored, or a duplicate of one stored).",
	}, []string{"result"})
	updatesSkipped = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_updates_skipped_total",
		Help: "Telegram updates not bridged to Turn, by reason (group_chat, channel_post, edited_message, ...).",
	}, []string{"reason"})
	outboundAccepted = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_outbound_accepted_total",
		Help: "Turn webhook calls by result (stored, repeat, bad_signature, bad_request, too_large, unavailable).",
	}, []string{"result"})
	telegramSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "turn_telegram_telegram_call_seconds",
		Help:    "Latency of Telegram calls, by method (getUpdates long polls excluded).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"method"})
	messagesDelivered = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_messages_delivered_total",
		Help: "Messages delivered, by direction (to_turn, to_telegram) and kind.",
	}, []string{"direction", "kind"})
	messagesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_messages_total",
		Help: "Delivery attempts per channel, by direction (to_turn, to_telegram, from_turn), job kind and result (ok, retryable, throttled, permanent, gone).",
	}, []string{"channel", "direction", "kind", "result"})
	turnSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "turn_telegram_turn_call_seconds",
		Help:    "Latency of Turn API calls, by endpoint (messages, statuses, media).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"endpoint"})
	rateLimited = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_rate_limited_total",
		Help: "Answers 429 Too Many Requests, per channel and upstream (telegram, turn).",
	}, []string{"channel", "upstream"})
	credentialsRefused = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "turn_telegram_credentials_refused",
		Help: "1 while the upstream (telegram, turn) refuses the channel's credentials (401/404 from Telegram, 401/403 from Turn), else 0.",
	}, []string{"channel", "upstream"})
)

// forgetChannel drops a removed channel's series, so that per-channel
// labels stay bounded by the channels served.
func forgetChannel(key string) {
	messagesTotal.DeletePartialMatch(prometheus.Labels{"channel": key})
	rateLimited.DeletePartialMatch(prometheus.Labels{"channel": key})
	credentialsRefused.DeletePartialMatch(prometheus.Labels{"channel": key})
}
