package telegramtest

import (
	"bytes"
	"context"
	"image"
	_ "image/gif" // photo dimensions
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// mediaSpec is what Telegram allows for one kind of media.
type mediaSpec struct {
	kind      string // also the name of the method's media field
	maxUpload int64  // multipart upload
	maxByURL  int64  // sent as an http(s) URL Telegram fetches
	caption   bool
}

const mb = 1 << 20

func (s *Server) sendPhoto(rq *request) (any, *apiError) {
	return s.sendMedia(rq, mediaSpec{kind: "photo", maxUpload: 10 * mb, maxByURL: 5 * mb, caption: true})
}

func (s *Server) sendVideo(rq *request) (any, *apiError) {
	return s.sendMedia(rq, mediaSpec{kind: "video", maxUpload: 50 * mb, maxByURL: 20 * mb, caption: true})
}

func (s *Server) sendAudio(rq *request) (any, *apiError) {
	return s.sendMedia(rq, mediaSpec{kind: "audio", maxUpload: 50 * mb, maxByURL: 20 * mb, caption: true})
}

func (s *Server) sendVoice(rq *request) (any, *apiError) {
	return s.sendMedia(rq, mediaSpec{kind: "voice", maxUpload: 50 * mb, maxByURL: 20 * mb, caption: true})
}

func (s *Server) sendDocument(rq *request) (any, *apiError) {
	return s.sendMedia(rq, mediaSpec{kind: "document", maxUpload: 50 * mb, maxByURL: 20 * mb, caption: true})
}

func (s *Server) sendSticker(rq *request) (any, *apiError) {
	return s.sendMedia(rq, mediaSpec{kind: "sticker", maxUpload: 50 * mb, maxByURL: 20 * mb})
}

func (s *Server) sendAnimation(rq *request) (any, *apiError) {
	return s.sendMedia(rq, mediaSpec{kind: "animation", maxUpload: 50 * mb, maxByURL: 20 * mb, caption: true})
}

// mediaSource is the media of a send: a file the bot already has, or new
// bytes (uploaded or fetched).
type mediaSource struct {
	existing *storedFile
	data     []byte
	name     string
	mimeType string
}

func (s *Server) sendMedia(rq *request, spec mediaSpec) (any, *apiError) {
	chatID, aerr := parseChatID(rq.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	out := &outgoing{chatID: chatID, caption: true}
	if spec.caption {
		text := rq.str("caption")
		ents, aerr := textEntities(text, rq.str("caption_entities"))
		if aerr != nil {
			return nil, aerr
		}
		if aerr := checkCaption(text); aerr != nil {
			return nil, aerr
		}
		out.text, out.entities = text, ents
	}
	if aerr := out.readCommon(rq); aerr != nil {
		return nil, aerr
	}
	src, aerr := s.resolveMedia(rq, spec)
	if aerr != nil {
		return nil, aerr
	}
	out.media = func(s *Server, b *bot, m *models.Message) { s.attachMediaLocked(b, m, spec, src, rq) }
	return s.commit(rq.bot, out)
}

// resolveMedia finds the media of a send: a multipart upload (the field
// itself or attach://<part>), an http(s) URL to fetch, or a file_id.
func (s *Server) resolveMedia(rq *request, spec mediaSpec) (mediaSource, *apiError) {
	v := strings.TrimSpace(rq.str(spec.kind))
	lower := strings.ToLower(v)
	var (
		up       Upload
		uploaded bool
	)
	switch {
	case v == "":
		up, uploaded = rq.files[spec.kind]
	case strings.HasPrefix(v, "attach://"):
		up, uploaded = rq.files[strings.TrimPrefix(v, "attach://")]
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return s.fetchMedia(rq.ctx, v, spec)
	default:
		s.mu.Lock()
		f := s.files[v]
		s.mu.Unlock()
		if f == nil || f.token != rq.bot.Token {
			return mediaSource{}, badRequest("wrong file identifier/HTTP URL specified")
		}
		if f.kind != "" && f.kind != spec.kind {
			return mediaSource{}, badRequest("type of file mismatch")
		}
		return mediaSource{existing: f}, nil
	}
	if !uploaded {
		return mediaSource{}, badRequest("there is no %s in the request", spec.kind)
	}
	if len(up.Data) == 0 {
		return mediaSource{}, badRequest("file must be non-empty")
	}
	if int64(len(up.Data)) > spec.maxUpload {
		if spec.kind == "photo" {
			return mediaSource{}, badRequest("PHOTO_SAVE_FILE_INVALID")
		}
		return mediaSource{}, errEntityTooLarge
	}
	return mediaSource{data: up.Data, name: up.Filename, mimeType: contentType(up.ContentType, up.Filename, up.Data)}, nil
}

// contentType settles a file's MIME type from what the client said, its
// name, or its first bytes.
func contentType(declared, name string, data []byte) string {
	if mt, _, err := mime.ParseMediaType(declared); err == nil && mt != "application/octet-stream" {
		return mt
	}
	if mt := mime.TypeByExtension(path.Ext(name)); mt != "" {
		mt, _, _ = mime.ParseMediaType(mt)
		return mt
	}
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	return mt
}

// byURLDocuments are the only types sendDocument takes by URL.
var byURLDocuments = map[string]bool{"application/pdf": true, "application/zip": true, "image/gif": true}

// fetchMedia fetches media sent by URL, applying Telegram's limits: 5 MB for
// photos, 20 MB for anything else, and only GIF, PDF or ZIP as a document.
func (s *Server) fetchMedia(ctx context.Context, rawURL string, spec mediaSpec) (mediaSource, *apiError) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return mediaSource{}, badRequest("wrong HTTP URL specified")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return mediaSource{}, badRequest("wrong HTTP URL specified")
	}
	resp, err := s.fetcher.Do(req)
	if err != nil {
		return mediaSource{}, badRequest("failed to get HTTP URL content")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return mediaSource{}, badRequest("failed to get HTTP URL content")
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, spec.maxByURL+1))
	if err != nil || len(data) == 0 || int64(len(data)) > spec.maxByURL {
		return mediaSource{}, badRequest("failed to get HTTP URL content")
	}
	name := path.Base(u.Path)
	mt := contentType(resp.Header.Get("Content-Type"), name, data)
	switch {
	case spec.kind == "photo" && !strings.HasPrefix(mt, "image/"),
		spec.kind == "document" && !byURLDocuments[mt]:
		return mediaSource{}, badRequest("wrong type of the web page content")
	}
	return mediaSource{data: data, name: name, mimeType: mt}, nil
}

