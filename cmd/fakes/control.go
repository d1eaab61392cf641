package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/turn/turntest"
)

// maxUpload is the largest body the control API takes as a file: Telegram
// lets bots download files up to 20 MB.
const maxUpload = 20 << 20

const controlHelp = `turn-telegram fakes: control API

Play the Telegram user (chat is the user's chat id, e.g. 42; first and last
set the user's name, default Alex Example):
  POST /user/text?chat=42&text=hello        a text (or the request body as the text)
  POST /user/photo?chat=42&caption=hi       a photo: the body, or a generated JPEG
  POST /user/voice?chat=42&duration=3       a voice note: the body, or generated OGG bytes
  POST /user/press?chat=42&button=Yes       press the button titled Yes on the newest bot message having it
  POST /user/press?chat=42&message=7&data=… press with exact callback data on message 7
  GET  /telegram/sent?chat=42               what the bot sent to the chat (JSON)
  POST /telegram/down, POST /telegram/up    Telegram answers everything with 502, or again as usual

Every /user and /telegram route takes bot=<username> (default turn_fakes_bot;
the other bot is turn_fakes_bot2).

Play Turn (bot=<username> picks the Turn channel created for that bot, with
turn-telegram channels add; default: the number of the environment):
  GET  /turn/channels                       the channels created through POST /v1/numbers
  POST /turn/token?bot=turn_fakes_bot2      issue the created channel's token, as Turn's UI does
  GET  /turn/messages                       the messages Turn received (JSON)
  GET  /turn/statuses                       the statuses Turn received (JSON)
  POST /turn/send?chat=42                   the journey sends the body to the chat: a Turn
                                            "turn" object such as {"type":"text","text":{"body":"Hi"}},
                                            or a whole webhook payload; answers what the service answered
  POST /turn/media?mime=image/jpeg          host the body (or a generated JPEG) behind a signed
                                            Turn media link, for image/document/... messages
`

// controlHandler is the control API.
func (f *fakes) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, controlHelp)
	})
	mux.HandleFunc("POST /user/text", f.userText)
	mux.HandleFunc("POST /user/photo", f.userPhoto)
	mux.HandleFunc("POST /user/voice", f.userVoice)
	mux.HandleFunc("POST /user/press", f.userPress)
	mux.HandleFunc("GET /telegram/sent", f.telegramSent)
	for path, down := range map[string]bool{"POST /telegram/down": true, "POST /telegram/up": false} {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			f.tg.SetDown(down)
			f.log.Info("telegram is " + map[bool]string{true: "down", false: "up"}[down])
			writeJSON(w, http.StatusOK, map[string]bool{"down": down})
		})
	}
	mux.HandleFunc("GET /turn/messages", func(w http.ResponseWriter, r *http.Request) {
		if c, err := f.turnChannel(r); err != nil {
			writeError(w, err)
		} else {
			writeJSON(w, http.StatusOK, orEmpty(f.turn.Messages(c.numberID)))
		}
	})
	mux.HandleFunc("GET /turn/statuses", func(w http.ResponseWriter, r *http.Request) {
		if c, err := f.turnChannel(r); err != nil {
			writeError(w, err)
		} else {
			writeJSON(w, http.StatusOK, orEmpty(f.turn.Statuses(c.numberID)))
		}
	})
	mux.HandleFunc("GET /turn/channels", f.turnChannels)
	mux.HandleFunc("POST /turn/token", f.issueToken)
	mux.HandleFunc("POST /turn/send", f.turnSend)
	mux.HandleFunc("POST /turn/media", f.turnMedia)
	return mux
}

// orEmpty makes a nil slice encode as [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// controlError is an answer to a request the control API cannot carry out.
type controlError struct {
	status int
	msg    string
}

