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
	return s.pressLocked(b, chatID, m, data)
}

// ButtonPress is a press PressButtonTitled made.
type ButtonPress struct {
	QueryID   string // the callback query's id, for Answered
	MessageID int    // the message whose button was pressed
	Data      string // the button's callback_data
}

// PressButtonTitled presses, as the user of chatID, the callback button
// titled title on the newest message the bot sent to the chat that has one
// as it is now (edits and deletions count: a person presses what they
// see). It fails when no such message exists.
func (s *Server) PressButtonTitled(token string, chatID int64, title string) (ButtonPress, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mustBotLocked(token)
	if l := b.chats[chatID]; l != nil {
		for id := l.lastID; id > 0; id-- {
			m := b.findMessage(chatID, id)
			if m == nil || !m.fromBot {
				continue
			}
			if data, ok := m.callbackData(title); ok {
				return ButtonPress{QueryID: s.pressLocked(b, chatID, m, data), MessageID: id, Data: data}, nil
			}
		}
	}
	return ButtonPress{}, fmt.Errorf("telegramtest: no message from the bot in chat %d has a button titled %q", chatID, title)
}

// callbackData is the callback_data of m's inline button titled title.
func (m *storedMessage) callbackData(title string) (string, bool) {
	var kb struct {
		InlineKeyboard [][]struct {
			Text         string `json:"text"`
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if m.markup == nil || json.Unmarshal(m.markup, &kb) != nil {
		return "", false
	}
	for _, row := range kb.InlineKeyboard {
		for _, btn := range row {
			if btn.Text == title && btn.CallbackData != "" {
				return btn.CallbackData, true
			}
		}
	}
	return "", false
}

// pressLocked pushes the callback_query of a press of m carrying data.
func (s *Server) pressLocked(b *bot, chatID int64, m *storedMessage, data string) string {
	s.callbackSeq++
	id := strconv.FormatInt(b.ID, 10) + fmt.Sprintf("%09d", s.callbackSeq)
	s.callbacks[id] = &callbackQuery{token: b.Token}
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
