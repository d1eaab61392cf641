package turntest_test

import (
	"fmt"
	"strings"
	"testing"
)

const messagesPath = "/v1/numbers/" + number + "/messages"

var sha = strings.Repeat("ab12", 16)

// validMessages are one acceptable message of each type.
var validMessages = map[string]string{
	"text":                 `{"type":"text","text":{"body":"hi"}}`,
	"image":                `{"type":"image","image":{"id":"f1","mime_type":"image/jpeg","link":"https://cdn.example.org/f1.jpg","sha256":"` + sha + `","caption":"sunset"}}`,
	"video":                `{"type":"video","video":{"id":"f2","mime_type":"video/mp4","link":"http://cdn.example.org/f2.mp4","sha256":"` + sha + `","filename":"clip.mp4"}}`,
	"audio":                `{"type":"audio","audio":{"id":"f3","mime_type":"audio/ogg"}}`,
	"audio+link":           `{"type":"audio","audio":{"id":"f3","mime_type":"audio/ogg","link":"https://cdn.example.org/f3.ogg","sha256":"` + strings.ToUpper(sha) + `"}}`,
	"document":             `{"type":"document","document":{"id":"f4","mime_type":"application/pdf","link":"https://cdn.example.org/f4","sha256":"` + sha + `","filename":"a.pdf"}}`,
	"sticker":              `{"type":"sticker","sticker":{"id":"f5","mime_type":"image/webp","link":"https://cdn.example.org/f5.webp","sha256":"` + sha + `"}}`,
	"button":               `{"type":"button","button":{"payload":"yes","text":"Yes"}}`,
	"button_reply":         `{"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"QmxhY2sgVGVh","title":"Black Tea"}}}`,
	"list_reply":           `{"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"8J+YgCBPbmU=","title":"😀 One","description":"the first"}}}`,
	"with context":         `{"type":"text","text":{"body":"yes"},"context":{"id":"turn-msg-1"}}`,
	"context with from":    `{"type":"text","text":{"body":"yes"},"context":{"id":"turn-msg-1","from":"bot"}}`,
	"null context":         `{"type":"text","text":{"body":"yes"},"context":null}`,
	"unknown extra fields": `{"type":"text","text":{"body":"hi","preview":true},"x_client":"tg","location":{"latitude":1}}`,
}

// inbound wraps message fields into a full body from a valid contact.
func inbound(messageFields string) string {
	return `{"contact":{"id":"5512784653","profile":{"name":"Jane"}},"message":` +
		strings.Replace(messageFields, "{", `{"from":"5512784653","id":"tg-1","timestamp":"1727291610",`, 1) + `}`
}

func TestInboundAccepted(t *testing.T) {
	s := newServer(t)
	for name, msg := range validMessages {
		t.Run(name, func(t *testing.T) {
			wantSuccess(t, postJSON(t, s, messagesPath, inbound(msg)))
		})
	}
	got := s.Messages(number)
	if len(got) != len(validMessages) {
		t.Fatalf("recorded %d messages, want %d", len(got), len(validMessages))
	}
	for _, m := range got {
		if m.Contact.ID != "5512784653" || m.Contact.Profile.Name != "Jane" || m.Message.ID != "tg-1" || m.Message.Timestamp != "1727291610" {
			t.Errorf("recorded message lost fields: %+v", m)
		}
	}
}

