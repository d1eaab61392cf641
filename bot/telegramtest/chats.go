package telegramtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"
)

type chatStatus int

const (
	chatActive chatStatus = iota
	chatBlocked
	chatDeactivated
	chatMissing
)

// chatInfo is what the fake knows of a chat, shared by all bots: how
// Telegram describes it (learnt from pushed updates) and what sends to it
// answer.
type chatInfo struct {
	chat     models.Chat
	status   chatStatus
	lastUser *models.User // the last sender seen in the chat
}

// Block makes calls to chatID answer 403 "Forbidden: bot was blocked by the
// user" (for a group, "bot was kicked from the group chat").
func (s *Server) Block(chatID int64) { s.setChatStatus(chatID, chatBlocked) }

// Deactivate makes calls to chatID answer 403 "Forbidden: user is
// deactivated".
func (s *Server) Deactivate(chatID int64) { s.setChatStatus(chatID, chatDeactivated) }

// ChatNotFound makes calls to chatID answer 400 "Bad Request: chat not
// found".
func (s *Server) ChatNotFound(chatID int64) { s.setChatStatus(chatID, chatMissing) }

// Unblock undoes Block, Deactivate and ChatNotFound.
func (s *Server) Unblock(chatID int64) { s.setChatStatus(chatID, chatActive) }

func (s *Server) setChatStatus(chatID int64, st chatStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatInfoLocked(chatID).status = st
}

func (s *Server) chatInfoLocked(chatID int64) *chatInfo {
	c := s.chats[chatID]
	if c == nil {
		c = &chatInfo{}
		s.chats[chatID] = c
	}
	return c
}

func (s *Server) checkChatLocked(chatID int64) *apiError {
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	switch c.status {
	case chatBlocked:
		if chatID < 0 {
			return forbidden("bot was kicked from the group chat")
		}
		return forbidden("bot was blocked by the user")
	case chatDeactivated:
		return forbidden("user is deactivated")
	case chatMissing:
		return badRequest("chat not found")
	}
	return nil
}

// learnChatLocked remembers how an update described a chat and its sender.
func (s *Server) learnChatLocked(chat models.Chat, from *models.User) {
	c := s.chatInfoLocked(chat.ID)
	if chat.Type != "" {
		c.chat = chat
	}
	if from != nil {
		u := *from
		c.lastUser = &u
	}
}

// chatLocked describes a chat as Telegram would in a message: as learnt from
// updates, or else from the id (positive: private; -100...: supergroup).
func (s *Server) chatLocked(chatID int64) models.Chat {
	if c := s.chats[chatID]; c != nil && c.chat.Type != "" {
		return c.chat
	}
	switch {
	case chatID > 0:
		return models.Chat{ID: chatID, Type: models.ChatTypePrivate}
	case chatID <= -1000000000000:
		return models.Chat{ID: chatID, Type: models.ChatTypeSupergroup, Title: fmt.Sprintf("Supergroup %d", chatID)}
	default:
		return models.Chat{ID: chatID, Type: models.ChatTypeGroup, Title: fmt.Sprintf("Group %d", chatID)}
	}
}

// parseChatID reads chat_id. Only numeric ids are known to the fake: an
// @username, like an unknown chat, is not found.
func parseChatID(v string) (int64, *apiError) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest("chat not found")
	}
	return id, nil
}

// chatLog is one bot's messages in one chat. Message ids are per chat and
// shared by both sides of it, as in Telegram.
type chatLog struct {
	lastID int
	msgs   map[int]*storedMessage
}

// storedMessage is a message as the fake keeps it. The inline keyboard is
// kept as the JSON that was validated, so answers repeat it exactly (the
// models type would add an empty copy_text to every button).
type storedMessage struct {
	msg     models.Message // ReplyMarkup always nil; see markup
	markup  json.RawMessage
	fromBot bool
	deleted bool
}

func (b *bot) chatLogLocked(chatID int64) *chatLog {
	l := b.chats[chatID]
	if l == nil {
		l = &chatLog{msgs: map[int]*storedMessage{}}
		b.chats[chatID] = l
	}
	return l
}

// addMessageLocked stores m in its chat, giving it the chat's next message id
// unless it has one.
func (b *bot) addMessageLocked(m models.Message, markup json.RawMessage, fromBot bool) *storedMessage {
	l := b.chatLogLocked(m.Chat.ID)
	if m.ID == 0 {
		l.lastID++
		m.ID = l.lastID
	} else if m.ID > l.lastID {
		l.lastID = m.ID
	}
	sm := &storedMessage{msg: m, markup: markup, fromBot: fromBot}
	l.msgs[m.ID] = sm
	return sm
}

// findMessage returns a message of the bot's chat, nil if missing or deleted.
func (b *bot) findMessage(chatID int64, id int) *storedMessage {
	l := b.chats[chatID]
	if l == nil {
		return nil
	}
	m := l.msgs[id]
	if m == nil || m.deleted {
		return nil
	}
	return m
}

// snapshot returns the message as a models.Message, keyboard included.
func (m *storedMessage) snapshot() models.Message {
	out := m.msg
	if m.markup != nil {
		var kb models.InlineKeyboardMarkup
		if json.Unmarshal(m.markup, &kb) == nil {
			out.ReplyMarkup = &kb
		}
	}
	return out
}

// json encodes the message as the Bot API does.
func (m *storedMessage) json() json.RawMessage {
	body, _ := json.Marshal(m.msg)
	if m.markup == nil {
		return body
	}
	out := make([]byte, 0, len(body)+len(m.markup)+16)
	out = append(out, body[:len(body)-1]...)
	out = append(out, `,"reply_markup":`...)
	out = append(out, m.markup...)
	return append(out, '}')
}
