package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is a refusal in the Bot API's shape. code is both the HTTP status
// and error_code, as on api.telegram.org.
type apiError struct {
	code        int
	description string
	retryAfter  int
}

func (e *apiError) Error() string { return e.description }

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: http.StatusBadRequest, description: "Bad Request: " + fmt.Sprintf(format, args...)}
}

func forbidden(description string) *apiError {
	return &apiError{code: http.StatusForbidden, description: "Forbidden: " + description}
}

func conflict(description string) *apiError {
	return &apiError{code: http.StatusConflict, description: "Conflict: " + description}
}

func tooManyRequests(retryAfter int) *apiError {
	return &apiError{
		code:        http.StatusTooManyRequests,
		description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		retryAfter:  retryAfter,
	}
}

var (
	errUnauthorized   = &apiError{code: http.StatusUnauthorized, description: "Unauthorized"}
	errNotFound       = &apiError{code: http.StatusNotFound, description: "Not Found"}
	errBadGateway     = &apiError{code: http.StatusBadGateway, description: "Bad Gateway"}
	errEntityTooLarge = &apiError{code: http.StatusRequestEntityTooLarge, description: "Request Entity Too Large"}
)

// defaultDescription is what Telegram says for a code when FailNext is given
// no description.
func defaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden: bot was blocked by the user"
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusConflict:
		return "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	case http.StatusBadGateway:
		return "Bad Gateway"
	default:
		if text := http.StatusText(code); text != "" {
			return text
		}
		return "Internal Server Error"
	}
}

// described is a successful result that also carries a description, as
// setWebhook's "Webhook was set".
type described struct {
	result      any
	description string
}

type responseParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

type errorEnvelope struct {
	OK          bool                `json:"ok"`
	ErrorCode   int                 `json:"error_code"`
	Description string              `json:"description"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

type okEnvelope struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	Description string          `json:"description,omitempty"`
}

func errorBody(e *apiError) []byte {
	env := errorEnvelope{ErrorCode: e.code, Description: e.description}
	if e.retryAfter > 0 {
		env.Parameters = &responseParameters{RetryAfter: e.retryAfter}
	}
	body, _ := json.Marshal(env)
	return body
}

// okBody is the answer to an accepted call, and the result within it.
func okBody(result any) (body []byte, raw json.RawMessage, err error) {
	env := okEnvelope{OK: true}
	if d, ok := result.(described); ok {
		env.Description = d.description
		result = d.result
	}
	if r, ok := result.(json.RawMessage); ok {
		env.Result = r
	} else if env.Result, err = json.Marshal(result); err != nil {
		return nil, nil, err
	}
	body, err = json.Marshal(env)
	return body, env.Result, err
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	_, _ = w.Write(errorBody(e))
}
