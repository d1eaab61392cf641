package bot

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Media serves GET /media/{token}: a signed, expiring link to an inbound
// file, given to Turn instead of Telegram's download URL (which contains the
// bot token). The file is streamed from Telegram on each fetch.
func (s *Service) Media(w http.ResponseWriter, r *http.Request, token string) {
	key, err := peekLinkChannel(token)
	if err != nil {
		writeProblem(w, http.StatusForbidden, "invalid media link")
		return
	}
	ch, ok := s.Channel(key)
	if !ok {
		writeProblem(w, http.StatusNotFound, "unknown channel")
		return
	}
	c, err := verifyLink(ch.linkKey, token, time.Now())
	switch {
	case errors.Is(err, errLinkExpired):
		writeProblem(w, http.StatusGone, "media link expired")
		return
	case err != nil:
		writeProblem(w, http.StatusForbidden, "invalid media link")
		return
	}
	f, err := ch.TG.Open(r.Context(), c.FileID)
	if err != nil {
		ch.log.Warn("media link: telegram file unavailable", "err", ch.TG.Scrub(err))
		var api *APIError
		if errors.As(err, &api) && api.Code >= 400 && api.Code < 500 && api.Code != http.StatusTooManyRequests {
			writeProblem(w, http.StatusNotFound, "file no longer available")
			return
		}
		writeProblem(w, http.StatusBadGateway, "telegram unavailable")
		return
	}
	defer f.Body.Close()
	h := w.Header()
	ct := c.MimeType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=300")
	if c.Filename != "" {
		h.Set("Content-Disposition", `attachment; filename="`+sanitizeFilename(c.Filename)+`"`)
	}
	if f.Size > 0 {
		h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	}
	if r.Method == http.MethodHead {
		return
	}
	if err := copyPaced(w, f.Body, mediaWriteIdle); err != nil {
		ch.log.Warn("media link: copy interrupted", "err", ch.TG.Scrub(err))
	}
}

// mediaWriteIdle is how long one piece of a media link's body may take to
// be written: a reader slower than 32 KiB per this is cut, so slow readers
// cannot hold connections and buffers for as long as they like.
var mediaWriteIdle = 30 * time.Second

// copyPaced copies src to w, giving each piece of 32 KiB its own write
// deadline (the server's WriteTimeout would cut a large file however fast
// it is read).
func copyPaced(w http.ResponseWriter, src io.Reader, idle time.Duration) error {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if err := rc.SetWriteDeadline(time.Now().Add(idle)); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return err
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

func sanitizeFilename(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r == 0x7f {
			r = '_'
		}
		out = append(out, r)
	}
	return string(out)
}
