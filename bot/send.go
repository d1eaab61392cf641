package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
)

// FreeBroadcastRate is the rate Telegram allows a bot without paid
// broadcasts, in messages per second.
const FreeBroadcastRate = 30

// MaxUpload is the largest file a bot may upload (photos: 10 MB).
const MaxUpload = 50 << 20

// sendPart sends one part within the bot's rate limits and returns the
// Telegram message id.
func (s *Service) sendPart(ctx context.Context, ch *Channel, chat int64, p Part, created time.Time) (int, error) {
	var media *store.Media
	if p.Media != nil {
		m, err := s.partMedia(ctx, ch, p.Media, created)
		if err != nil {
			return 0, err
		}
		media = &m
	}
	if err := ch.limits.wait(ctx, chat); err != nil {
		return 0, delivery.Retry(err)
	}
	var kb any
	if len(p.Keyboard) > 0 {
		kb = InlineKeyboard(p.Keyboard)
	}
	start := time.Now()
	var (
		msg *models.Message
		err error
	)
	api := ch.TG.API
	// Above Telegram's free 30 messages/s a bot must opt in to paid
	// broadcasts on every send, or Telegram holds it to the free limit.
	paid := ch.limits.cfg.PerSecond > FreeBroadcastRate
	if media == nil {
		msg, err = api.SendMessage(ctx, &tgbot.SendMessageParams{AllowPaidBroadcast: paid,
			ChatID: chat, Text: p.Text, Entities: p.Entities, ReplyMarkup: kb,
		})
	} else {
		in := s.inputFile(ctx, ch, p.Method, media)
		switch p.Method {
		case MethodPhoto:
			msg, err = api.SendPhoto(ctx, &tgbot.SendPhotoParams{AllowPaidBroadcast: paid, ChatID: chat, Photo: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		case MethodVideo:
			msg, err = api.SendVideo(ctx, &tgbot.SendVideoParams{AllowPaidBroadcast: paid, ChatID: chat, Video: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		case MethodAudio:
			msg, err = api.SendAudio(ctx, &tgbot.SendAudioParams{AllowPaidBroadcast: paid, ChatID: chat, Audio: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		case MethodVoice:
			msg, err = api.SendVoice(ctx, &tgbot.SendVoiceParams{AllowPaidBroadcast: paid, ChatID: chat, Voice: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		case MethodSticker:
			msg, err = api.SendSticker(ctx, &tgbot.SendStickerParams{AllowPaidBroadcast: paid, ChatID: chat, Sticker: in, ReplyMarkup: kb})
		default:
			msg, err = api.SendDocument(ctx, &tgbot.SendDocumentParams{AllowPaidBroadcast: paid, ChatID: chat, Document: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		}
	}
	telegramSeconds.WithLabelValues(p.Method).Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, ch.TG.Scrub(fmt.Errorf("%s: %w", p.Method, err))
	}
	if media != nil {
		if id := sentFileID(msg); id != "" {
			if err := s.st.PutFileID(ctx, ch.Config.Key, fileKey(p.Method, media.SHA256), id); err != nil {
				ch.log.Warn("could not remember file_id", "err", err)
			}
		}
	}
	return msg.ID, nil
}

// inputFile re-sends a file Telegram already has by its file_id, or uploads.
func (s *Service) inputFile(ctx context.Context, ch *Channel, method string, m *store.Media) models.InputFile {
	if id, err := s.st.FileID(ctx, ch.Config.Key, fileKey(method, m.SHA256)); err == nil {
		return &models.InputFileString{Data: id}
	}
	name := m.Filename
	if name == "" {
		name = "file" + extFor(m.MimeType)
	}
	return &models.InputFileUpload{Filename: name, Data: bytes.NewReader(m.Data)}
}

// fileKey is the key a file_id is remembered under. Telegram's file_ids are
// typed: a photo's cannot be sent with sendDocument or sendSticker ("type of
// file mismatch"), so the same bytes get one file_id per send method.
func fileKey(method, sha256 string) string { return method + ":" + sha256 }

// mediaWait is how long a send waits for its fetch job before fetching the
// link itself (both normally run within milliseconds of acceptance).
const mediaWait = 10 * time.Second

// partMedia returns the part's file from the store, fetched when the message
// was accepted.
func (s *Service) partMedia(ctx context.Context, ch *Channel, ref *MediaRef, created time.Time) (store.Media, error) {
	m, err := s.st.GetMedia(ctx, ch.Config.Key, ref.Key)
	if err == nil {
		return m, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return m, delivery.Retry(fmt.Errorf("read media: %w", err))
	}
	if time.Since(created) < mediaWait {
		return m, delivery.Throttle(errors.New("media not fetched yet"), 300*time.Millisecond)
	}
	m, err = s.fetchMedia(ctx, ch, ref)
	if err != nil {
		return m, err
	}
	if err := s.st.PutMedia(ctx, m); err != nil {
		return m, delivery.Retry(fmt.Errorf("store media: %w", err))
	}
	return m, nil
}

// deliverFetch downloads a Turn media link into the store while it is valid.
func (s *Service) deliverFetch(ctx context.Context, ch *Channel, t *delivery.Task) error {
	var ref MediaRef
	if err := json.Unmarshal(t.Payload, &ref); err != nil {
		return delivery.Permanent(fmt.Errorf("stored fetch undecodable: %w", err))
	}
	if _, err := s.st.GetMedia(ctx, ch.Config.Key, ref.Key); err == nil {
		return nil
	}
	m, err := s.fetchMedia(ctx, ch, &ref)
	if err != nil {
		return err
	}
	if err := s.st.PutMedia(ctx, m); err != nil {
		return delivery.Retry(fmt.Errorf("store media: %w", err))
	}
	return nil
}

// fetchMedia downloads ref.Link. Turn's links expire: a 4xx is final.
func (s *Service) fetchMedia(ctx context.Context, ch *Channel, ref *MediaRef) (store.Media, error) {
	var m store.Media
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref.Link, nil)
	if err != nil {
		return m, delivery.Permanent(fmt.Errorf("media link unusable: %w", err))
	}
	resp, err := s.opt.HTTPClient.Do(req)
	if err != nil {
		return m, delivery.Retry(fmt.Errorf("fetch media: %w", err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return m, delivery.Retry(fmt.Errorf("fetch media: %s", resp.Status))
	case resp.StatusCode != http.StatusOK:
		return m, delivery.Permanent(fmt.Errorf("fetch media: %s (link expired or refused)", resp.Status))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxUpload+1))
	if err != nil {
		return m, delivery.Retry(fmt.Errorf("fetch media: %w", err))
	}
	if len(data) > MaxUpload {
		return m, delivery.Permanent(fmt.Errorf("media over Telegram's %d MB upload limit", MaxUpload>>20))
	}
	mt := ref.MimeType
	if mt == "" {
		mt, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	}
	return store.Media{
		Channel: ch.Config.Key, Key: ref.Key, MimeType: mt, Filename: ref.Filename,
		SHA256: sha256Hex(data), Data: data,
	}, nil
}

// sentFileID is the file_id Telegram gave the file just sent.
func sentFileID(m *models.Message) string {
	switch {
	case m == nil:
		return ""
	case len(m.Photo) > 0:
		return m.Photo[len(m.Photo)-1].FileID
	case m.Video != nil:
		return m.Video.FileID
	case m.Audio != nil:
		return m.Audio.FileID
	case m.Voice != nil:
		return m.Voice.FileID
	case m.Document != nil:
		return m.Document.FileID
	case m.Sticker != nil:
		return m.Sticker.FileID
	case m.Animation != nil:
		return m.Animation.FileID
	}
	return ""
}

func extFor(mimeType string) string {
	if exts, _ := mime.ExtensionsByType(mimeType); len(exts) > 0 {
		return exts[0]
	}
	switch path.Base(mimeType) {
	case "ogg":
		return ".ogg"
	case "mp4":
		return ".mp4"
	}
	return ""
}
