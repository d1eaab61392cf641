package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/render"
	"github.com/turn-telegram/turn-telegram/delivery"
	"github.com/turn-telegram/turn-telegram/store"
)

// freeBroadcastRate is the rate Telegram allows a bot without paid
// broadcasts, in messages per second.
const freeBroadcastRate = 30

// MaxUpload is the largest file a bot may upload (photos: 10 MB).
const MaxUpload = 50 << 20

// sendPart sends one part within the bot's rate limits and returns the
// Telegram message id. Media is read from the store as a stream, chunk by
// chunk, straight into the upload: go-telegram/bot writes its multipart body
// through an io.Pipe, so the file is never held whole in memory.
func (s *Service) sendPart(ctx context.Context, ch *Channel, chat int64, p render.Part, created time.Time) (int, error) {
	var (
		media store.MediaMeta
		body  io.ReadCloser
	)
	if p.Media != nil {
		var err error
		if media, body, err = s.partMedia(ctx, ch, p.Media, created); err != nil {
			return 0, err
		}
		// Close may run while the library's writer still reads (an early
		// answer); the store's reader allows that.
		defer body.Close()
	}
	if err := ch.limits.wait(ctx, chat); err != nil {
		return 0, delivery.Retry(err)
	}
	var kb any
	if len(p.Keyboard) > 0 {
		kb = render.InlineKeyboard(p.Keyboard)
	}
	start := time.Now()
	var (
		msg *models.Message
		err error
	)
	api := ch.TG.API
	// Above Telegram's free 30 messages/s a bot must opt in to paid
	// broadcasts on every send, or Telegram holds it to the free limit.
	paid := ch.limits.cfg.PerSecond > freeBroadcastRate
	if p.Media == nil {
		msg, err = api.SendMessage(ctx, &tgbot.SendMessageParams{AllowPaidBroadcast: paid,
			ChatID: chat, Text: p.Text, Entities: p.Entities, ReplyMarkup: kb,
		})
	} else {
		in := s.inputFile(ctx, ch, p.Method, media, body)
		switch p.Method {
		case render.MethodPhoto:
			msg, err = api.SendPhoto(ctx, &tgbot.SendPhotoParams{AllowPaidBroadcast: paid, ChatID: chat, Photo: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		case render.MethodVideo:
			msg, err = api.SendVideo(ctx, &tgbot.SendVideoParams{AllowPaidBroadcast: paid, ChatID: chat, Video: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		case render.MethodAudio:
			msg, err = api.SendAudio(ctx, &tgbot.SendAudioParams{AllowPaidBroadcast: paid, ChatID: chat, Audio: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		case render.MethodVoice:
			msg, err = api.SendVoice(ctx, &tgbot.SendVoiceParams{AllowPaidBroadcast: paid, ChatID: chat, Voice: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		case render.MethodSticker:
			msg, err = api.SendSticker(ctx, &tgbot.SendStickerParams{AllowPaidBroadcast: paid, ChatID: chat, Sticker: in, ReplyMarkup: kb})
		default:
			msg, err = api.SendDocument(ctx, &tgbot.SendDocumentParams{AllowPaidBroadcast: paid, ChatID: chat, Document: in, Caption: p.Text, CaptionEntities: p.Entities, ReplyMarkup: kb})
		}
	}
	telegramSeconds.WithLabelValues(p.Method).Observe(time.Since(start).Seconds())
	if err != nil {
		return 0, ch.TG.Scrub(fmt.Errorf("%s: %w", p.Method, err))
	}
	if p.Media != nil {
		if id := sentFileID(msg); id != "" {
			if err := s.st.PutFileID(ctx, ch.Config.Key, fileKey(p.Method, media.SHA256), id); err != nil {
				ch.log.Warn("could not remember file_id", "err", err)
			}
		}
	}
	return msg.ID, nil
}

// inputFile re-sends a file Telegram already has by its file_id, or uploads
// body.
func (s *Service) inputFile(ctx context.Context, ch *Channel, method string, m store.MediaMeta, body io.Reader) models.InputFile {
	if id, err := s.st.FileID(ctx, ch.Config.Key, fileKey(method, m.SHA256)); err == nil {
		return &models.InputFileString{Data: id}
	}
	name := m.Filename
	if name == "" {
		name = "file" + extensionFor(m.MimeType)
	}
	return &models.InputFileUpload{Filename: name, Data: body}
}

// fileKey is the key a file_id is remembered under. Telegram's file_ids are
// typed: a photo's cannot be sent with sendDocument or sendSticker ("type of
// file mismatch"), so the same bytes get one file_id per send method.
func fileKey(method, sha256 string) string { return method + ":" + sha256 }

// mediaGiveUp is how long a message waits for its fetch job, from its
// acceptance. A fetch attempt takes at most FetchLimits.Total and a failed
// fetch job says so at once (FailMedia); this only ends a wait for a fetch
// job that has gone (discarded by an operator).
const mediaGiveUp = 30 * time.Minute

// partMedia opens the part's file, fetched by its fetch job when the message
// was accepted. The send never fetches: while the fetch job works, the
// message waits (throttled, holding nothing); if the fetch failed for good,
// so does the message, with the fetch's reason.
func (s *Service) partMedia(ctx context.Context, ch *Channel, ref *render.MediaRef, created time.Time) (store.MediaMeta, io.ReadCloser, error) {
	m, body, err := s.st.OpenMedia(ctx, ch.Config.Key, ref.Key)
	switch {
	case err == nil:
		return m, body, nil
	case errors.Is(err, store.ErrMediaFailed):
		return m, nil, delivery.Permanent(fmt.Errorf("media: %w", err))
	case !errors.Is(err, store.ErrNotFound):
		return m, nil, delivery.Retry(fmt.Errorf("read media: %w", err))
	}
	age := time.Since(created)
	if age > mediaGiveUp {
		return m, nil, delivery.Permanent(fmt.Errorf("media not fetched %s after the message was accepted", mediaGiveUp))
	}
	return m, nil, delivery.Throttle(errors.New("media not fetched yet"), mediaPoll(age))
}

// mediaPoll is how often a message looks for its media: often at first
// (fetches normally finish within a second), then more calmly.
func mediaPoll(age time.Duration) time.Duration {
	if age < 10*time.Second {
		return 300 * time.Millisecond
	}
	return min(age/10, 5*time.Second)
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
