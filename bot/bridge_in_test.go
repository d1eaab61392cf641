package bot_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/bot/telegramtest"
	"github.com/turn-telegram/turn-telegram/store"
	"github.com/turn-telegram/turn-telegram/turn"
)

// TestInboundEndToEnd sends every kind of Telegram message through both
// update sources into the fake Turn and checks what Turn receives, media
// links included: fetchable, same bytes, right sha256 and type, no token.
func TestInboundEndToEnd(t *testing.T) {
	t.Parallel()
	photo := []byte("\xff\xd8\xff\xe0 fake jpeg bytes for the photo")
	voice := []byte("OggS fake opus voice note")
	video := []byte("fake mp4 video bytes")
	doc := []byte("%PDF-1.4 fake pdf")
	sticker := []byte("RIFF fake webp sticker")
	type tc struct {
		name     string
		update   func(tg *telegramtest.Server) models.Update
		wantType string
		check    func(t *testing.T, h *harness, m turn.InboundMessage)
	}
	media := func(data []byte, mime string, get func(m turn.InboundMessage) *turn.Media) func(t *testing.T, h *harness, m turn.InboundMessage) {
		return func(t *testing.T, h *harness, m turn.InboundMessage) {
			md := get(m)
			if md == nil {
				t.Fatalf("no media object in %+v", m)
			}
			if md.MimeType != mime {
				t.Errorf("mime_type %q, want %q", md.MimeType, mime)
			}
			sum := sha256.Sum256(data)
			if md.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("sha256 %q is not the file's", md.SHA256)
			}
			h.checkLink(t, md.Link, data, mime)
		}
	}
	cases := []tc{
		{"text", func(*telegramtest.Server) models.Update {
			return telegramtest.UserText(chatID, "Ada", "Lovelace", "Hello there")
		}, "text", func(t *testing.T, _ *harness, m turn.InboundMessage) {
			if m.Text == nil || m.Text.Body != "Hello there" {
				t.Errorf("text %+v", m.Text)
			}
		}},
		{"start command", func(*telegramtest.Server) models.Update {
			return telegramtest.UserText(chatID, "Ada", "Lovelace", "/start campaign42")
		}, "text", func(t *testing.T, _ *harness, m turn.InboundMessage) {
			if m.Text == nil || m.Text.Body != "/start campaign42" {
				t.Errorf("text %+v", m.Text)
			}
		}},
		{"photo", func(tg *telegramtest.Server) models.Update {
			return tg.UserPhoto(botToken, chatID, "Ada", "Lovelace", photo, "a sunset")
		}, "image", func(t *testing.T, h *harness, m turn.InboundMessage) {
			media(photo, "image/jpeg", func(m turn.InboundMessage) *turn.Media { return m.Image })(t, h, m)
			if m.Image.Caption != "a sunset" {
				t.Errorf("caption %q", m.Image.Caption)
			}
		}},
		{"voice", func(tg *telegramtest.Server) models.Update {
			return tg.UserVoice(botToken, chatID, "Ada", "Lovelace", voice, 3)
		}, "audio", media(voice, "audio/ogg", func(m turn.InboundMessage) *turn.Media { return m.Audio })},
		{"video", func(tg *telegramtest.Server) models.Update {
			return tg.UserVideo(botToken, chatID, "Ada", "Lovelace", video, "clip")
		}, "video", media(video, "video/mp4", func(m turn.InboundMessage) *turn.Media { return m.Video })},
		{"document", func(tg *telegramtest.Server) models.Update {
			return tg.UserDocument(botToken, chatID, "Ada", "Lovelace", doc, "report.pdf", "application/pdf", "")
		}, "document", func(t *testing.T, h *harness, m turn.InboundMessage) {
			media(doc, "application/pdf", func(m turn.InboundMessage) *turn.Media { return m.Document })(t, h, m)
			if m.Document.Filename != "report.pdf" {
				t.Errorf("filename %q", m.Document.Filename)
			}
		}},
		{"sticker", func(tg *telegramtest.Server) models.Update {
			return tg.UserSticker(botToken, chatID, "Ada", "Lovelace", sticker, "👍")
		}, "sticker", media(sticker, "image/webp", func(m turn.InboundMessage) *turn.Media { return m.Sticker })},
		{"location", func(*telegramtest.Server) models.Update {
			return telegramtest.UserLocation(chatID, "Ada", "Lovelace", 51.500729, -0.124625)
		}, "text", func(t *testing.T, _ *harness, m turn.InboundMessage) {
			if m.Text == nil || !strings.Contains(m.Text.Body, "51.500729,-0.124625") {
				t.Errorf("location text %+v", m.Text)
			}
		}},
		{"contact", func(*telegramtest.Server) models.Update {
			return telegramtest.UserContact(chatID, "Ada", "Lovelace", "+447700900123")
		}, "text", func(t *testing.T, _ *harness, m turn.InboundMessage) {
			if m.Text == nil || !strings.Contains(m.Text.Body, "+447700900123") {
				t.Errorf("contact text %+v", m.Text)
			}
		}},
	}
	for _, polling := range []bool{false, true} {
		source := map[bool]string{false: "webhook", true: "polling"}[polling]
		t.Run(source, func(t *testing.T) {
			eachStore(t, func(t *testing.T, st store.Store) {
				h := newHarness(t, st, harnessOpts{unpaced: true, polling: polling})
				for i, c := range cases {
					t.Run(c.name, func(t *testing.T) {
						upd := c.update(h.tg)
						if id := h.tg.PushUpdate(botToken, upd); id == 0 {
							t.Fatal("fake refused the update")
						}
						got, err := h.turn.WaitMessages(ctxT(t), numberID, i+1)
						if err != nil {
							t.Fatal(err)
						}
						m := got[i]
						if m.Message.Type != c.wantType {
							t.Fatalf("type %q, want %q (%+v)", m.Message.Type, c.wantType, m.Message)
						}
						if m.Contact.ID != fmt.Sprint(chatID) || m.Message.From != fmt.Sprint(chatID) {
							t.Errorf("contact %q from %q, want the chat id", m.Contact.ID, m.Message.From)
						}
						if m.Contact.Profile.Name != "Ada Lovelace" {
							t.Errorf("profile name %q", m.Contact.Profile.Name)
						}
						if !strings.HasPrefix(m.Message.ID, "tg:") || m.Message.Timestamp == "" {
							t.Errorf("id %q timestamp %q", m.Message.ID, m.Message.Timestamp)
						}
						c.check(t, h, m.Message)
					})
				}
				if n := len(h.turn.Messages(numberID)); n != len(cases) {
					t.Errorf("turn received %d messages, want exactly %d", n, len(cases))
				}
			})
		})
	}
}

