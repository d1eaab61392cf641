package telegramtest

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/go-telegram/bot/models"
)

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

// messageRef reads chat_id and message_id. The fake sends no inline
// messages, so an inline_message_id never names one.
func messageRef(rq *request) (int64, int, *apiError) {
	if rq.str("inline_message_id") != "" {
		return 0, 0, badRequest("MESSAGE_ID_INVALID")
	}
	chatID, aerr := parseChatID(rq.str("chat_id"))
	if aerr != nil {
		return 0, 0, aerr
	}
	id := int(rq.integer("message_id", 0))
	if id <= 0 {
		return 0, 0, badRequest("message identifier is not specified")
	}
	return chatID, id, nil
}

// editableMarkup reads the reply_markup of an edit: only an inline keyboard,
// or none, which removes the message's keyboard.
func editableMarkup(rq *request) (json.RawMessage, *apiError) {
	m, aerr := parseReplyMarkup(rq.str("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	switch m.kind {
	case markupInline:
		return m.inline, nil
	case markupNone:
		return nil, nil
	}
	return nil, badRequest("inline keyboard expected")
}

// editTargetLocked finds the bot's own message to edit.
func (s *Server) editTargetLocked(b *bot, chatID int64, id int) (*storedMessage, *apiError) {
	if aerr := s.checkChatLocked(chatID); aerr != nil {
		return nil, aerr
	}
	m := b.findMessage(chatID, id)
	if m == nil {
		return nil, badRequest("message to edit not found")
	}
	if !m.fromBot {
		return nil, badRequest("message can't be edited")
	}
	return m, nil
}

func (s *Server) editMessageText(rq *request) (any, *apiError) {
	chatID, id, aerr := messageRef(rq)
	if aerr != nil {
		return nil, aerr
	}
	text := rq.str("text")
	ents, aerr := textEntities(text, rq.str("entities"))
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkText(text); aerr != nil {
		return nil, aerr
	}
	markup, aerr := editableMarkup(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.editTargetLocked(rq.bot, chatID, id)
	if aerr != nil {
		return nil, aerr
	}
	if m.msg.Text == "" {
		return nil, badRequest("there is no text in the message to edit")
	}
	if m.msg.Text == text && sameEntities(m.msg.Entities, ents) && bytes.Equal(m.markup, markup) {
		return nil, badRequest(notModified)
	}
	m.msg.Text, m.msg.Entities, m.markup = text, ents, markup
	m.msg.EditDate = int(time.Now().Unix())
	return m.json(), nil
}

func (s *Server) editMessageReplyMarkup(rq *request) (any, *apiError) {
	chatID, id, aerr := messageRef(rq)
	if aerr != nil {
		return nil, aerr
	}
	markup, aerr := editableMarkup(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.editTargetLocked(rq.bot, chatID, id)
	if aerr != nil {
		return nil, aerr
	}
	if bytes.Equal(m.markup, markup) {
		return nil, badRequest(notModified)
	}
	m.markup = markup
	m.msg.EditDate = int(time.Now().Unix())
	return m.json(), nil
}

func (s *Server) deleteMessage(rq *request) (any, *apiError) {
	chatID, id, aerr := messageRef(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.checkChatLocked(chatID); aerr != nil {
		return nil, aerr
	}
	m := rq.bot.findMessage(chatID, id)
	if m == nil {
		return nil, badRequest("message to delete not found")
	}
	m.deleted = true
	return true, nil
}

func sameEntities(a, b []models.MessageEntity) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
