package telegramtest_test

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
)

func download(t *testing.T, srv *telegramtest.Server, tok, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/file/bot" + tok + "/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// Upload with go-telegram/bot, re-send by file_id, fetch with getFile.
func TestUploadReuseAndDownload(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	client := newClient(t, srv, token)
	doc := []byte("%PDF-1.4 invoice")
	m, err := client.SendDocument(ctxT(t), &tgbot.SendDocumentParams{
		ChatID:   chat,
		Document: &models.InputFileUpload{Filename: "invoice.pdf", Data: bytes.NewReader(doc)},
		Caption:  "Invoice", CaptionEntities: []models.MessageEntity{{Type: models.MessageEntityTypeBold, Offset: 0, Length: 7}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Document == nil || m.Document.FileName != "invoice.pdf" || m.Document.MimeType != "application/pdf" ||
		m.Document.FileSize != int64(len(doc)) || m.Caption != "Invoice" || len(m.CaptionEntities) != 1 {
		t.Fatalf("message = %+v, document %+v", m, m.Document)
	}
	calls := srv.CallsTo("sendDocument")
	if up := calls[0].Files["document"]; up.Filename != "invoice.pdf" || !bytes.Equal(up.Data, doc) {
		t.Errorf("recorded upload = %+v", up)
	}

	again, err := client.SendDocument(ctxT(t), &tgbot.SendDocumentParams{ChatID: chat + 1, Document: &models.InputFileString{Data: m.Document.FileID}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Document.FileID != m.Document.FileID || again.Document.FileUniqueID != m.Document.FileUniqueID {
		t.Errorf("re-sent document = %+v", again.Document)
	}

	f, err := client.GetFile(ctxT(t), &tgbot.GetFileParams{FileID: m.Document.FileID})
	if err != nil {
		t.Fatal(err)
	}
	if f.FileSize != int64(len(doc)) || !strings.HasPrefix(f.FilePath, "documents/") {
		t.Errorf("file = %+v", f)
	}
	if code, body := download(t, srv, token, f.FilePath); code != 200 || !bytes.Equal(body, doc) {
		t.Errorf("download = %d %q", code, body)
	}
	if link := client.FileDownloadLink(f); !strings.HasPrefix(link, srv.URL+"/file/bot"+token+"/") {
		t.Errorf("go-telegram's download link %q does not point at the fake", link)
	}

	// file_ids belong to their bot.
	other := newClient(t, srv, otherToken)
	if _, err := other.GetFile(ctxT(t), &tgbot.GetFileParams{FileID: m.Document.FileID}); !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "invalid file_id") {
		t.Errorf("other bot's getFile: %v", err)
	}
	_, err = other.SendDocument(ctxT(t), &tgbot.SendDocumentParams{ChatID: chat, Document: &models.InputFileString{Data: m.Document.FileID}})
	if err == nil || !strings.Contains(err.Error(), "wrong file identifier/HTTP URL specified") {
		t.Errorf("other bot's send: %v", err)
	}
	if code, _ := download(t, srv, otherToken, f.FilePath); code != 404 {
		t.Errorf("download with another bot's token: %d", code)
	}
	if code, _ := download(t, srv, token, "documents/nope.pdf"); code != 404 {
		t.Errorf("download of an unknown path: %d", code)
	}
}

func TestPhotoUploadAndResend(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	img := pngImage(t, 640, 480)
	a := callForm(t, srv, token, "sendPhoto", map[string]string{"chat_id": "4242", "caption": "hi"},
		map[string]telegramtest.Upload{"photo": {Filename: "p.png", Data: img}})
	m := a.message(t)
	if len(m.Photo) != 3 || m.Photo[2].Width != 640 || m.Photo[2].Height != 480 || m.Caption != "hi" {
		t.Fatalf("photo = %+v", m.Photo)
	}
	// Any size's file_id re-sends the photo, and attach:// names an upload.
	resent := callForm(t, srv, token, "sendPhoto", map[string]string{"chat_id": "4242", "photo": m.Photo[0].FileID}, nil).message(t)
	if len(resent.Photo) != 3 || resent.Photo[2].FileID != m.Photo[2].FileID {
		t.Errorf("re-sent photo = %+v", resent.Photo)
	}
	attached := callForm(t, srv, token, "sendPhoto", map[string]string{"chat_id": "4242", "photo": "attach://pic"},
		map[string]telegramtest.Upload{"pic": {Filename: "p.png", Data: img}})
	if !attached.OK {
		t.Errorf("attach://: %s", attached.Description)
	}
}

func TestMediaRejections(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	voice := srv.UserVoice(token, chat, "Ann", "", []byte("OggS"), 1).Message.Voice.FileID
	anyFile, _ := srv.AddFile(token, []byte("data"), "documents/x.bin")
	big := bytes.Repeat([]byte{1}, 10<<20+1)
	tests := []struct {
		name   string
		method string
		fields map[string]string
		files  map[string]telegramtest.Upload
		code   int
		desc   string
	}{
		{"no media", "sendPhoto", map[string]string{"chat_id": "1"}, nil, 400, "Bad Request: there is no photo in the request"},
		{"missing attach part", "sendVoice", map[string]string{"chat_id": "1", "voice": "attach://v"}, nil, 400, "Bad Request: there is no voice in the request"},
		{"unknown file_id", "sendVideo", map[string]string{"chat_id": "1", "video": "BAACAgIAAxkBAAM"}, nil, 400, "Bad Request: wrong file identifier/HTTP URL specified"},
		{"voice file_id as photo", "sendPhoto", map[string]string{"chat_id": "1", "photo": voice}, nil, 400, "Bad Request: type of file mismatch"},
		{"empty upload", "sendDocument", map[string]string{"chat_id": "1"}, map[string]telegramtest.Upload{"document": {Filename: "a.txt"}}, 400, "Bad Request: file must be non-empty"},
		{"photo over 10 MB", "sendPhoto", map[string]string{"chat_id": "1"}, map[string]telegramtest.Upload{"photo": {Filename: "a.jpg", Data: big}}, 400, "Bad Request: PHOTO_SAVE_FILE_INVALID"},
		{"caption over 1024", "sendAudio", map[string]string{"chat_id": "1", "audio": anyFile, "caption": strings.Repeat("c", 1025)}, nil, 400, "Bad Request: message caption is too long"},
		{"caption entities", "sendVoice", map[string]string{"chat_id": "1", "voice": voice, "caption": "c", "caption_entities": `[{"type":"bold","offset":0,"length":2}]`}, nil, 400, "Bad Request: can't parse entities: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, callForm(t, srv, token, tt.method, tt.fields, tt.files), tt.code, tt.desc)
		})
	}
	// The same 10 MB is fine as a document, and AddFile's files go anywhere.
	ok := []struct {
		method string
		fields map[string]string
		files  map[string]telegramtest.Upload
	}{
		{"sendDocument", map[string]string{"chat_id": "1"}, map[string]telegramtest.Upload{"document": {Filename: "a.bin", Data: big}}},
		{"sendAudio", map[string]string{"chat_id": "1", "audio": anyFile, "title": "Song", "duration": "61"}, nil},
		{"sendAnimation", map[string]string{"chat_id": "1", "animation": anyFile}, nil},
		{"sendSticker", map[string]string{"chat_id": "1", "sticker": anyFile, "emoji": "👍"}, nil},
		{"sendVoice", map[string]string{"chat_id": "1", "voice": voice, "caption": "note", "caption_entities": `[{"type":"italic","offset":0,"length":4}]`}, nil},
	}
	for _, tt := range ok {
		m := callForm(t, srv, token, tt.method, tt.fields, tt.files).message(t)
		if m.Document == nil && m.Audio == nil && m.Sticker == nil && m.Voice == nil {
			t.Errorf("%s: message without media: %+v", tt.method, m)
		}
	}
}

func TestUploadOver50MB(t *testing.T) {
	srv := newServer(t)
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		_ = w.WriteField("chat_id", "1")
		part, _ := w.CreateFormFile("video", "v.mp4")
		_, _ = io.CopyN(part, zeroReader{}, 50<<20+1)
		_ = w.Close()
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, apiURL(srv, token, "sendVideo"), pr)
	req.Header.Set("Content-Type", w.FormDataContentType())
	wantError(t, do(t, req), 413, "Request Entity Too Large")
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestBigFiles(t *testing.T) {
	srv := newServer(t)
	bigID, _ := srv.AddBigFile(token, 20<<20+1, "videos/big.mp4")
	wantError(t, callForm(t, srv, token, "getFile", map[string]string{"file_id": bigID}, nil), 400, "Bad Request: file is too big")
	if code, _ := download(t, srv, token, "videos/big.mp4"); code != 404 {
		t.Errorf("a file over 20 MB downloads: %d", code)
	}
	smallID, _ := srv.AddBigFile(token, 20<<20, "videos/limit.mp4")
	a := callForm(t, srv, token, "getFile", map[string]string{"file_id": smallID}, nil)
	if !a.OK {
		t.Fatalf("getFile of exactly 20 MB: %s", a.Description)
	}
	if code, body := download(t, srv, token, "videos/limit.mp4"); code != 200 || len(body) != 20<<20 {
		t.Errorf("download = %d, %d bytes", code, len(body))
	}
}

// Media by URL: the fake fetches it, with Telegram's limits.
func TestMediaByURL(t *testing.T) {
	srv := newServer(t)
	srv.SetRateLimits(telegramtest.RateLimits{Disabled: true})
	img := pngImage(t, 100, 50)
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pic.png":
			_, _ = w.Write(img)
		case "/huge.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = io.CopyN(w, zeroReader{}, 5<<20+1)
		case "/page.html":
			_, _ = w.Write([]byte("<html><body>hi</body></html>"))
		case "/doc.pdf":
			_, _ = w.Write([]byte("%PDF-1.4 doc"))
		case "/anim.gif":
			_, _ = w.Write([]byte("GIF89a...."))
		case "/long.mp4":
			w.Header().Set("Content-Type", "video/mp4")
			_, _ = io.CopyN(w, zeroReader{}, 20<<20+1)
		default:
			http.NotFound(w, r)
		}
	}))
	defer media.Close()
	tests := []struct {
		method, field, path string
		desc                string // "" when accepted
	}{
		{"sendPhoto", "photo", "/pic.png", ""},
		{"sendPhoto", "photo", "/huge.jpg", "Bad Request: failed to get HTTP URL content"},
		{"sendPhoto", "photo", "/page.html", "Bad Request: wrong type of the web page content"},
		{"sendPhoto", "photo", "/missing.png", "Bad Request: failed to get HTTP URL content"},
		{"sendDocument", "document", "/doc.pdf", ""},
		{"sendDocument", "document", "/anim.gif", ""},
		{"sendDocument", "document", "/pic.png", "Bad Request: wrong type of the web page content"},
		{"sendDocument", "document", "/page.html", "Bad Request: wrong type of the web page content"},
		{"sendVideo", "video", "/long.mp4", "Bad Request: failed to get HTTP URL content"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			a := callForm(t, srv, token, tt.method, map[string]string{"chat_id": "1", tt.field: media.URL + tt.path}, nil)
			if tt.desc != "" {
				wantError(t, a, 400, tt.desc)
				return
			}
			m := a.message(t)
			if m.Photo != nil && m.Photo[len(m.Photo)-1].Width != 100 {
				t.Errorf("photo = %+v", m.Photo)
			}
		})
	}
}