// checkLink fetches a media link as Turn would.
func (h *harness) checkLink(t *testing.T, link string, want []byte, mime string) {
	t.Helper()
	if !strings.HasPrefix(link, h.srv.URL+"/media/") {
		t.Fatalf("link %q does not point at the service", link)
	}
	if strings.Contains(link, botToken) || strings.Contains(link, strings.Split(botToken, ":")[1]) {
		t.Fatalf("link %q contains the bot token", link)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET link: %d %s", resp.StatusCode, body)
	}
	if string(body) != string(want) {
		t.Errorf("link served %q, want the file's bytes", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != mime {
		t.Errorf("Content-Type %q, want %q", ct, mime)
	}
}

func TestMediaLinkRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storeFor(t), harnessOpts{unpaced: true, linkTTL: time.Second})
	h.tg.PushUpdate(botToken, h.tg.UserPhoto(botToken, chatID, "Ada", "", []byte("jpeg"), ""))
	got, err := h.turn.WaitMessages(ctxT(t), numberID, 1)
	if err != nil {
		t.Fatal(err)
	}
	link := got[0].Message.Image.Link
	token := strings.TrimPrefix(link, h.srv.URL+"/media/")
	payload, sig, _ := strings.Cut(token, ".")
	tampered := h.srv.URL + "/media/" + payload + "." + strings.Repeat("A", len(sig))
	otherPayload := h.srv.URL + "/media/" + strings.ToUpper(payload[:4]) + payload[4:] + "." + sig
	for _, c := range []struct {
		name string
		url  string
		want int
	}{
		{"tampered signature", tampered, http.StatusForbidden},
		{"tampered payload", otherPayload, http.StatusForbidden},
		{"garbage", h.srv.URL + "/media/not-a-token", http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(c.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
	time.Sleep(2100 * time.Millisecond)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("expired link: status %d, want 410", resp.StatusCode)
	}
}

func TestTelegramWebhookAuthAndBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storeFor(t), harnessOpts{unpaced: true})
	u := telegramtest.UserText(chatID, "Ada", "", "hi")
	u.ID, u.Message.ID, u.Message.Date = 777, 31, int(time.Now().Unix())
	good := mustJSON(u)
	secret := h.ch.WebhookSecret()
	big := append([]byte(`{"update_id":1,"message":{"text":"`), make([]byte, 1<<20)...)
	for _, c := range []struct {
		name   string
		body   []byte
		secret string
		want   int
	}{
		{"no secret", good, "", http.StatusUnauthorized},
		{"wrong secret", good, secret + "x", http.StatusUnauthorized},
		{"malformed json", []byte(`{"update_id": 1, "message": {`), secret, http.StatusBadRequest},
		{"not an update", []byte(`{"hello":"world"}`), secret, http.StatusBadRequest},
		{"too large", big, secret, http.StatusRequestEntityTooLarge},
		{"unknown kind", []byte(`{"update_id":900,"poll":{"id":"1","question":"?","options":[],"total_voter_count":0,"is_closed":false,"is_anonymous":true,"type":"regular","allows_multiple_answers":false}}`), secret, http.StatusOK},
		{"group message", mustJSON(telegramtest.GroupText(-100123, chatID, "Group", "Ada", "", "hi all")), secret, http.StatusOK},
		{"edited message", []byte(`{"update_id":901,"edited_message":{"message_id":5,"date":1700000000,"edit_date":1700000100,"chat":{"id":424242,"type":"private","first_name":"Ada"},"from":{"id":424242,"is_bot":false,"first_name":"Ada"},"text":"edited"}}`), secret, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			if resp := h.postTelegram(c.body, c.secret); resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
	if js := h.jobs(store.KindUpdate, ""); len(js) != 0 {
		t.Fatalf("refused or skipped updates were stored: %+v", js)
	}
	// The same update twice (Telegram redelivering) reaches Turn once.
	for range 2 {
		if resp := h.postTelegram(good, secret); resp.StatusCode != 200 {
			t.Fatalf("good update: %d", resp.StatusCode)
		}
	}
	if _, err := h.turn.WaitMessages(ctxT(t), numberID, 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(h.turn.Messages(numberID)); n != 1 {
		t.Errorf("turn received %d messages for one update posted twice", n)
	}
}

// TestInboundResumesInOrder: Turn is down while a person writes; everything
// arrives afterwards, once each, in the order written.
func TestInboundResumesInOrder(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true, polling: true})
		h.turn.SetDown(true)
		const n = 12
		for i := range n {
			h.tg.PushUpdate(botToken, telegramtest.UserText(chatID, "Ada", "", fmt.Sprintf("message %d", i)))
		}
		other := chatID + 1
		h.tg.PushUpdate(botToken, telegramtest.UserText(other, "Bob", "", "other chat"))
		deadline := time.Now().Add(5 * time.Second)
		for len(h.jobs(store.KindUpdate, store.StatePending)) < n+1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // several failed attempts
		if got := len(h.turn.Messages(numberID)); got != 0 {
			t.Fatalf("turn is down but recorded %d messages", got)
		}
		h.turn.SetDown(false)
		got, err := h.turn.WaitMessages(ctxT(t), numberID, n+1)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		got = h.turn.Messages(numberID)
		if len(got) != n+1 {
			t.Fatalf("turn received %d messages, want exactly %d", len(got), n+1)
		}
		next := 0
		for _, m := range got {
			if m.Contact.ID != fmt.Sprint(chatID) {
				continue
			}
			if want := fmt.Sprintf("message %d", next); m.Message.Text.Body != want {
				t.Fatalf("out of order: got %q, want %q", m.Message.Text.Body, want)
			}
			next++
		}
	})
}