func (e *controlError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &controlError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var ce *controlError
	if errors.As(err, &ce) {
		status = ce.status
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// chatParam is the required chat query parameter.
func chatParam(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("chat")
	if s == "" {
		return 0, badRequest("chat is required: the user's chat id, e.g. chat=42")
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat=%q is not a chat id (a non-zero whole number)", s)
	}
	return id, nil
}

// userName is the user's first and last name from the query.
func userName(r *http.Request) (first, last string) {
	q := r.URL.Query()
	first, last = q.Get("first"), q.Get("last")
	if first == "" {
		first, last = "Alex", "Example"
	}
	return first, last
}

// readBody reads a request body of at most limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, badRequest("reading the body: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, &controlError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", limit)}
	}
	return b, nil
}

// botOf is the token of the bot named by bot=, default turn_fakes_bot.
func (f *fakes) botOf(r *http.Request) (string, error) {
	name := r.URL.Query().Get("bot")
	if name == "" {
		return f.botToken, nil
	}
	if token, ok := f.bots[name]; ok {
		return token, nil
	}
	return "", badRequest("bot=%q is not a bot of the fakes (turn_fakes_bot, turn_fakes_bot2)", name)
}

// push queues an update for the bot and answers its update_id.
func (f *fakes) push(w http.ResponseWriter, r *http.Request, what string, chat int64, upd models.Update) {
	token, err := f.botOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	id := f.tg.PushUpdate(token, upd)
	if id == 0 {
		writeError(w, &controlError{http.StatusConflict, "the bot's allowed_updates exclude this update, so Telegram dropped it"})
		return
	}
	f.log.Info("telegram user "+what, "chat", chat, "update_id", id)
	writeJSON(w, http.StatusOK, map[string]any{"update_id": id})
}

func (f *fakes) userText(w http.ResponseWriter, r *http.Request) {
	chat, err := chatParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	text := r.URL.Query().Get("text")
	if text == "" {
		b, err := readBody(r, 4096)
		if err != nil {
			writeError(w, err)
			return
		}
		text = strings.TrimRight(string(b), "\r\n")
	}
	if text == "" {
		writeError(w, badRequest("text is required: text=... or the request body"))
		return
	}
	first, last := userName(r)
	f.push(w, r, "wrote a text", chat, telegramtest.UserText(chat, first, last, text))
}

// userUpload reads what a media route needs: the chat, the file (the body,
// or sample() when there is none) and the bot it goes to.
func (f *fakes) userUpload(r *http.Request, sample func() []byte) (chat int64, data []byte, token string, err error) {
	if chat, err = chatParam(r); err != nil {
		return 0, nil, "", err
	}
	if data, err = readBody(r, maxUpload); err != nil {
		return 0, nil, "", err
	}
	if len(data) == 0 {
		data = sample()
	}
	if token, err = f.botOf(r); err != nil {
		return 0, nil, "", err
	}
	return chat, data, token, nil
}

func (f *fakes) userPhoto(w http.ResponseWriter, r *http.Request) {
	chat, data, token, err := f.userUpload(r, sampleJPEG)
	if err != nil {
		writeError(w, err)
		return
	}
	first, last := userName(r)
	upd := f.tg.UserPhoto(token, chat, first, last, data, r.URL.Query().Get("caption"))
	f.push(w, r, "sent a photo", chat, upd)
}

func (f *fakes) userVoice(w http.ResponseWriter, r *http.Request) {
	duration := 3
	if s := r.URL.Query().Get("duration"); s != "" {
		var err error
		if duration, err = strconv.Atoi(s); err != nil || duration < 0 {
			writeError(w, badRequest("duration=%q is not a number of seconds", s))
			return
		}
	}
	chat, data, token, err := f.userUpload(r, sampleVoice)
	if err != nil {
		writeError(w, err)
		return
	}
	first, last := userName(r)
	upd := f.tg.UserVoice(token, chat, first, last, data, duration)
	f.push(w, r, "sent a voice note", chat, upd)
}