func TestInboundRejected(t *testing.T) {
	base := inbound(validMessages["text"])
	set := func(value any, path ...string) string {
		return edit(t, base, func(m map[string]any) {
			parent := obj(m, path[:len(path)-1]...)
			if value == nil {
				delete(parent, path[len(path)-1])
			} else {
				parent[path[len(path)-1]] = value
			}
		})
	}
	msgOf := func(fields string) string { return inbound(fields) }
	media := func(typ, fields string) string {
		return msgOf(fmt.Sprintf(`{"type":%q,%q:{%s}}`, typ, typ, fields))
	}
	link := `"link":"https://cdn.example.org/x"`
	sum := `"sha256":"` + sha + `"`

	tests := []struct {
		name, body, errs string
	}{
		{"not JSON", `contact=1`, `{"body":["is not valid JSON"]}`},
		{"array", `[]`, `{"body":["is not valid JSON"]}`},
		{"empty object", `{}`, `{"contact":["can't be blank"],"message":["can't be blank"]}`},
		{"spec error response", `{"contact":{},"message":{}}`,
			`{"contact":{"id":["can't be blank"],"profile":["can't be blank"]},"message":{"from":["can't be blank"],"id":["can't be blank"],"timestamp":["can't be blank"],"type":["can't be blank"]}}`},
		{"contact not an object", set("x", "contact"), `{"contact":["is invalid"]}`},
		{"contact.id missing", set(nil, "contact", "id"), `{"contact":{"id":["can't be blank"]}}`},
		{"contact.id empty", set("", "contact", "id"), `{"contact":{"id":["can't be blank"]}}`},
		{"contact.id number", set(5512784653, "contact", "id"), `{"contact":{"id":["is invalid"]}}`},
		{"profile not an object", set("Jane", "contact", "profile"), `{"contact":{"profile":["is invalid"]}}`},
		{"profile without name", set(map[string]any{}, "contact", "profile"), `{"contact":{"profile":{"name":["can't be blank"]}}}`},
		{"message not an object", set([]any{}, "message"), `{"message":["is invalid"]}`},
		{"from missing", set(nil, "message", "from"), `{"message":{"from":["can't be blank"]}}`},
		{"id blank", set("  ", "message", "id"), `{"message":{"id":["can't be blank"]}}`},
		{"timestamp number", set(1727291610, "message", "timestamp"), `{"message":{"timestamp":["is invalid"]}}`},
		{"timestamp date", set("2024-09-25T19:13:30Z", "message", "timestamp"), `{"message":{"timestamp":["is invalid"]}}`},
		{"timestamp negative", set("-1", "message", "timestamp"), `{"message":{"timestamp":["is invalid"]}}`},
		{"type missing", set(nil, "message", "type"), `{"message":{"type":["can't be blank"]}}`},
		{"type unknown", set("location", "message", "type"), `{"message":{"type":["is invalid"]}}`},
		{"type template", set("template", "message", "type"), `{"message":{"type":["is invalid"]}}`},
		{"text missing", set(nil, "message", "text"), `{"message":{"text":["can't be blank"]}}`},
		{"text not an object", set("hi", "message", "text"), `{"message":{"text":["is invalid"]}}`},
		{"text body empty", set("", "message", "text", "body"), `{"message":{"text":{"body":["can't be blank"]}}}`},
		{"text under another type", set("image", "message", "type"), `{"message":{"image":["can't be blank"]}}`},
		{"context not an object", set("turn-msg-1", "message", "context"), `{"message":{"context":["is invalid"]}}`},
		{"context without id", set(map[string]any{"from": "bot"}, "message", "context"), `{"message":{"context":{"id":["can't be blank"]}}}`},
		{"image empty", media("image", ``),
			`{"message":{"image":{"id":["can't be blank"],"mime_type":["can't be blank"],"link":["can't be blank"],"sha256":["can't be blank"]}}}`},
		{"image bad mime", media("image", `"id":"f","mime_type":"jpeg",`+link+`,`+sum), `{"message":{"image":{"mime_type":["is invalid"]}}}`},
		{"image relative link", media("image", `"id":"f","mime_type":"image/png","link":"/x.png",`+sum), `{"message":{"image":{"link":["is invalid"]}}}`},
		{"image ftp link", media("image", `"id":"f","mime_type":"image/png","link":"ftp://cdn.example.org/x",`+sum), `{"message":{"image":{"link":["is invalid"]}}}`},
		{"image sha256 not hex", media("image", `"id":"f","mime_type":"image/png",`+link+`,"sha256":"hash_value"`), `{"message":{"image":{"sha256":["is invalid"]}}}`},
		{"image sha256 short", media("image", `"id":"f","mime_type":"image/png",`+link+`,"sha256":"`+sha[:63]+`"`), `{"message":{"image":{"sha256":["is invalid"]}}}`},
		{"image caption number", media("image", `"id":"f","mime_type":"image/png",`+link+`,`+sum+`,"caption":5`), `{"message":{"image":{"caption":["is invalid"]}}}`},
		{"video with mime", media("video", `"id":"f","mime":"video/mp4",`+link+`,`+sum), `{"message":{"video":{"mime_type":["can't be blank"]}}}`},
		{"video without sha256", media("video", `"id":"f","mime_type":"video/mp4",`+link), `{"message":{"video":{"sha256":["can't be blank"]}}}`},
		{"document without filename", media("document", `"id":"f","mime_type":"application/pdf",`+link+`,`+sum), `{"message":{"document":{"filename":["can't be blank"]}}}`},
		{"sticker without link", media("sticker", `"id":"f","mime_type":"image/webp",`+sum), `{"message":{"sticker":{"link":["can't be blank"]}}}`},
		{"audio without mime_type", media("audio", `"id":"f"`), `{"message":{"audio":{"mime_type":["can't be blank"]}}}`},
		{"audio bad sha256", media("audio", `"id":"f","mime_type":"audio/ogg","sha256":"x"`), `{"message":{"audio":{"sha256":["is invalid"]}}}`},
		{"audio bad link", media("audio", `"id":"f","mime_type":"audio/ogg","link":"nowhere"`), `{"message":{"audio":{"link":["is invalid"]}}}`},
		{"button without payload", msgOf(`{"type":"button","button":{"text":"Yes"}}`), `{"message":{"button":{"payload":["can't be blank"]}}}`},
		{"button without text", msgOf(`{"type":"button","button":{"payload":"yes"}}`), `{"message":{"button":{"text":["can't be blank"]}}}`},
		{"interactive missing", msgOf(`{"type":"interactive"}`), `{"message":{"interactive":["can't be blank"]}}`},
		{"interactive without type", msgOf(`{"type":"interactive","interactive":{"button_reply":{"id":"a","title":"A"}}}`), `{"message":{"interactive":{"type":["can't be blank"]}}}`},
		{"interactive unknown type", msgOf(`{"type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{}"}}}`), `{"message":{"interactive":{"type":["is invalid"]}}}`},
		{"button_reply object missing", msgOf(`{"type":"interactive","interactive":{"type":"button_reply","list_reply":{"id":"a","title":"A"}}}`), `{"message":{"interactive":{"button_reply":["can't be blank"]}}}`},
		{"list_reply without title", msgOf(`{"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"a"}}}`), `{"message":{"interactive":{"list_reply":{"title":["can't be blank"]}}}}`},
		{"button_reply without id", msgOf(`{"type":"interactive","interactive":{"type":"button_reply","button_reply":{"title":"A"}}}`), `{"message":{"interactive":{"button_reply":{"id":["can't be blank"]}}}}`},
		{"list_reply description number", msgOf(`{"type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"a","title":"A","description":1}}}`), `{"message":{"interactive":{"list_reply":{"description":["is invalid"]}}}}`},
	}
	s := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErrors(t, postJSON(t, s, messagesPath, tt.body), tt.errs)
		})
	}
	if got := s.Messages(number); len(got) != 0 {
		t.Fatalf("rejected messages were recorded: %+v", got)
	}
	if got := s.Rejected(400); got != len(tests) {
		t.Errorf("Rejected(400) = %d, want %d", got, len(tests))
	}
}

