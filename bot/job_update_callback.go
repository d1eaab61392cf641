package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/render"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// Progress steps of a callback job, so a retry neither answers the press
// twice nor loses the fact that this press was the first of its keyboard.
const (
	cbClaimed  = 1 // UseCallback said first; the press is ours to forward
	cbAnswered = 2 // answered and keyboard replaced; only Turn remains
)

// What a press is answered with, besides the silent acknowledgement of a
// first press.
const (
	answerInactive   = "This button is no longer active."
	answerAlready    = "You have already answered this."
	answerNotBridged = "This button only works in a private chat with this bot."
)

// deliverCallback resolves a button press: it always answers the callback
// (or the person's client shows a spinner), replaces the keyboard with the
// chosen answer so a second press cannot answer twice, and forwards the
// choice to Turn with the ids Turn gave.
func (s *Service) deliverCallback(ctx context.Context, ch *Channel, t *delivery.Task, cq *models.CallbackQuery) error {
	chat := cq.From.ID
	msgID := 0
	if cq.Message.Message != nil {
		chat, msgID = cq.Message.Message.Chat.ID, cq.Message.Message.ID
	}
	log := ch.log.With("chat", chat, "callback", cq.ID)
	cb, first, err := s.st.UseCallback(ctx, ch.Config.Key, chat, cq.Data, s.opt.CallbackMaxAge)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Info("press on an unknown or expired keyboard")
		s.answer(ctx, ch, cq.ID, answerInactive)
		return nil
	case err != nil:
		return delivery.Retry(fmt.Errorf("resolve callback: %w", err))
	}
	if !first && t.Progress < cbClaimed {
		log.Info("second press on an answered keyboard")
		s.answer(ctx, ch, cq.ID, answerAlready)
		return nil
	}
	if t.Progress < cbClaimed {
		if err := t.Advance(ctx, cbClaimed, store.Batch{}); err != nil {
			return delivery.Retry(fmt.Errorf("record press: %w", err))
		}
	}
	if t.Progress < cbAnswered {
		s.answer(ctx, ch, cq.ID, "")
		if msgID != 0 {
			s.markChosen(ctx, ch, chat, msgID, cb)
		}
		if err := t.Advance(ctx, cbAnswered, store.Batch{}); err != nil {
			return delivery.Retry(fmt.Errorf("record answer: %w", err))
		}
	}
	in := callbackInbound(cq, chat, cb, t.CreatedAt)
	if err := ch.Turn.SendMessage(ctx, &in); err != nil {
		return classifyTurn(err)
	}
	messagesDelivered.WithLabelValues(ch.Config.Key, "to_turn").Inc()
	t.OnDone(s.afterInbound(ch, chat, store.MessageMap{}))
	return nil
}

// answer acknowledges a press. Failures are logged, not retried: Telegram
// refuses answers after about 15 s, and the press itself still counts.
func (s *Service) answer(ctx context.Context, ch *Channel, id, text string) {
	_, err := ch.TG.API.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text})
	if err != nil {
		ch.log.Warn("answerCallbackQuery failed", "callback", id, "err", ch.TG.Scrub(err))
	}
}

// markChosen replaces the keyboard with one button showing the choice, which
// keeps the answer visible and makes the keyboard unusable a second time.
func (s *Service) markChosen(ctx context.Context, ch *Channel, chat int64, msgID int, cb store.Callback) {
	kb := render.InlineKeyboard([][]render.Button{{{Text: render.ButtonLabel("✅ " + cb.Title), Data: cb.Key}}})
	_, err := ch.TG.API.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{
		ChatID: chat, MessageID: msgID, ReplyMarkup: kb,
	})
	if err != nil && !strings.Contains(err.Error(), "message is not modified") {
		ch.log.Warn("could not replace the answered keyboard", "chat", chat, "message", msgID, "err", ch.TG.Scrub(err))
	}
}

// callbackInbound is the press as Turn expects a reply: WhatsApp's
// interactive button_reply/list_reply, or a template quick-reply "button".
// A callback query carries no date: the time it was stored stands in.
func callbackInbound(cq *models.CallbackQuery, chat int64, cb store.Callback, at time.Time) turn.Inbound {
	from := strconv.FormatInt(chat, 10)
	name := strings.TrimSpace(cq.From.FirstName + " " + cq.From.LastName)
	if name == "" {
		name = cq.From.Username
	}
	if name == "" {
		name = from
	}
	msg := turn.InboundMessage{
		From:      from,
		ID:        "tg:cb:" + cq.ID,
		Timestamp: unixString(at),
		Context:   &turn.InboundContext{ID: cb.TurnID},
	}
	switch cb.Reply {
	case "button":
		msg.Type = turn.TypeButton
		msg.Button = &turn.ButtonReply{Payload: cb.ReplyID, Text: cb.Title}
	case "list_reply":
		msg.Type = turn.TypeInteractive
		msg.Interactive = &turn.InteractiveReply{Type: "list_reply", ListReply: &turn.ReplyItem{
			ID: cb.ReplyID, Title: cb.Title, Description: cb.Description,
		}}
	default:
		msg.Type = turn.TypeInteractive
		msg.Interactive = &turn.InteractiveReply{Type: "button_reply", ButtonReply: &turn.ReplyItem{
			ID: cb.ReplyID, Title: cb.Title,
		}}
	}
	return turn.Inbound{Contact: turn.Contact{ID: from, Profile: turn.Profile{Name: name}}, Message: msg}
}
