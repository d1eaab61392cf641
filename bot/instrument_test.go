package bot

import "testing"

// TestMetricLabels checks that the labels taken from request paths are
// the bounded names they should be, and never hold the bot token.
func TestMetricLabels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path, telegram, turn string
	}{
		{"/bot123:AAsecret/getWebhookInfo", "getWebhookInfo", "media"},
		{"/bot123:AAsecret/sendMessage", "sendMessage", "media"},
		{"/file/bot123:AAsecret/photos/file_1.jpg", "download", "media"},
		{"/bot123:AAsecret", "", "media"},
		{"/bot123:AAsecret/a/b", "", "media"},
		{"/v1/numbers/0b8f/messages", "", "messages"},
		{"/v1/numbers/0b8f/statuses", "", "statuses"},
		{"/v1/numbers", "", "numbers"},
		{"/v1/other", "", "other"},
		{"/uploads/x.jpg", "", "media"},
	} {
		if got := telegramMethod(tc.path); got != tc.telegram {
			t.Errorf("telegramMethod(%q) = %q, want %q", tc.path, got, tc.telegram)
		}
		if got := turnEndpoint(tc.path); got != tc.turn {
			t.Errorf("turnEndpoint(%q) = %q, want %q", tc.path, got, tc.turn)
		}
	}
}
