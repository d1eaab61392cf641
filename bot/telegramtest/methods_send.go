package telegramtest

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// outgoing is a validated message about to be sent.
type outgoing struct {
	chatID       int64
	text         string // message text, or caption when caption is set
	entities     []models.MessageEntity
	caption      bool
	markup       replyMarkup
	linkPreview  *models.LinkPreviewOptions
	replyTo      int
	allowNoReply bool
	// media registers the message's new files and fills its media fields;
	// it runs under the server lock, once the message is accepted.
	media func(s *Server, b *bot, m *models.Message)
}

func (s *Server) sendMessage(rq *request) (any, *apiError) {
	chatID, aerr := parseChatID(rq.str("chat_id"))
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
	out := &outgoing{chatID: chatID, text: text, entities: ents}
	if raw := strings.TrimSpace(rq.str("link_preview_options")); raw != "" {
		if !json.Valid([]byte(raw)) {
			return nil, badRequest("can't parse link preview options JSON object")
		}
		var lp models.LinkPreviewOptions
		if raw[0] != '{' || json.Unmarshal([]byte(raw), &lp) != nil {
			return nil, badRequest("object expected as link preview options")
		}
		out.linkPreview = &lp
	}
	if aerr := out.readCommon(rq); aerr != nil {
		return nil, aerr
	}
	return s.commit(rq.bot, out)
}

// readCommon reads the fields every send method shares: reply_markup and
// what the message replies to.
func (out *outgoing) readCommon(rq *request) *apiError {
	markup, aerr := parseReplyMarkup(rq.str("reply_markup"))
	if aerr != nil {
		return aerr
	}
	out.markup = markup
	out.replyTo = int(rq.integer("reply_to_message_id", 0))
	out.allowNoReply = rq.boolean("allow_sending_without_reply")
	if raw := strings.TrimSpace(rq.str("reply_parameters")); raw != "" {
		var rp struct {
			MessageID                int  `json:"message_id"`
			AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
		}
		if json.Unmarshal([]byte(raw), &rp) != nil {
			return badRequest("can't parse reply parameters JSON object")
		}
		out.replyTo, out.allowNoReply = rp.MessageID, rp.AllowSendingWithoutReply
	}
	return nil
}

func botUser(b *bot) *models.User {
	return &models.User{ID: b.ID, IsBot: true, FirstName: b.FirstName, Username: b.Username}
}

// commit accepts a validated message if the chat can receive it and the
// bot is within its rate limits, and stores it.
func (s *Server) commit(b *bot, out *outgoing) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.checkChatLocked(out.chatID); aerr != nil {
		return nil, aerr
	}
	var reply *storedMessage
	if out.replyTo > 0 {
		reply = b.findMessage(out.chatID, out.replyTo)
		if reply == nil && !out.allowNoReply {
			return nil, badRequest("message to be replied not found")
		}
	}
	now := time.Now()
	if aerr := b.rate.allowSend(out.chatID, now); aerr != nil {
		return nil, aerr
	}
	m := models.Message{From: botUser(b), Date: int(now.Unix()), Chat: s.chatLocked(out.chatID)}
	if out.caption {
		m.Caption, m.CaptionEntities = out.text, out.entities
	} else {
		m.Text, m.Entities, m.LinkPreviewOptions = out.text, out.entities, out.linkPreview
	}
	if reply != nil {
		r := reply.snapshot()
		r.ReplyToMessage = nil
		m.ReplyToMessage = &r
	}
	if out.media != nil {
		out.media(s, b, &m)
	}
	var markup json.RawMessage
	if out.markup.kind == markupInline {
		markup = out.markup.inline
	}
	sm := b.addMessageLocked(m, markup, true)
	s.sent = append(s.sent, sentMessage{token: b.Token, msg: sm.snapshot()})
	return sm.json(), nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "record_audio": true, "upload_audio": true,
	"upload_document": true, "choose_sticker": true, "find_location": true,
	"record_video_note": true, "upload_video_note": true,
}

func (s *Server) sendChatAction(rq *request) (any, *apiError) {
	chatID, aerr := parseChatID(rq.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if !chatActions[strings.ToLower(rq.str("action"))] {
		return nil, badRequest("wrong parameter action in request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.checkChatLocked(chatID); aerr != nil {
		return nil, aerr
	}
	return true, nil
}
