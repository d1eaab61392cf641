package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	maxUploadSize  = 50 << 20 // multipart upload limit for any file
	maxFieldSize   = 1 << 20  // a plain form field; far above anything valid
	maxRequestBody = 64 << 20 // the whole request, uploads included
)

// Upload is a file part of a multipart request.
type Upload struct {
	Filename    string
	ContentType string
	Data        []byte
}

// request is one Bot API call being answered.
type request struct {
	ctx    context.Context
	bot    *bot
	params map[string]string
	files  map[string]Upload
}

func (rq *request) str(name string) string { return rq.params[name] }

// boolean reads a flag the way the Bot API does: "true", "yes" or "1".
func (rq *request) boolean(name string) bool {
	switch strings.ToLower(strings.TrimSpace(rq.params[name])) {
	case "true", "yes", "1":
		return true
	}
	return false
}

// integer reads a number the way the Bot API does: garbage reads as zero,
// an absent field as def.
func (rq *request) integer(name string, def int64) int64 {
	v := strings.TrimSpace(rq.params[name])
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// decodeRequest reads a call's fields from every place the Bot API accepts
// them: the query string, then a multipart/form-data, urlencoded or JSON body.
// Values are kept as received; JSON bodies give non-string values as their
// JSON text, so a structured field reads the same from any encoding.
func decodeRequest(w http.ResponseWriter, r *http.Request) (map[string]string, map[string]Upload, *apiError) {
	params := map[string]string{}
	files := map[string]Upload{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	if r.Body == nil {
		return params, files, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		if err := decodeMultipart(r, params, files); err != nil {
			// Read the rest so the client sees the answer rather than a reset.
			_, _ = io.Copy(io.Discard, r.Body)
			return params, files, err
		}
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return params, files, errEntityTooLarge
		}
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return params, files, badRequest("can't parse the urlencoded request body")
		}
		for k, v := range values {
			if len(v) > 0 {
				params[k] = v[0]
			}
		}
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return params, files, errEntityTooLarge
		}
		if len(bytes.TrimSpace(body)) == 0 {
			break
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return params, files, badRequest("can't parse JSON encoded request")
		}
		for k, raw := range fields {
			raw = bytes.TrimSpace(raw)
			switch {
			case bytes.Equal(raw, []byte("null")):
			case len(raw) > 0 && raw[0] == '"':
				var s string
				_ = json.Unmarshal(raw, &s)
				params[k] = s
			default:
				params[k] = string(raw)
			}
		}
	}
	return params, files, nil
}

func decodeMultipart(r *http.Request, params map[string]string, files map[string]Upload) *apiError {
	mr, err := r.MultipartReader()
	if err != nil {
		return badRequest("can't parse multipart/form-data request")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return errEntityTooLarge
			}
			return badRequest("can't parse multipart/form-data request")
		}
		name := part.FormName()
		if name == "" {
			continue
		}
		if part.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(part, maxFieldSize+1))
			if err != nil || len(v) > maxFieldSize {
				return errEntityTooLarge
			}
			params[name] = string(v)
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, maxUploadSize+1))
		if err != nil || len(data) > maxUploadSize {
			return errEntityTooLarge
		}
		files[name] = Upload{
			Filename:    part.FileName(),
			ContentType: part.Header.Get("Content-Type"),
			Data:        data,
		}
	}
}
