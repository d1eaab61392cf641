package telegramtest

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/go-telegram/bot/models"
)

const maxCallbackAnswer = 200 // characters of answerCallbackQuery's text

// callbackQuery is a button press the fake issued.
type callbackQuery struct {
	token    string
	answered bool
	text     string
}

// PressButton makes the user of chatID press a button of the bot's message
// messageID: it pushes a callback_query update carrying data and the
// message as it is now, and returns the query's id for Answered. data is
// not checked against the message's buttons, so a test can forge it. It
// panics if the bot sent no such message.
func (s *Server) PressButton(token string, chatID int64, messageID int, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mustBotLocked(token)
	m := b.findMessage(chatID, messageID)
	if m == nil || !m.fromBot {
		panic(fmt.Sprintf("telegramtest: PressButton: the bot has no message %d in chat %d", messageID, chatID))
	}
	s.callbackSeq++
	id := strconv.FormatInt(b.ID, 10) + fmt.Sprintf("%09d", s.callbackSeq)
	s.callbacks[id] = &callbackQuery{token: token}
	query := map[string]any{
		"id":            id,
		"from":          s.presserLocked(chatID),
		"message":       m.json(),
		"chat_instance": strconv.FormatInt(chatID^b.ID, 10),
		"data":          data,
	}
	raw, _ := json.Marshal(query)
	s.enqueueLocked(b, map[string]json.RawMessage{"callback_query": raw})
	return id
}

// presserLocked is the user pressing a button in a chat: the chat's last
// sender, or else the private chat's user.
func (s *Server) presserLocked(chatID int64) models.User {
	c := s.chats[chatID]
	if c != nil && c.lastUser != nil {
		return *c.lastUser
	}
	u := models.User{ID: chatID, FirstName: "User"}
	if chatID < 0 {
		u.ID = -chatID % 1000000000
	}
	if c != nil && c.chat.FirstName != "" {
		u.FirstName, u.LastName, u.Username = c.chat.FirstName, c.chat.LastName, c.chat.Username
	}
	return u
}

// Answered reports whether the bot answered the callback query and with
// what text.
func (s *Server) Answered(callbackID string) (text string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.callbacks[callbackID]
	if q == nil || !q.answered {
		return "", false
	}
	return q.text, true
}

func (s *Server) answerCallbackQuery(rq *request) (any, *apiError) {
	text := rq.str("text")
	if utf16Len(text) > maxCallbackAnswer {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.callbacks[rq.str("callback_query_id")]
	if q == nil || q.token != rq.bot.Token || q.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	q.answered, q.text = true, text
	return true, nil
}