// attachMediaLocked registers the media's new files and sets the message's
// media object, as Telegram describes what it received.
func (s *Server) attachMediaLocked(b *bot, m *models.Message, spec mediaSpec, src mediaSource, rq *request) {
	if spec.kind == "photo" {
		var sizes []*storedFile
		if src.existing != nil && src.existing.sizes != nil {
			sizes = src.existing.sizes
		} else if src.existing != nil {
			sizes = s.photoSizesLocked(b, src.existing.data, src.existing.size, src.existing.mimeType)
		} else {
			sizes = s.photoSizesLocked(b, src.data, int64(len(src.data)), src.mimeType)
		}
		m.Photo = photoSizes(sizes)
		return
	}
	f := src.existing
	if f == nil {
		f = s.newFileLocked(b, spec.kind, src.data, int64(len(src.data)), src.name, src.mimeType)
	}
	duration := int(rq.integer("duration", 0))
	width, height := int(rq.integer("width", 0)), int(rq.integer("height", 0))
	switch spec.kind {
	case "video":
		m.Video = &models.Video{FileID: f.id, FileUniqueID: f.uniqueID, Width: width, Height: height,
			Duration: duration, FileName: f.name, MimeType: f.mimeType, FileSize: f.size}
	case "audio":
		m.Audio = &models.Audio{FileID: f.id, FileUniqueID: f.uniqueID, Duration: duration,
			Performer: rq.str("performer"), Title: rq.str("title"), FileName: f.name, MimeType: f.mimeType, FileSize: f.size}
	case "voice":
		m.Voice = &models.Voice{FileID: f.id, FileUniqueID: f.uniqueID, Duration: duration, MimeType: f.mimeType, FileSize: f.size}
	case "document":
		m.Document = &models.Document{FileID: f.id, FileUniqueID: f.uniqueID, FileName: f.name, MimeType: f.mimeType, FileSize: f.size}
	case "sticker":
		ext := strings.ToLower(path.Ext(f.name))
		m.Sticker = &models.Sticker{FileID: f.id, FileUniqueID: f.uniqueID, Type: "regular", Width: 512, Height: 512,
			IsAnimated: ext == ".tgs", IsVideo: ext == ".webm", Emoji: rq.str("emoji"), FileSize: int(f.size)}
	case "animation":
		m.Animation = &models.Animation{FileID: f.id, FileUniqueID: f.uniqueID, Width: width, Height: height,
			Duration: duration, FileName: f.name, MimeType: f.mimeType, FileSize: f.size}
		// Telegram also describes an animation as a document, for old clients.
		m.Document = &models.Document{FileID: f.id, FileUniqueID: f.uniqueID, FileName: f.name, MimeType: f.mimeType, FileSize: f.size}
	}
}

// photoSizesLocked registers a photo as Telegram keeps one: the sizes it
// scales it to (90, 320, 800, 1280 and at most 2560 pixels on the longer
// side) up to the original. The sizes share the uploaded bytes; dimensions
// come from the image when it decodes, else a nominal 1280x960.
func (s *Server) photoSizesLocked(b *bot, data []byte, size int64, mimeType string) []*storedFile {
	w, h := 1280, 960
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width > 0 && cfg.Height > 0 {
		w, h = cfg.Width, cfg.Height
	}
	longest := max(w, h)
	var sizes []*storedFile
	add := func(side int) {
		f := s.newFileLocked(b, "photo", data, size, "photo.jpg", mimeType)
		f.width, f.height = w*side/longest, h*side/longest
		sizes = append(sizes, f)
	}
	for _, side := range []int{90, 320, 800, 1280} {
		if side < longest {
			add(side)
		}
	}
	add(min(longest, 2560))
	for _, f := range sizes {
		f.sizes = sizes
	}
	return sizes
}

func photoSizes(files []*storedFile) []models.PhotoSize {
	out := make([]models.PhotoSize, len(files))
	for i, f := range files {
		out[i] = models.PhotoSize{FileID: f.id, FileUniqueID: f.uniqueID, Width: f.width, Height: f.height, FileSize: int(f.size)}
	}
	return out
}
