package turn

import (
	"encoding/json"
	"net/http"
)

// errorBody is Turn's error shape, used by the connector's webhook answers so
// that both directions of the API fail alike.
type errorBody struct {
	Message string         `json:"message"`
	Errors  map[string]any `json:"errors"`
}

// WriteError answers with status and Turn's error shape:
// {"message": "<status text>", "errors": errs}.
func WriteError(w http.ResponseWriter, status int, errs map[string]any) {
	if errs == nil {
		errs = map[string]any{}
	}
	body, err := json.Marshal(errorBody{Message: http.StatusText(status), Errors: errs})
	if err != nil {
		// Only a caller putting unencodable values in errs gets here.
		body, _ = json.Marshal(errorBody{Message: http.StatusText(status), Errors: map[string]any{}})
	}
	writeJSON(w, status, body)
}

// WriteReply answers Turn's webhook with 200 and the connector's ids for the
// accepted message(s): {"messages": [{"id": "..."}]}.
func WriteReply(w http.ResponseWriter, ids ...string) {
	reply := ReplyBody{Messages: make([]ReplyID, 0, len(ids))}
	for _, id := range ids {
		reply.Messages = append(reply.Messages, ReplyID{ID: id})
	}
	body, _ := json.Marshal(reply) // strings only: cannot fail
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