// TestInboundPermanentFailure: a 4xx Turn will never accept ends dead, with
// its reason visible, and does not block the chat's next message.
func TestInboundPermanentFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storeFor(t), harnessOpts{unpaced: true})
	h.turn.FailNext(1, http.StatusUnprocessableEntity, 0)
	h.tg.PushUpdate(botToken, telegramtest.UserText(chatID, "Ada", "", "first"))
	h.tg.PushUpdate(botToken, telegramtest.UserText(chatID, "Ada", "", "second"))
	got, err := h.turn.WaitMessages(ctxT(t), numberID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Message.Text.Body != "second" {
		t.Errorf("got %q", got[0].Message.Text.Body)
	}
	dead := h.jobs(store.KindUpdate, store.StateDead)
	if len(dead) != 1 || !strings.Contains(dead[0].LastError, "422") {
		t.Fatalf("dead jobs %+v, want one with Turn's 422", dead)
	}
}

func TestInboundTooBigFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storeFor(t), harnessOpts{unpaced: true})
	id, uid := h.tg.AddBigFile(botToken, 30<<20, "videos/big.mp4")
	upd := telegramtest.UserMessage(chatID, "Ada", "", models.Message{
		Video:   &models.Video{FileID: id, FileUniqueID: uid, FileSize: 30 << 20, FileName: "big.mp4", MimeType: "video/mp4", Width: 1, Height: 1, Duration: 1},
		Caption: "watch this",
	})
	h.tg.PushUpdate(botToken, upd)
	got, err := h.turn.WaitMessages(ctxT(t), numberID, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0].Message
	if m.Type != "text" || !strings.Contains(m.Text.Body, "too large") || !strings.Contains(m.Text.Body, "watch this") {
		t.Errorf("too-big video reached Turn as %+v", m)
	}
}

