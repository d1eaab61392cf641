// Package telegramtest provides a strict fake of the Telegram Bot API for
// tests, benchmarks and load tests, in the manner of net/http/httptest.
//
// NewServer starts it; pass Server.URL wherever the Bot API base URL goes
// (bot.WithServerURL, TELEGRAM_API_URL) and register bots with AddBot. The
// fake answers like api.telegram.org: {"ok":true,"result":...} or
// {"ok":false,"error_code":...,"description":"..."}, and it refuses what
// Telegram refuses (text and caption limits, entities, inline keyboards,
// callback data, file limits, webhook rules), so a test that passes against
// it does not fail against Telegram for those reasons. It also refuses any
// parse_mode with a 400: the service formats with entities only, by design,
// so the fake parses no HTML or Markdown.
//
// Beyond the API it lets a test act as Telegram's users and operators:
// PushUpdate and the builders (UserText, Server.UserPhoto, PressButton, ...)
// produce incoming traffic, served by getUpdates or posted to the webhook;
// Block, Deactivate and ChatNotFound change what sends to a chat answer;
// per-bot rate limits answer 429 like Telegram; FailNext, SetDown and
// SetLatency inject failures. Every call is recorded (Calls, CallsTo), every
// accepted message kept (Sent), and WaitSent and WaitCalls wait for them;
// OnCall and OnArrival hear of each call as it is answered or arrives.
//
// Where Telegram silently ignores or repairs input that hides a bug in the
// caller (an allowed_updates that is not a JSON array, entities that are not
// valid JSON or fall outside the text, an empty copy_text button), the fake
// refuses it with a 400 instead.
package telegramtest
