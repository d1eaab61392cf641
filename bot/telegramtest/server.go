package telegramtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// Server is a fake Telegram Bot API server. All its methods are safe for
// concurrent use.
type Server struct {
	// URL is the Bot API base URL of the fake, e.g. http://127.0.0.1:41234.
	URL string

	ts        *httptest.Server
	ctx       context.Context // cancelled by Close: ends long polls, deliveries, fetches
	cancel    context.CancelFunc
	closeOnce sync.Once
	wg        sync.WaitGroup // webhook delivery goroutines
	transport *http.Transport
	fetcher   *http.Client // media sent by URL
	poster    *http.Client // webhook deliveries; like Telegram, follows no redirect

	mu               sync.Mutex
	closed           bool
	bots             map[string]*bot // by token
	nextBotID        int64
	chats            map[int64]*chatInfo
	files            map[string]*storedFile // by file_id
	filePaths        map[string]*storedFile // by token + "\x00" + file_path
	fileSeq          uint64
	callbacks        map[string]*callbackQuery
	callbackSeq      int64
	calls            []Call
	sent             []sentMessage
	deliveries       []WebhookDelivery
	failures         []failure
	down             bool
	latency          time.Duration
	insecureWebhooks bool
	webhookRetry     time.Duration
	limits           RateLimits
	onCall           func(Call)
	onArrival        func(Call)
}

// BotInfo identifies a bot registered with AddBot.
type BotInfo struct {
	ID        int64
	Token     string
	Username  string
	FirstName string
}

// bot is the fake's state for one bot token.
type bot struct {
	BotInfo
	revoked bool // RevokeToken: every call answers 401, as Telegram does

	// Incoming updates: one queue serves getUpdates and the webhook alike.
	queue        []queuedUpdate
	lastUpdateID int64
	notify       chan struct{} // closed and replaced whenever queue or webhook change
	allowed      []string      // allowed_updates as last set; nil means Telegram's default
	poll         *longPoll     // the getUpdates call waiting for updates, if any

	webhook        *webhookConfig
	lastError      time.Time
	lastErrorText  string
	delivering     bool // a delivery goroutine is running
	lastSetWebhook time.Time

	chats    map[int64]*chatLog
	rate     *botLimiter
	commands []models.BotCommand
}

// NewServer starts a fake Bot API server. Call Close when done.
func NewServer() *Server {
	ctx, cancel := context.WithCancel(context.Background())
	transport := http.DefaultTransport.(*http.Transport).Clone()
	s := &Server{
		ctx:          ctx,
		cancel:       cancel,
		transport:    transport,
		fetcher:      &http.Client{Transport: transport, Timeout: 30 * time.Second},
		poster:       &http.Client{Transport: transport, CheckRedirect: noRedirect},
		bots:         map[string]*bot{},
		nextBotID:    7000000000,
		chats:        map[int64]*chatInfo{},
		files:        map[string]*storedFile{},
		filePaths:    map[string]*storedFile{},
		callbacks:    map[string]*callbackQuery{},
		webhookRetry: 50 * time.Millisecond,
		limits:       DefaultRateLimits(),
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.ts.URL
	return s
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Close stops the server: pending long polls return, webhook deliveries
// stop, and Close returns once every goroutine of the fake has ended.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.ts.Close()
		s.wg.Wait()
		s.transport.CloseIdleConnections()
	})
}

