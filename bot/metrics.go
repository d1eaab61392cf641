package bot

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/turn"
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
		Help: "Messages delivered per channel, by direction (to_turn: a person's message or press reached Turn; to_telegram: a Turn message was sent whole).",
	}, []string{"channel", "direction"})
	statusesSent = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "turn_telegram_statuses_sent_total",
		Help: "Message statuses Turn accepted, per channel and status (sent, delivered, read, failed).",
	}, []string{"channel", "status"})
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

// Label values every series starts with, at 0, so that dashboards show
// zeros and alerts on an increase see the first event.
var (
	updateResults   = []string{"stored", "duplicate"}
	skipReasons     = []string{"group_chat", "channel_chat", "channel_post", "edited_message", "edited_channel_post", "service_message", "empty_message", "malformed_message", "missing_chat", "callback_without_data", "inline_callback_query", "malformed"}
	outboundResults = []string{"stored", "repeat", "bad_signature", "bad_request", "too_large", "unavailable"}
	telegramMethods = []string{"getMe", "setWebhook", "deleteWebhook", "getWebhookInfo", "getFile", "download", "answerCallbackQuery", "editMessageReplyMarkup"}
	turnEndpoints   = []string{"messages", "statuses", "numbers", "media"}
	statuses        = []string{turn.StatusSent, turn.StatusDelivered, turn.StatusRead, turn.StatusFailed}
)

func init() {
	for _, r := range updateResults {
		updatesAccepted.WithLabelValues(r).Add(0)
	}
	for _, r := range skipReasons {
		updatesSkipped.WithLabelValues(r).Add(0)
	}
	for _, r := range outboundResults {
		outboundAccepted.WithLabelValues(r).Add(0)
	}
	for _, m := range telegramMethods {
		telegramSeconds.WithLabelValues(m)
	}
	for _, e := range turnEndpoints {
		turnSeconds.WithLabelValues(e)
	}
}

// startChannel creates a served channel's series at 0.
func startChannel(key string) {
	for _, d := range []string{"to_turn", "to_telegram"} {
		messagesDelivered.WithLabelValues(key, d).Add(0)
	}
	for _, st := range statuses {
		statusesSent.WithLabelValues(key, st).Add(0)
	}
	for _, up := range []string{"telegram", "turn"} {
		rateLimited.WithLabelValues(key, up).Add(0)
	}
	delivery.StartChannel(key)
}

// forgetChannel drops a removed channel's series, so that per-channel
// labels stay bounded by the channels served.
func forgetChannel(key string) {
	messagesDelivered.DeletePartialMatch(prometheus.Labels{"channel": key})
	statusesSent.DeletePartialMatch(prometheus.Labels{"channel": key})
	delivery.ForgetChannel(key)
	rateLimited.DeletePartialMatch(prometheus.Labels{"channel": key})
	credentialsRefused.DeletePartialMatch(prometheus.Labels{"channel": key})
}
