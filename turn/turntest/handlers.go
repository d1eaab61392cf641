package turntest

import (
	"encoding/json"
	"net/http"

	"github.com/turn-telegram/turn-telegram/turn"
)

// CreatedChannel is one channel created through POST /v1/numbers.
type CreatedChannel struct {
	Request    turn.CreateChannelRequest
	Body       []byte // the request body as received
	NumberID   string // the new number's uuid
	WebhookID  string
	HMACSecret string
}

var success = []byte(`{"success": true}`)

func writeSuccess(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(success)
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.authorize(w, r, id) {
		return
	}
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	if errs := validateInbound(body); errs != nil {
		turn.WriteError(w, http.StatusBadRequest, errs)
		return
	}
	var in turn.Inbound
	if err := json.Unmarshal(body, &in); err != nil {
		// Validation passed, so only a type the schema does not check
		// (e.g. a numeric description) lands here.
		turn.WriteError(w, http.StatusBadRequest, map[string]any{"body": []string{invalid}})
		return
	}
	s.mu.Lock()
	n := s.numbers[id]
	n.messages = append(n.messages, in)
	s.notifyLocked()
	s.mu.Unlock()
	writeSuccess(w)
}

func (s *Server) handleStatuses(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.authorize(w, r, id) {
		return
	}
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	acceptFailed := s.acceptFailed
	s.mu.Unlock()
	if errs := validateStatus(body, acceptFailed); errs != nil {
		turn.WriteError(w, http.StatusBadRequest, errs)
		return
	}
	var st turn.Status
	if err := json.Unmarshal(body, &st); err != nil {
		turn.WriteError(w, http.StatusBadRequest, map[string]any{"body": []string{invalid}})
		return
	}
	s.mu.Lock()
	n := s.numbers[id]
	n.statuses = append(n.statuses, st.Status)
	s.notifyLocked()
	s.mu.Unlock()
	writeSuccess(w)
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, "") {
		return
	}
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	ch, errs := s.createChannel(body)
	if errs != nil {
		turn.WriteError(w, http.StatusBadRequest, errs)
		return
	}
	answer, _ := json.Marshal(turn.CreateChannelResponse{
		Number:  turn.ChannelNumber{UUID: ch.NumberID},
		Webhook: turn.ChannelWebhook{UUID: ch.WebhookID, HMACSecret: ch.HMACSecret},
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(answer)
}

// createChannel validates and records a channel creation. The check for a
// taken from_addr and the insert happen under one lock.
func (s *Server) createChannel(body []byte) (CreatedChannel, fieldErrors) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, errs := validateCreate(body, func(fromAddr string) bool {
		for _, c := range s.created {
			if c.Request.FromAddr == fromAddr {
				return true
			}
		}
		return false
	})
	if errs != nil {
		return CreatedChannel{}, errs
	}
	ch := CreatedChannel{
		Request:    req,
		Body:       body,
		NumberID:   newUUID(),
		WebhookID:  newUUID(),
		HMACSecret: randomHex(32),
	}
	s.created = append(s.created, ch)
	// Known but without a token: calls get 401 until AddNumber.
	s.numbers[ch.NumberID] = &number{}
	s.notifyLocked()
	return ch, nil
}
