package bot_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// TestMediaLinkRefusedAtAcceptance: a media link that is not http(s) with a
// host is refused with 400 in Turn's error shape, and nothing is stored.
func TestMediaLinkRefusedAtAcceptance(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		for _, link := range []string{
			"file:///etc/passwd", "ftp://example.com/a.jpg", "gopher://example.com:70/1",
			"http:///no-host.jpg", "/relative.jpg", "https//missing-colon.example/a.jpg",
		} {
			resp, body := h.sendTurn(mediaPayload(chatID, "image", link, "image/jpeg", ""))
			var e struct {
				Errors map[string][]string `json:"errors"`
			}
			if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || len(e.Errors["media"]) != 1 {
				t.Errorf("%s: %d %s, want 400 naming media", link, resp.StatusCode, body)
			}
		}
		if n := len(h.jobs(store.KindOutbound, store.StatePending)) + len(h.jobs(store.KindFetch, store.StatePending)); n != 0 {
			t.Errorf("%d jobs stored for refused links", n)
		}
	})
}

// TestToMustBeChatID: "+1234" is a phone number, not Telegram chat 1234.
func TestToMustBeChatID(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		for _, to := range []string{"+1234", "12a", "", "0"} {
			p := strings.Replace(string(textPayload(chatID, "hi")), `"to":"`+strconv.FormatInt(chatID, 10)+`"`, `"to":"`+to+`"`, 1)
			resp, body := h.sendTurn([]byte(p))
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"to"`) {
				t.Errorf("to %q: %d %s, want 400 naming to", to, resp.StatusCode, body)
			}
		}
		// A group's negative id is a chat id.
		h.sendTurnOK(textPayload(-1001234567890, "hello group"))
	})
}

// TestMediaFetchRefusesInternalAddresses: a signed message whose media
// link points inside (here loopback, not allowed) is accepted, never
// fetched, and fails for good: Turn hears "failed", the dead letter says
// why, and no retry storm follows.
func TestMediaFetchRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true, mediaAllowed: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}})
		h.turn.AcceptFailed(true)
		inside := newLinkServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("secret metrics")) })
		id := h.sendTurnOK(mediaPayload(chatID, "document", inside.URL+"/metrics", "text/plain", "m.txt"))
		h.waitStatus(t, id, turn.StatusFailed)
		if n := inside.requests.Load(); n != 0 {
			t.Errorf("the internal server got %d requests", n)
		}
		dead := h.jobs(store.KindFetch, store.StateDead)
		if len(dead) != 1 || !strings.Contains(dead[0].LastError, "not public") || dead[0].Attempts != 1 {
			t.Errorf("dead fetch jobs %+v, want one, after one attempt, saying the address is not public", dead)
		}
		if n := h.sendAttempts(chatID); n != 0 {
			t.Errorf("%d sends of a message whose media was refused", n)
		}
	})
}

// TestMediaFetchRefusesRedirectInside: an allowed address that redirects
// to one that is not allowed is refused at the redirect.
func TestMediaFetchRefusesRedirectInside(t *testing.T) {
	// Its stores one after the other: one redirecting server serves both.
	t.Parallel()
	inside := newLinkServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("secret")) })
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	var redirects int
	outside := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		redirects++
		http.Redirect(w, r, inside.URL+"/secret", http.StatusFound)
	}))
	outside.Listener.Close()
	outside.Listener = ln
	outside.Start()
	defer outside.Close()
	eachStoreSerial(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true, mediaAllowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
		h.turn.AcceptFailed(true)
		id := h.sendTurnOK(mediaPayload(chatID, "image", outside.URL+"/photo.jpg", "image/jpeg", ""))
		h.waitStatus(t, id, turn.StatusFailed)
		if n := inside.requests.Load(); n != 0 {
			t.Errorf("the redirect reached the internal server %d times", n)
		}
	})
	if redirects == 0 {
		t.Error("the allowed server was never asked: the test did not exercise a redirect")
	}
}