// AddBot registers a bot. The id is the token's numeric prefix ("123:abc"
// gives 123), as with real tokens, or else a new id. Adding a token twice
// returns the first registration.
func (s *Server) AddBot(token, username, firstName string) BotInfo {
	if token == "" || strings.ContainsAny(token, "/ ") {
		panic("telegramtest: AddBot: invalid token " + strconv.Quote(token))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bots[token]; ok {
		return b.BotInfo
	}
	id, err := strconv.ParseInt(strings.SplitN(token, ":", 2)[0], 10, 64)
	if err != nil || id <= 0 {
		s.nextBotID++
		id = s.nextBotID
	}
	b := &bot{
		BotInfo: BotInfo{ID: id, Token: token, Username: username, FirstName: firstName},
		notify:  make(chan struct{}),
		chats:   map[int64]*chatLog{},
	}
	b.rate = newBotLimiter(s.limits)
	s.bots[token] = b
	return b.BotInfo
}

// SetDown makes every request, file downloads included, answer 502 Bad
// Gateway while down is true, as when Telegram's front end is up but its
// backend is not.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetLatency delays every request by d before it is handled.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// AllowInsecureWebhooks lets setWebhook accept http:// URLs on any port for
// loopback hosts (127.0.0.1, ::1, localhost), so a test can point Telegram
// at an httptest server. Other hosts still get Telegram's rules.
func (s *Server) AllowInsecureWebhooks(allow bool) {
	s.mu.Lock()
	s.insecureWebhooks = allow
	s.mu.Unlock()
}

// SetWebhookRetry sets how long a failed webhook delivery waits before it is
// retried (default 50ms; Telegram waits about a minute).
func (s *Server) SetWebhookRetry(d time.Duration) {
	s.mu.Lock()
	s.webhookRetry = d
	s.mu.Unlock()
}

// RevokeToken makes Telegram refuse the bot's token from now on, as after
// @BotFather's /revoke: every call answers 401 Unauthorized. RestoreToken
// undoes it.
func (s *Server) RevokeToken(token string) { s.setRevoked(token, true) }

// RestoreToken accepts a revoked token again.
func (s *Server) RestoreToken(token string) { s.setRevoked(token, false) }

func (s *Server) setRevoked(token string, revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustBotLocked(token).revoked = revoked
}

func (s *Server) mustBotLocked(token string) *bot {
	b := s.bots[token]
	if b == nil {
		panic("telegramtest: unknown bot token; register it with AddBot first")
	}
	return b
}

// wakeLocked tells waiting long polls and the delivery goroutine that the
// bot's queue or webhook changed.
func (b *bot) wakeLocked() {
	close(b.notify)
	b.notify = make(chan struct{})
}

// method is one Bot API method the fake implements.
type method struct {
	name string
	// chat methods act on a chat_id: blocked chats and 429 pauses apply.
	chat   bool
	handle func(s *Server, rq *request) (any, *apiError)
}

var methods = indexMethods([]method{
	{name: "getMe", handle: (*Server).getMe},
	{name: "getUpdates", handle: (*Server).getUpdates},
	{name: "setWebhook", handle: (*Server).setWebhook},
	{name: "deleteWebhook", handle: (*Server).deleteWebhook},
	{name: "getWebhookInfo", handle: (*Server).getWebhookInfo},
	{name: "getFile", handle: (*Server).getFile},
	{name: "sendMessage", chat: true, handle: (*Server).sendMessage},
	{name: "sendPhoto", chat: true, handle: (*Server).sendPhoto},
	{name: "sendVideo", chat: true, handle: (*Server).sendVideo},
	{name: "sendAudio", chat: true, handle: (*Server).sendAudio},
	{name: "sendVoice", chat: true, handle: (*Server).sendVoice},
	{name: "sendDocument", chat: true, handle: (*Server).sendDocument},
	{name: "sendSticker", chat: true, handle: (*Server).sendSticker},
	{name: "sendAnimation", chat: true, handle: (*Server).sendAnimation},
	{name: "sendChatAction", chat: true, handle: (*Server).sendChatAction},
	{name: "editMessageText", chat: true, handle: (*Server).editMessageText},
	{name: "editMessageReplyMarkup", chat: true, handle: (*Server).editMessageReplyMarkup},
	{name: "deleteMessage", chat: true, handle: (*Server).deleteMessage},
	{name: "answerCallbackQuery", handle: (*Server).answerCallbackQuery},
	{name: "setMyCommands", handle: (*Server).setMyCommands},
})

// indexMethods keys methods by lower-case name: Telegram matches method
// names case-insensitively.
func indexMethods(list []method) map[string]method {
	m := make(map[string]method, len(list))
	for _, x := range list {
		m[strings.ToLower(x.name)] = x
	}
	return m
}

// splitAPIPath splits /bot<token>/<method>.
func splitAPIPath(path string) (token, method string, ok bool) {
	rest, found := strings.CutPrefix(path, "/bot")
	if !found {
		return "", "", false
	}
	token, method, found = strings.Cut(rest, "/")
	if !found || token == "" || method == "" || strings.Contains(method, "/") {
		return "", "", false
	}
	return token, method, true
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.ctx.Done():
			t.Stop()
		}
	}
	if strings.HasPrefix(r.URL.Path, "/file/bot") {
		s.serveDownload(w, r)
		return
	}

	token, name, ok := splitAPIPath(r.URL.Path)
	s.mu.Lock()
	b := s.bots[token]
	down := s.down
	arrived := s.onArrival
	revoked := b != nil && b.revoked
	s.mu.Unlock()
	call := &Call{Method: name, At: time.Now()}
	if b != nil {
		call.Bot = b.Username
	}
	// finish records the calls of known bots only; only those reach hooks.
	if arrived == nil || b == nil {
		arrived = func(Call) {}
	}
	switch {
	case down:
		arrived(*call)
		s.finish(w, b, call, nil, nil, errBadGateway)
		return
	case !ok:
		writeAPIError(w, errNotFound)
		return
	case b == nil, revoked:
		writeAPIError(w, errUnauthorized)
		return
	}

	params, files, aerr := decodeRequest(w, r)
	call.Params, call.Files = params, files
	m, known := methods[strings.ToLower(name)]
	if known {
		call.Method = m.name
	}
	arrived(*call)
	if aerr != nil {
		s.finish(w, b, call, nil, nil, aerr)
		return
	}
	if !known {
		s.finish(w, b, call, nil, nil, errNotFound)
		return
	}
	if aerr := refuseParseMode(params); aerr != nil {
		s.finish(w, b, call, nil, nil, aerr)
		return
	}

	var chat *int64
	if m.chat {
		if id, err := parseChatID(params["chat_id"]); err == nil {
			chat = &id
		}
	}
	if chat != nil {
		if aerr := s.checkPause(b, *chat); aerr != nil {
			s.finish(w, b, call, chat, nil, aerr)
			return
		}
	}
	if aerr := s.injectedFailure(m.name); aerr != nil {
		s.finish(w, b, call, chat, nil, aerr)
		return
	}
	rq := &request{ctx: r.Context(), bot: b, params: params, files: files}
	result, aerr := m.handle(s, rq)
	s.finish(w, b, call, chat, result, aerr)
}