// TestSpecInboundExamples posts the published examples verbatim, with the
// contact.id the published table requires. Those that break the published
// table (sha256 "hash_value", "mime" for "mime_type") are rejected, and
// accepted once repaired.
func TestSpecInboundExamples(t *testing.T) {
	tests := []struct {
		name, body, errs string
		repair           func(m map[string]any)
	}{
		{name: "text", body: `{"contact":{"id":"the-user-id","profile":{"name":"the-user-name"}},"message":{"type":"text","text":{"body":"the-text-of-the-message"},"from":"the-user-id","id":"the-message-id","timestamp":"1727291610"}}`},
		{name: "interactive button reply", body: `{"message":{"from":"1234567890","id":"message_id_789","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"button_id_1","title":"Yes"}},"timestamp":"1617183831"},"contact":{"id":"1234567890","profile":{"name":"Bob Johnson"}}}`},
		{name: "interactive list reply", body: `{"message":{"from":"1234567890","id":"message_id_789","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"list_id_1","title":"Option 1","description":"Description for option 1"}},"timestamp":"1617183832"},"contact":{"id":"1234567890","profile":{"name":"Alice Johnson"}}}`},
		{
			name: "document",
			body: `{"message":{"from":"1234567890","id":"message_id_789","type":"document","document":{"id":"document_id_1","mime_type":"application/pdf","link":"https://example.org/document.pdf","sha256":"hash_value","filename":"the-filename.pdf"},"timestamp":"1617183833"},"contact":{"id":"1234567890","profile":{"name":"Charlie Brown"}}}`,
			errs: `{"message":{"document":{"sha256":["is invalid"]}}}`,
			repair: func(m map[string]any) {
				obj(m, "message", "document")["sha256"] = sha
			},
		},
		{
			name: "image",
			body: `{"message":{"from":"1234567890","id":"message_id_456","type":"image","image":{"id":"image_id_789","mime_type":"image/jpeg","link":"https://example.org/image.jpg","sha256":"hash_value","caption":"Beautiful sunset"},"timestamp":"1617183830"},"contact":{"id":"1234567890","profile":{"name":"Jane Smith"}}}`,
			errs: `{"message":{"image":{"sha256":["is invalid"]}}}`,
			repair: func(m map[string]any) {
				obj(m, "message", "image")["sha256"] = sha
			},
		},
		{
			name: "sticker",
			body: `{"message":{"from":"1234567890","id":"message_id_789","type":"sticker","sticker":{"id":"sticker_id_1","mime_type":"image/png","link":"https://example.org/sticker.png","sha256":"hash_value","filename":"the-filename.png","caption":"Beautiful sunset"},"timestamp":"1617183831"},"contact":{"id":"1234567890","profile":{"name":"Bob Johnson"}}}`,
			errs: `{"message":{"sticker":{"sha256":["is invalid"]}}}`,
			repair: func(m map[string]any) {
				obj(m, "message", "sticker")["sha256"] = sha
			},
		},
		{
			name: "video",
			body: `{"contact":{"id":"the-user-id","profile":{"name":"the-user-name"}},"message":{"type":"video","video":{"link":"https://example.org/video.mp4","mime":"video/mp4","id":"video","sha256":"hash_value","filename":"the-filename.mp4"},"from":"the-user-id","id":"the-message-id","timestamp":"1727291610"}}`,
			errs: `{"message":{"video":{"mime_type":["can't be blank"],"sha256":["is invalid"]}}}`,
			repair: func(m map[string]any) {
				v := obj(m, "message", "video")
				v["mime_type"], v["sha256"] = v["mime"], sha
			},
		},
		{
			name: "audio",
			body: `{"contact":{"id":"the-user-id","profile":{"name":"the-user-name"}},"message":{"type":"audio","audio":{"link":"https://example.org/audio.mp3","mime":"audio/mp3","id":"audio"},"from":"the-user-id","id":"the-message-id","timestamp":"1727291610"}}`,
			errs: `{"message":{"audio":{"mime_type":["can't be blank"]}}}`,
			repair: func(m map[string]any) {
				a := obj(m, "message", "audio")
				a["mime_type"] = a["mime"]
			},
		},
	}
	s := newServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.errs == "" {
				wantSuccess(t, postJSON(t, s, messagesPath, tt.body))
				return
			}
			wantErrors(t, postJSON(t, s, messagesPath, tt.body), tt.errs)
			wantSuccess(t, postJSON(t, s, messagesPath, edit(t, tt.body, tt.repair)))
		})
	}
	if got := len(s.Messages(number)); got != len(tests) {
		t.Errorf("recorded %d, want %d", got, len(tests))
	}
}

// TestSpecExampleWithoutContactID shows why contact.id had to be added: the
// published examples other than text omit it, and the table requires it.
func TestSpecExampleWithoutContactID(t *testing.T) {
	s := newServer(t)
	body := `{"message":{"from":"1234567890","id":"message_id_789","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"button_id_1","title":"Yes"}},"timestamp":"1617183831"},"contact":{"profile":{"name":"Bob Johnson"}}}`
	wantErrors(t, postJSON(t, s, messagesPath, body), `{"contact":{"id":["can't be blank"]}}`)
}
