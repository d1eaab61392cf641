package bot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/turn"
)

// FuzzConvertUpdate feeds arbitrary update JSON through Route and
// convertMessage: no input may panic, and whatever converts must be a
// message Turn accepts.
func FuzzConvertUpdate(f *testing.F) {
	files, err := filepath.Glob("testdata/updates/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed fixtures: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"message":null,"callback_query":{"message":null}}`))
	f.Add([]byte(`{"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"photo":[]}}`))
	f.Add([]byte(`{"message":{"message_id":-1,"date":-1,"chat":{"id":-1,"type":"private"},"sticker":{"file_id":"","file_unique_id":""}}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var upd models.Update
		if json.Unmarshal(data, &upd) != nil {
			return
		}
		r := route(&upd)
		if (r.Kind == "") == (r.Skip == "") {
			t.Fatalf("Route = %+v: want exactly one of Kind and Skip", r)
		}
		switch r.Kind {
		case RouteMessage:
			if upd.Message == nil || r.ChatID != upd.Message.Chat.ID || upd.Message.Chat.Type != models.ChatTypePrivate {
				t.Fatalf("Route = %+v for a message that is not private", r)
			}
		case RouteCallbackQuery:
			if upd.CallbackQuery == nil || upd.CallbackQuery.Data == "" || r.ChatID == 0 {
				t.Fatalf("Route = %+v for callback %+v", r, upd.CallbackQuery)
			}
		}
		// Convert every message the update carries, bridged or not: the
		// converter must refuse what Route would skip, never crash on it.
		for _, m := range []*models.Message{upd.Message, upd.EditedMessage, upd.ChannelPost, upd.EditedChannelPost, upd.BusinessMessage} {
			if m == nil {
				continue
			}
			if c, err := convertMessage(m); err == nil {
				checkConverted(t, m, c)
			}
		}
	})
}

// checkConverted asserts what Turn requires of an inbound message.
func checkConverted(t *testing.T, m *models.Message, c converted) {
	t.Helper()
	in, im := c.Inbound, c.Inbound.Message
	if m.Chat.Type != models.ChatTypePrivate {
		t.Fatalf("converted a message from a %q chat", m.Chat.Type)
	}
	if !isDigits(in.Contact.ID) || im.From != in.Contact.ID || in.Contact.Profile.Name == "" {
		t.Fatalf("contact %+v, from %q", in.Contact, im.From)
	}
	if im.ID == "" || im.ID != MessageID(m.Chat.ID, m.ID) {
		t.Fatalf("id %q", im.ID)
	}
	if !isDigits(im.Timestamp) {
		t.Fatalf("timestamp %q", im.Timestamp)
	}
	if im.Button != nil || im.Interactive != nil || im.Context != nil {
		t.Fatalf("message has reply objects: %+v", im)
	}
	if c.ReplyTo != 0 && (m.ReplyToMessage == nil || c.ReplyTo != m.ReplyToMessage.ID) {
		t.Fatalf("ReplyTo %d", c.ReplyTo)
	}
	switch im.Type {
	case turn.TypeText:
		if im.Text == nil || im.Text.Body == "" || mediaObject(im) != nil || c.File != nil {
			t.Fatalf("text message %+v, file %+v", im, c.File)
		}
	case turn.TypeImage, turn.TypeVideo, turn.TypeAudio, turn.TypeDocument, turn.TypeSticker:
		md := mediaObject(im)
		if md == nil || im.Text != nil {
			t.Fatalf("%s message without its object, or with text: %+v", im.Type, im)
		}
		if md.ID == "" || md.MimeType == "" || md.Link != "" || md.SHA256 != "" {
			t.Fatalf("media %+v", md)
		}
		if im.Type == turn.TypeDocument && md.Filename == "" {
			t.Fatal("document without filename")
		}
		f := c.File
		if f == nil || f.FileID == "" || f.FileUniqueID != md.ID || f.MimeType != md.MimeType {
			t.Fatalf("file %+v for media %+v", f, md)
		}
		if tb := tooBigText(c); !strings.HasPrefix(tb, "["+im.Type+" too large") || !strings.HasSuffix(tb, md.Caption) {
			t.Fatalf("tooBigText %q", tb)
		}
	default:
		t.Fatalf("unknown type %q", im.Type)
	}
	if _, err := json.Marshal(in); err != nil {
		t.Fatal(err)
	}
}

// mediaObject is the media object matching the message's type; nil when
// that object is missing or another one is set as well.
func mediaObject(im turn.InboundMessage) *turn.Media {
	objects := map[string]*turn.Media{
		turn.TypeImage: im.Image, turn.TypeVideo: im.Video, turn.TypeAudio: im.Audio,
		turn.TypeDocument: im.Document, turn.TypeSticker: im.Sticker,
	}
	for typ, md := range objects {
		if md != nil && typ != im.Type {
			return nil
		}
	}
	return objects[im.Type]
}

func isDigits(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64) // no sign, no spaces
	return err == nil
}