// finish records the call, then answers it: a test that has seen the answer
// also sees the call in Calls. The OnCall hook hears of it last.
func (s *Server) finish(w http.ResponseWriter, b *bot, call *Call, chat *int64, result any, aerr *apiError) {
	var body []byte
	status := http.StatusOK
	if aerr == nil {
		var err error
		body, call.Result, err = okBody(result)
		if err != nil {
			aerr = &apiError{code: http.StatusInternalServerError, description: "Internal Server Error: " + err.Error()}
		}
	}
	if aerr != nil {
		status = aerr.code
		body = errorBody(aerr)
		call.Description = aerr.description
	}
	call.Status = status
	var hook func(Call)
	if b != nil {
		s.mu.Lock()
		if aerr != nil && aerr.code == http.StatusTooManyRequests {
			b.rate.tooMany++
			if chat != nil && aerr.retryAfter > 0 {
				b.rate.pause(*chat, time.Now().Add(time.Duration(aerr.retryAfter)*time.Second))
			}
		}
		s.calls = append(s.calls, *call)
		hook = s.onCall
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	if hook != nil {
		// The client has the whole answer (its length is known) before the
		// hook runs, so a slow hook delays no answer, and what the hook
		// observes has happened.
		_ = http.NewResponseController(w).Flush()
		hook(*call)
	}
}
