package telegramtest

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"
)

// maxDownloadSize is the largest file getFile serves.
const maxDownloadSize = 20 << 20

// storedFile is a file the fake holds for one bot.
type storedFile struct {
	id, uniqueID string
	token        string
	kind         string // media kind it was sent as ("photo", "voice", ...); "" fits any
	path         string
	data         []byte // nil for a file registered by size only: served as zeros
	size         int64
	name         string
	mimeType     string
	width        int
	height       int
	sizes        []*storedFile // a photo's sizes, this one among them
}

// AddFile registers data as a file of the bot, as if a user had sent it, and
// returns its ids. getFile gives path as file_path (a path is made up when
// path is empty) and the file is downloaded from /file/bot<token>/<path>.
// The file_id can be sent with any send method.
func (s *Server) AddFile(token string, data []byte, path string) (fileID, fileUniqueID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFileLocked(s.mustBotLocked(token), "", data, int64(len(data)), path, "")
	return f.id, f.uniqueID
}

// AddBigFile registers a file of size bytes without allocating it, for
// files beyond getFile's 20 MB ("Bad Request: file is too big"). A smaller
// one downloads as size zero bytes.
func (s *Server) AddBigFile(token string, size int64, path string) (fileID, fileUniqueID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFileLocked(s.mustBotLocked(token), "", nil, size, path, "")
	return f.id, f.uniqueID
}

// newFileLocked registers a file under fresh ids. name is a path for
// AddFile, else the file's name, from which the path's extension comes.
func (s *Server) newFileLocked(b *bot, kind string, data []byte, size int64, name, mimeType string) *storedFile {
	s.fileSeq++
	seq := s.fileSeq
	var raw [17]byte
	raw[0] = byte(len(kind))
	binary.BigEndian.PutUint64(raw[1:], uint64(b.ID))
	binary.BigEndian.PutUint64(raw[9:], seq)
	var short [8]byte
	binary.BigEndian.PutUint64(short[:], seq)
	f := &storedFile{
		id:       "BQACAgIAAxkB" + base64.RawURLEncoding.EncodeToString(raw[:]),
		uniqueID: "AgAD" + base64.RawURLEncoding.EncodeToString(short[:]),
		token:    b.Token,
		kind:     kind,
		data:     data,
		size:     size,
		mimeType: mimeType,
	}
	if kind == "" && name != "" {
		f.path = strings.TrimPrefix(name, "/")
		f.name = path.Base(f.path)
	} else {
		f.name = name
		f.path = fmt.Sprintf("%s/file_%d%s", fileDir(kind), seq, fileExt(name, mimeType))
	}
	if f.path == "" {
		f.path = "documents/file_" + strconv.FormatUint(seq, 10)
	}
	if f.mimeType == "" {
		f.mimeType = mime.TypeByExtension(path.Ext(f.path))
	}
	s.files[f.id] = f
	s.filePaths[b.Token+"\x00"+f.path] = f
	return f
}

func fileDir(kind string) string {
	switch kind {
	case "photo":
		return "photos"
	case "video":
		return "videos"
	case "audio":
		return "music"
	case "voice":
		return "voice"
	case "sticker":
		return "stickers"
	case "animation":
		return "animations"
	}
	return "documents"
}

func fileExt(name, mimeType string) string {
	if ext := path.Ext(name); ext != "" && len(ext) <= 6 {
		return strings.ToLower(ext)
	}
	switch strings.ToLower(mimeType) {
	case "image/jpeg":
		return ".jpg"
	case "audio/ogg":
		return ".oga"
	case "audio/mpeg":
		return ".mp3"
	case "video/mp4":
		return ".mp4"
	}
	if exts, _ := mime.ExtensionsByType(mimeType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// getFile answers what a download needs: file_path, for files up to 20 MB
// that belong to the calling bot.
func (s *Server) getFile(rq *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[rq.str("file_id")]
	if f == nil || f.token != rq.bot.Token {
		return nil, badRequest("invalid file_id")
	}
	if f.size > maxDownloadSize {
		return nil, badRequest("file is too big")
	}
	return models.File{FileID: f.id, FileUniqueID: f.uniqueID, FileSize: f.size, FilePath: f.path}, nil
}

// serveDownload serves GET /file/bot<token>/<file_path>.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/file/bot")
	token, filePath, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	down := s.down
	f := s.filePaths[token+"\x00"+filePath]
	s.mu.Unlock()
	switch {
	case down:
		writeAPIError(w, errBadGateway)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		writeAPIError(w, errNotFound)
		return
	case f == nil || f.size > maxDownloadSize:
		writeAPIError(w, errNotFound)
		return
	}
	ct := f.mimeType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(f.size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if f.data != nil {
		_, _ = w.Write(f.data)
		return
	}
	_, _ = io.CopyN(w, zeros{}, f.size)
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
