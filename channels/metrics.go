package channels

import (
	"github.com/prometheus/client_golang/prometheus"
)

var (
	webhookPendingDesc = prometheus.NewDesc("turn_telegram_webhook_pending_updates",
		"Updates Telegram holds for the bot's webhook (getWebhookInfo pending_update_count), per channel.",
		[]string{"channel"}, nil)
	webhookErrorDesc = prometheus.NewDesc("turn_telegram_webhook_last_error_timestamp_seconds",
		"When Telegram last failed to deliver to the bot's webhook (getWebhookInfo last_error_date), per channel; 0: never.",
		[]string{"channel"}, nil)
	webhookHealthyDesc = prometheus.NewDesc("turn_telegram_webhook_healthy",
		"1 when the last check found the bot's webhook as it should be, else 0, per channel.",
		[]string{"channel"}, nil)
	webhookRepairsDesc = prometheus.NewDesc("turn_telegram_webhook_repairs_total",
		"Times this process registered a drifted webhook again, per channel.",
		[]string{"channel"}, nil)
)

// Describe is part of prometheus.Collector.
func (h *Healer) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{webhookPendingDesc, webhookErrorDesc, webhookHealthyDesc, webhookRepairsDesc} {
		ch <- d
	}
}

// Collect is part of prometheus.Collector: one series per watched channel,
// so the labels are bounded by the channels this process serves.
func (h *Healer) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for key, w := range h.watched {
		st := w.state
		if st.CheckedAt.IsZero() {
			continue
		}
		var lastErr, healthy float64
		if !st.LastErrorDate.IsZero() {
			lastErr = float64(st.LastErrorDate.Unix())
		}
		if st.CheckError == "" && st.URL == st.Expected {
			healthy = 1
		}
		ch <- prometheus.MustNewConstMetric(webhookPendingDesc, prometheus.GaugeValue, float64(st.PendingUpdateCount), key)
		ch <- prometheus.MustNewConstMetric(webhookErrorDesc, prometheus.GaugeValue, lastErr, key)
		ch <- prometheus.MustNewConstMetric(webhookHealthyDesc, prometheus.GaugeValue, healthy, key)
		ch <- prometheus.MustNewConstMetric(webhookRepairsDesc, prometheus.CounterValue, float64(st.Repairs), key)
	}
}