func (f *fakes) userPress(w http.ResponseWriter, r *http.Request) {
	chat, err := chatParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	messageID := 0
	if s := q.Get("message"); s != "" {
		if messageID, err = strconv.Atoi(s); err != nil || messageID <= 0 {
			writeError(w, badRequest("message=%q is not a message id", s))
			return
		}
	}
	data, title := q.Get("data"), q.Get("button")
	if (data == "") == (title == "") {
		writeError(w, badRequest("give either button=<title> or data=<callback data> (with message=<id>)"))
		return
	}
	if data != "" && messageID == 0 {
		writeError(w, badRequest("data needs message=<id>: the bot message whose button is pressed"))
		return
	}
	if title != "" && messageID != 0 {
		writeError(w, badRequest("button=<title> presses the newest bot message having it; to press on message=<id>, give data=<callback data>"))
		return
	}
	token, err := f.botOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var id string
	if title != "" {
		p, err := f.tg.PressButtonTitled(token, chat, title)
		if err != nil {
			writeError(w, &controlError{http.StatusNotFound, fmt.Sprintf("chat %d has no message from the bot with a button titled %q (see GET /telegram/sent?chat=%d)", chat, title, chat)})
			return
		}
		id, messageID, data = p.QueryID, p.MessageID, p.Data
	} else {
		// The message must be the bot's and still there: PressButton
		// panics otherwise.
		if !f.botSent(token, chat, messageID) {
			writeError(w, &controlError{http.StatusNotFound, fmt.Sprintf("chat %d has no message %d from the bot (see GET /telegram/sent?chat=%d)", chat, messageID, chat)})
			return
		}
		id = f.tg.PressButton(token, chat, messageID, data)
	}
	f.log.Info("telegram user pressed a button", "chat", chat, "message", messageID, "data", data)
	writeJSON(w, http.StatusOK, map[string]any{"callback_query_id": id, "message_id": messageID, "data": data})
}

// botSent reports whether the bot sent messageID to chat and it was not
// deleted.
func (f *fakes) botSent(token string, chat int64, messageID int) bool {
	for _, m := range f.tg.SentBy(token, chat) {
		if m.ID == messageID {
			_, ok := f.tg.Message(token, chat, messageID)
			return ok
		}
	}
	return false
}

func (f *fakes) telegramSent(w http.ResponseWriter, r *http.Request) {
	chat, err := chatParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	token, err := f.botOf(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, orEmpty(f.tg.SentBy(token, chat)))
}

// turnSend posts a journey's message to the service's Turn webhook, signed
// with the channel's secret, and answers with the service's answer.
func (f *fakes) turnSend(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, turntest.MaxBodyBytes)
	if err != nil {
		writeError(w, err)
		return
	}
	payload, err := outboundPayload(r, body)
	if err != nil {
		writeError(w, err)
		return
	}
	c, err := f.turnChannel(r)
	if err != nil {
		writeError(w, err)
		return
	}
	endpoint := c.endpoint
	resp, err := f.turn.Send(r.Context(), endpoint, []byte(c.secret), payload)
	if err != nil {
		writeError(w, &controlError{http.StatusBadGateway, fmt.Sprintf("is turn-telegram running at %s? %v", f.serviceURL, err)})
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		writeError(w, &controlError{http.StatusBadGateway, fmt.Sprintf("reading the service's answer: %v", err)})
		return
	}
	f.log.Info("turn sent a message to the service", "endpoint", endpoint, "status", resp.StatusCode, "answer", string(bytes.TrimSpace(answer)))
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// outboundPayload is the webhook payload for body: a whole payload (it has
// "turn" or "to"; a missing "to" is taken from chat), or a "turn" object to
// wrap in one addressed to chat.
func outboundPayload(r *http.Request, body []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, badRequest(`the body must be a JSON object: a Turn "turn" message such as {"type":"text","text":{"body":"Hi"}}, or a whole webhook payload`)
	}
	_, hasTurn := obj["turn"]
	_, hasTo := obj["to"]
	if hasTurn || hasTo {
		if !hasTo {
			chat, err := chatParam(r)
			if err != nil {
				return nil, err
			}
			obj["to"] = json.RawMessage(strconv.Quote(strconv.FormatInt(chat, 10)))
		}
		return json.Marshal(obj)
	}
	chat, err := chatParam(r)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"to":      strconv.FormatInt(chat, 10),
		"version": "0.0.1-alpha",
		"turn":    json.RawMessage(body),
	})
}

