package turn

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// ValidationError reports a payload that will never be accepted, field by
// field in Turn's own error shape: each key maps to a list of messages
// ([]string) or to a nested map[string]any for nested objects.
type ValidationError struct {
	Errors map[string]any
}

func (e *ValidationError) Error() string {
	return "turn: invalid payload: " + strings.Join(flattenErrors("", e.Errors, nil), "; ")
}

// Messages Turn uses for field errors.
const (
	msgBlank   = "can't be blank"
	msgInvalid = "is invalid"
	msgNotJSON = "is not valid JSON"
)

func invalidField(field, msg string) *ValidationError {
	return &ValidationError{Errors: map[string]any{field: []string{msg}}}
}

// DecodeOutbound decodes the body of Turn's outbound webhook. It ignores
// unknown fields and unknown message types (Message.Raw keeps the object),
// treats null block/context/resources as absent, and copies a "mime" media
// field into MimeType when "mime_type" is missing.
//
// It returns a *ValidationError when the body is not a JSON object, when
// "to" is missing or blank, or when a known field has the wrong JSON type
// (for example "turn": "text" or "turn": {"text": {"body": 5}}).
func DecodeOutbound(body []byte) (*Outbound, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, invalidField("body", msgNotJSON)
	}
	errs := map[string]any{}
	out := &Outbound{}

	switch raw := fields["to"]; {
	case isNull(raw):
		errs["to"] = []string{msgBlank}
	case json.Unmarshal(raw, &out.To) != nil:
		errs["to"] = []string{msgInvalid}
	case strings.TrimSpace(out.To) == "":
		errs["to"] = []string{msgBlank}
	}

	if raw := fields["version"]; !isNull(raw) {
		// The version is announced to change; accept a bare number too.
		var n json.Number
		if json.Unmarshal(raw, &out.Version) != nil {
			if json.Unmarshal(raw, &n) == nil {
				out.Version = n.String()
			} else {
				errs["version"] = []string{msgInvalid}
			}
		}
	}

	out.Block = nonNull(fields["block"])
	out.Context = nonNull(fields["context"])
	out.Resources = nonNull(fields["resources"])
	out.EvaluatedResources = nonNull(fields["evaluated_resources"])

	if raw := fields["turn"]; !isNull(raw) {
		if m, err := decodeMessage(raw); err != nil {
			errs["turn"] = typeErrorTree(err)
		} else {
			out.Turn = m
		}
	}

	// An undocumented hint: a wrong type here is not worth rejecting a
	// message for, so anything but a boolean is ignored.
	_ = json.Unmarshal(nonNull(fields["waiting_for_user_input"]), &out.WaitingForUserInput)

	if len(errs) > 0 {
		return nil, &ValidationError{Errors: errs}
	}
	return out, nil
}

func decodeMessage(raw json.RawMessage) (*Message, error) {
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("not an object")
	}
	var m Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for _, media := range []*OutMedia{m.Image, m.Video, m.Audio, m.Document, m.Sticker} {
		media.normalize()
	}
	if it := m.Interactive; it != nil && it.Header != nil {
		it.Header.Image.normalize()
		it.Header.Video.normalize()
		it.Header.Document.normalize()
	}
	if m.Template != nil {
		for _, c := range m.Template.Components {
			for _, p := range c.Parameters {
				p.Image.normalize()
				p.Video.normalize()
				p.Document.normalize()
			}
		}
	}
	return &m, nil
}

// normalize fills MimeType from the drifted "mime" name.
func (m *OutMedia) normalize() {
	if m != nil && m.MimeType == "" {
		m.MimeType = m.Mime
	}
}

// typeErrorTree turns a decoding error inside "turn" into Turn's nested
// error shape, e.g. {"text": {"body": ["is invalid"]}}.
func typeErrorTree(err error) any {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return []string{msgInvalid}
	}
	parts := strings.Split(te.Field, ".")
	var tree any = []string{msgInvalid}
	for i := len(parts) - 1; i >= 0; i-- {
		tree = map[string]any{parts[i]: tree}
	}
	return tree
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

func nonNull(raw json.RawMessage) json.RawMessage {
	if isNull(raw) {
		return nil
	}
	return raw
}
