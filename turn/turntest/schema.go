package turntest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/turn-telegram/turn-telegram/turn"
)

// Turn's field error messages.
const (
	blank        = "can't be blank"
	invalid      = "is invalid"
	alreadyTaken = "has already been taken"
)

// fieldErrors builds Turn's nested error shape:
// {"message": {"id": ["can't be blank"]}}.
type fieldErrors map[string]any

func (e fieldErrors) add(msg string, path ...string) {
	m := map[string]any(e)
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := path[len(path)-1]
	list, _ := m[last].([]string)
	m[last] = append(list, msg)
}

// object is a JSON object whose members are still raw.
type object map[string]json.RawMessage

// parseObject decodes raw as a JSON object; ok is false for anything else.
func parseObject(raw []byte) (object, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, false
	}
	return o, true
}

func absent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// fields checks the members of one object, reporting under path.
type fields struct {
	errs fieldErrors
	obj  object
	path []string
}

func (f fields) at(key string) []string {
	return append(append([]string(nil), f.path...), key)
}

// object returns the required object member key.
func (f fields) object(key string) (fields, bool) {
	raw := f.obj[key]
	if absent(raw) {
		f.errs.add(blank, f.at(key)...)
		return fields{}, false
	}
	o, ok := parseObject(raw)
	if !ok {
		f.errs.add(invalid, f.at(key)...)
		return fields{}, false
	}
	return fields{errs: f.errs, obj: o, path: f.at(key)}, true
}

// optionalObject returns the member key when present (not null).
func (f fields) optionalObject(key string) (fields, bool) {
	if absent(f.obj[key]) {
		return fields{}, false
	}
	return f.object(key)
}

// str returns the required non-blank string member key.
func (f fields) str(key string) (string, bool) {
	raw := f.obj[key]
	if absent(raw) {
		f.errs.add(blank, f.at(key)...)
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.errs.add(invalid, f.at(key)...)
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		f.errs.add(blank, f.at(key)...)
		return "", false
	}
	return s, true
}

// optionalStr returns the member key when present; a non-string is invalid.
func (f fields) optionalStr(key string) (string, bool) {
	raw := f.obj[key]
	if absent(raw) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.errs.add(invalid, f.at(key)...)
		return "", false
	}
	return s, true
}

// check reports key as invalid unless valid(value) holds.
func (f fields) check(key, value string, valid func(string) bool) {
	if !valid(value) {
		f.errs.add(invalid, f.at(key)...)
	}
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func isMIMEType(s string) bool {
	major, minor, ok := strings.Cut(s, "/")
	return ok && major != "" && minor != "" && !strings.ContainsAny(s, " \t\r\n")
}

// validateInbound checks a POST .../messages body against the published
// schema and returns the field errors, or nil when it is acceptable.
func validateInbound(body []byte) fieldErrors {
	top, ok := parseObject(body)
	if !ok {
		return fieldErrors{"body": []string{"is not valid JSON"}}
	}
	errs := fieldErrors{}
	root := fields{errs: errs, obj: top}

	if contact, ok := root.object("contact"); ok {
		contact.str("id")
		if profile, ok := contact.object("profile"); ok {
			profile.str("name")
		}
	}
	if msg, ok := root.object("message"); ok {
		msg.str("from")
		msg.str("id")
		if ts, ok := msg.str("timestamp"); ok {
			msg.check("timestamp", ts, digits)
		}
		if typ, ok := msg.str("type"); ok {
			validateMessageBody(msg, typ)
		}
		if ctx, ok := msg.optionalObject("context"); ok {
			ctx.str("id")
			ctx.optionalStr("from")
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// validateMessageBody checks the object named by the message's type.
func validateMessageBody(msg fields, typ string) {
	switch typ {
	case turn.TypeText:
		if text, ok := msg.object(typ); ok {
			text.str("body")
		}
	case turn.TypeImage, turn.TypeVideo, turn.TypeAudio, turn.TypeDocument, turn.TypeSticker:
		media, ok := msg.object(typ)
		if !ok {
			return
		}
		media.str("id")
		if mt, ok := media.str("mime_type"); ok {
			media.check("mime_type", mt, isMIMEType)
		}
		// Audio carries only id and mime_type in the published table; the
		// others must be fetchable and verifiable.
		get := media.str
		if typ == turn.TypeAudio {
			get = media.optionalStr
		}
		if link, ok := get("link"); ok {
			media.check("link", link, isHTTPURL)
		}
		if sum, ok := get("sha256"); ok {
			media.check("sha256", sum, isSHA256)
		}
		if typ == turn.TypeDocument {
			media.str("filename")
		} else {
			media.optionalStr("filename")
		}
		media.optionalStr("caption")
	case turn.TypeButton:
		if button, ok := msg.object(typ); ok {
			button.str("payload")
			button.str("text")
		}
	case turn.TypeInteractive:
		it, ok := msg.object(typ)
		if !ok {
			return
		}
		kind, ok := it.str("type")
		if !ok {
			return
		}
		if kind != "button_reply" && kind != "list_reply" {
			it.errs.add(invalid, it.at("type")...)
			return
		}
		if reply, ok := it.object(kind); ok {
			reply.str("id")
			reply.str("title")
			reply.optionalStr("description")
		}
	default:
		msg.errs.add(invalid, msg.at("type")...)
	}
}

// validateStatus checks a POST .../statuses body.
func validateStatus(body []byte, acceptFailed bool) fieldErrors {
	top, ok := parseObject(body)
	if !ok {
		return fieldErrors{"body": []string{"is not valid JSON"}}
	}
	errs := fieldErrors{}
	if st, ok := (fields{errs: errs, obj: top}).object("status"); ok {
		st.str("id")
		if v, ok := st.str("status"); ok {
			st.check("status", v, func(v string) bool {
				switch v {
				case turn.StatusSent, turn.StatusDelivered, turn.StatusRead:
					return true
				case turn.StatusFailed:
					return acceptFailed
				}
				return false
			})
		}
		if ts, ok := st.str("timestamp"); ok {
			st.check("timestamp", ts, digits)
		}
		st.optionalStr("recipient_id")
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// validateCreate checks a POST /v1/numbers body; taken reports a from_addr
// already in use.
func validateCreate(body []byte, taken func(fromAddr string) bool) (turn.CreateChannelRequest, fieldErrors) {
	var req turn.CreateChannelRequest
	top, ok := parseObject(body)
	if !ok {
		return req, fieldErrors{"body": []string{"is not valid JSON"}}
	}
	errs := fieldErrors{}
	f := fields{errs: errs, obj: top}
	if v, ok := f.str("backend_type"); ok {
		f.check("backend_type", v, func(v string) bool { return v == turn.BackendTypeChannel })
	}
	if v, ok := f.str("number_type"); ok {
		f.check("number_type", v, func(v string) bool { return v == turn.NumberTypeChannelAPI })
	}
	req.FromAddr, ok = f.str("from_addr")
	if ok && taken(req.FromAddr) {
		errs.add(alreadyTaken, "from_addr")
	}
	req.Name, _ = f.str("name")
	if req.Endpoint, ok = f.str("endpoint"); ok {
		f.check("endpoint", req.Endpoint, isHTTPURL)
	}
	if len(errs) == 0 {
		return req, nil
	}
	return req, errs
}
