package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// deliverUpdate bridges one stored Telegram update to Turn.
func (s *Service) deliverUpdate(ctx context.Context, ch *Channel, t *delivery.Task) error {
	var upd models.Update
	if err := json.Unmarshal(t.Payload, &upd); err != nil {
		return delivery.Permanent(fmt.Errorf("stored update undecodable: %w", err))
	}
	rt := route(&upd)
	switch {
	case rt.Skip != "" && upd.CallbackQuery != nil:
		// A press that is not bridged (in a group, on a game button) is
		// still answered, so the person's client stops waiting.
		s.answer(ctx, ch, upd.CallbackQuery.ID, answerNotBridged)
		return nil
	case rt.Skip != "":
		return delivery.Permanent(fmt.Errorf("update not bridgeable: %s", rt.Skip))
	case upd.CallbackQuery != nil:
		return s.deliverCallback(ctx, ch, t, upd.CallbackQuery)
	case upd.Message != nil:
		return s.deliverMessage(ctx, ch, t, upd.Message)
	}
	return delivery.Permanent(errors.New("update has nothing to bridge"))
}

func (s *Service) deliverMessage(ctx context.Context, ch *Channel, t *delivery.Task, msg *models.Message) error {
	conv, err := convertMessage(msg)
	if err != nil {
		return delivery.Permanent(fmt.Errorf("convert message: %w", err))
	}
	in := conv.Inbound
	if conv.File != nil {
		if err := s.linkMedia(ctx, ch, &conv); err != nil {
			return err
		}
		in = conv.Inbound
	}
	if conv.ReplyTo != 0 {
		id, err := s.st.TurnID(ctx, ch.Config.Key, msg.Chat.ID, conv.ReplyTo)
		switch {
		case err == nil:
			in.Message.Context = &turn.InboundContext{ID: id}
		case !errors.Is(err, store.ErrNotFound):
			return delivery.Retry(fmt.Errorf("look up replied message: %w", err))
		}
	}
	if err := ch.Turn.SendMessage(ctx, &in); err != nil {
		return classifyTurn(err)
	}
	messagesDelivered.WithLabelValues(ch.Config.Key, "to_turn").Inc()
	t.OnDone(s.afterInbound(ch, msg.Chat.ID, store.MessageMap{
		Channel: ch.Config.Key, ChatID: msg.Chat.ID, TelegramID: msg.ID, TurnID: in.Message.ID,
	}))
	return nil
}

// afterInbound is what a person's message or press changes once Turn has it:
// the chat is reachable again, and earlier messages count as read.
func (s *Service) afterInbound(ch *Channel, chat int64, m store.MessageMap) store.Batch {
	b := store.Batch{ClearGone: []store.ChatRef{{Channel: ch.Config.Key, ChatID: chat}}}
	if m.TurnID != "" {
		b.Maps = []store.MessageMap{m}
	}
	if s.opt.ReadReceipts {
		b.Receipts = []store.Receipts{readReceipts(ch.Config.Key, chat, time.Now())}
	}
	return b
}

// linkMedia fills the media object's link and sha256. The link points at
// this service (GET /media/{token}), never at Telegram: Telegram's download
// URL contains the bot token. Files Telegram will not serve become a text
// saying so, so the person is not met with silence.
func (s *Service) linkMedia(ctx context.Context, ch *Channel, conv *converted) error {
	f := conv.File
	if f.Size > maxDownload {
		return s.tooBig(conv)
	}
	file, err := ch.TG.Open(ctx, f.FileID)
	if err != nil {
		var api *APIError
		switch {
		case errors.As(err, &api) && api.Code == 400 && strings.Contains(strings.ToLower(api.Description), "too big"):
			return s.tooBig(conv)
		case errors.As(err, &api) && api.Code == 400:
			// An unknown or expired file_id: Turn hears that there was a
			// file, never a size it did not have.
			ch.log.Warn("telegram refused the file of a message; forwarded as text", "err", ch.TG.Scrub(err))
			asText(conv, unavailableText(*conv))
			return nil
		}
		return classifyTelegram(err)
	}
	defer file.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(file.Body, maxDownload+1))
	if err != nil {
		return delivery.Retry(ch.TG.Scrub(fmt.Errorf("download file: %w", err)))
	}
	if n > maxDownload {
		return s.tooBig(conv)
	}
	m := mediaOf(&conv.Inbound.Message)
	if m == nil {
		return delivery.Permanent(errors.New("converted media message has no media object"))
	}
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	m.Link = s.opt.PublicURL + "/media/" + signLink(ch.linkKey, mediaClaims{
		Channel:  ch.Config.Key,
		FileID:   f.FileID,
		MimeType: m.MimeType,
		Filename: f.Filename,
		Expires:  time.Now().Add(s.opt.MediaLinkTTL).Unix(),
	})
	return nil
}

func (s *Service) tooBig(conv *converted) error {
	asText(conv, tooBigText(*conv))
	return nil
}

// asText replaces a media message by text.
func asText(conv *converted, text string) {
	msg := &conv.Inbound.Message
	msg.Image, msg.Video, msg.Audio, msg.Document, msg.Sticker = nil, nil, nil, nil, nil
	msg.Type = turn.TypeText
	msg.Text = &turn.Text{Body: text}
	conv.File = nil
}

func mediaOf(m *turn.InboundMessage) *turn.Media {
	switch {
	case m.Image != nil:
		return m.Image
	case m.Video != nil:
		return m.Video
	case m.Audio != nil:
		return m.Audio
	case m.Document != nil:
		return m.Document
	case m.Sticker != nil:
		return m.Sticker
	}
	return nil
}

func unixString(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
