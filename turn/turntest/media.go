package turntest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/turn-telegram/turn-telegram/turn"
)

// DefaultMediaTTL is how long HostMedia links stay valid, like the signed
// links in Turn's media messages.
const DefaultMediaTTL = 2 * time.Minute

type mediaFile struct {
	data     []byte
	mimeType string
	revoked  bool
}

// HostMedia serves data with mimeType behind a signed link,
// {URL}/uploads/<random>?expires=<unix>&sig=<hmac>, valid for the media TTL.
// A fetch after expiry or with any part of the link changed gets 403.
func (s *Server) HostMedia(data []byte, mimeType string) string {
	name := randomHex(16)
	s.mu.Lock()
	s.media[name] = &mediaFile{data: append([]byte(nil), data...), mimeType: mimeType}
	expires := time.Now().Add(s.mediaTTL).Unix()
	s.mu.Unlock()
	return fmt.Sprintf("%s/uploads/%s?expires=%d&sig=%s", s.URL, name, expires, s.mediaSig(name, expires))
}

// SetMediaTTL sets how long links from later HostMedia calls stay valid;
// d <= 0 gives links that are already expired.
func (s *Server) SetMediaTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mediaTTL = d
}

// ExpireMedia makes every link handed out so far expire now.
func (s *Server) ExpireMedia() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.media {
		f.revoked = true
	}
}

// MediaFetches returns how many media downloads (GET) were served.
func (s *Server) MediaFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mediaFetches
}

func (s *Server) mediaSig(name string, expires int64) string {
	mac := hmac.New(sha256.New, s.mediaKey)
	fmt.Fprintf(mac, "%s\n%d", name, expires)
	return hex.EncodeToString(mac.Sum(nil))
}

func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig, sigErr := hex.DecodeString(q.Get("sig"))
	want, _ := hex.DecodeString(s.mediaSig(name, expires))
	if err != nil || sigErr != nil || !hmac.Equal(sig, want) {
		turn.WriteError(w, http.StatusForbidden, map[string]any{"sig": []string{invalid}})
		return
	}
	s.mu.Lock()
	f := s.media[name]
	expired := f != nil && (f.revoked || time.Now().Unix() >= expires)
	if f != nil && !expired && r.Method == http.MethodGet {
		s.mediaFetches++
	}
	s.mu.Unlock()
	switch {
	case f == nil:
		turn.WriteError(w, http.StatusNotFound, map[string]any{"file": []string{"does not exist"}})
	case expired:
		turn.WriteError(w, http.StatusForbidden, map[string]any{"link": []string{"has expired"}})
	default:
		w.Header().Set("Content-Type", f.mimeType)
		w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
		_, _ = w.Write(f.data)
	}
}