// turnTarget is a Turn channel the control API acts as.
type turnTarget struct {
	numberID string
	endpoint string // where Turn posts its outbound messages
	secret   string // what signs them
}

// turnChannel is the channel created for the bot named by bot=, or the
// number of the environment.
func (f *fakes) turnChannel(r *http.Request) (turnTarget, error) {
	name := r.URL.Query().Get("bot")
	if name == "" {
		return turnTarget{f.numberID, f.serviceURL + "/channels/" + f.numberID + "/turn", f.hmacSecret}, nil
	}
	for _, c := range f.turn.CreatedChannels() {
		if c.Request.FromAddr == "@"+name {
			return turnTarget{c.NumberID, c.Request.Endpoint, c.HMACSecret}, nil
		}
	}
	return turnTarget{}, &controlError{http.StatusNotFound, fmt.Sprintf("no Turn channel was created for @%s: add it with turn-telegram channels add (see GET /turn/channels)", name)}
}

// turnChannels lists the channels created through POST /v1/numbers.
func (f *fakes) turnChannels(w http.ResponseWriter, _ *http.Request) {
	type created struct {
		NumberID string `json:"number_id"`
		FromAddr string `json:"from_addr"`
		Name     string `json:"name"`
		Endpoint string `json:"endpoint"`
	}
	out := []created{}
	for _, c := range f.turn.CreatedChannels() {
		out = append(out, created{c.NumberID, c.Request.FromAddr, c.Request.Name, c.Request.Endpoint})
	}
	writeJSON(w, http.StatusOK, out)
}

// issueToken issues a created channel's API token, as Turn's UI does.
func (f *fakes) issueToken(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("bot") == "" {
		writeError(w, badRequest("bot=<username> is required: the bot whose Turn channel gets a token"))
		return
	}
	c, err := f.turnChannel(r)
	if err != nil {
		writeError(w, err)
		return
	}
	token := randomString(40)
	f.turn.AddNumber(c.numberID, token)
	f.log.Info("turn issued a channel token", "number", c.numberID)
	writeJSON(w, http.StatusOK, map[string]string{"number_id": c.numberID, "token": token})
}

// turnMedia hosts the body behind a Turn media link, for messages with media.
func (f *fakes) turnMedia(w http.ResponseWriter, r *http.Request) {
	data, err := readBody(r, maxUpload)
	if err != nil {
		writeError(w, err)
		return
	}
	mime := r.URL.Query().Get("mime")
	if len(data) == 0 {
		data, mime = sampleJPEG(), "image/jpeg"
	}
	if mime == "" {
		mime = http.DetectContentType(data)
	}
	link := f.turn.HostMedia(data, mime)
	// The link names the fake itself; point it at the proxy the service
	// was told about (the signature covers only the path and expiry).
	link = f.turnURL + strings.TrimPrefix(link, f.turn.URL)
	f.log.Info("turn hosts media", "mime_type", mime, "bytes", len(data))
	writeJSON(w, http.StatusOK, map[string]string{"link": link, "mime_type": mime})
}

// sampleJPEG is a small real JPEG: a colour gradient.
func sampleJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(5 * y), 160, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(fmt.Sprintf("fakes: encoding a JPEG in memory: %v", err))
	}
	return b.Bytes()
}

// sampleVoice starts like an OGG/Opus voice note; nothing decodes it, the
// bytes only have to travel intact.
func sampleVoice() []byte {
	head := []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	return append(head, bytes.Repeat([]byte("voice note "), 200)...)
}