func storeFor(t *testing.T) store.Store {
	return storetestSQLite(t)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestInboundFileTelegramRefuses: a media message whose file Telegram will
// not serve for another reason than its size (here a file_id it does not
// know, as in a replayed fixture) reaches Turn as a text saying so, never as
// "too large: 0.0 MB"; a file too big to download whose size the update
// did not give says "over 20 MB".
func TestInboundFileTelegramRefuses(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, st store.Store) {
		h := newHarness(t, st, harnessOpts{unpaced: true})
		body, err := os.ReadFile("testdata/updates/sticker_static.json")
		if err != nil {
			t.Fatal(err)
		}
		if resp := h.postTelegram(body, h.ch.WebhookSecret()); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		got := h.waitTurnMessages(t, 1)
		m := got[0].Message
		if m.Type != "text" || m.Text.Body != "[sticker could not be forwarded: Telegram did not serve the file]" {
			t.Errorf("an unknown file reached Turn as %+v %+v", m, m.Text)
		}

		id, uid := h.tg.AddBigFile(botToken, 30<<20, "documents/big.pdf")
		h.tg.PushUpdate(botToken, telegramtest.UserMessage(chatID, "Ada", "", models.Message{
			Document: &models.Document{FileID: id, FileUniqueID: uid, FileName: "big.pdf", MimeType: "application/pdf"},
		}))
		got = h.waitTurnMessages(t, 2)
		if m := got[1].Message; m.Text == nil || m.Text.Body != "[document too large to forward: big.pdf, over 20 MB]" {
			t.Errorf("a big file of unknown size reached Turn as %+v", m)
		}
	})
}
