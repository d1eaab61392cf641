package turn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	defaultTimeout = 30 * time.Second
	maxAnswer      = 1 << 20 // bytes of an answer the client reads
)

// Client posts inbound messages and statuses to one Turn channel. It is safe
// for concurrent use.
type Client struct {
	baseURL  string
	numberID string
	token    string
	hc       *http.Client
	now      func() time.Time
}

// NewClient returns a client for the channel numberID at baseURL (for
// example https://whatsapp.turn.io), authenticating with the channel's
// token. A nil hc gets a client with a 30 s timeout.
func NewClient(baseURL, numberID, token string, hc *http.Client) *Client {
	return &Client{
		baseURL:  strings.TrimRight(baseURL, "/"),
		numberID: numberID,
		token:    token,
		hc:       orDefault(hc),
		now:      time.Now,
	}
}

// SendMessage posts a person's message to POST /v1/numbers/{id}/messages.
func (c *Client) SendMessage(ctx context.Context, in *Inbound) error {
	if in == nil {
		return errors.New("turn: send message: nil message")
	}
	if err := c.post(ctx, "messages", in); err != nil {
		return fmt.Errorf("turn: send message %s: %w", in.Message.ID, err)
	}
	return nil
}

// SendStatus posts a delivery status to POST /v1/numbers/{id}/statuses.
func (c *Client) SendStatus(ctx context.Context, st *Status) error {
	if st == nil {
		return errors.New("turn: send status: nil status")
	}
	if err := c.post(ctx, "statuses", st); err != nil {
		return fmt.Errorf("turn: send status %s of %s: %w", st.Status.Status, st.Status.ID, err)
	}
	return nil
}

func (c *Client) post(ctx context.Context, what string, body any) error {
	if c.numberID == "" {
		return errors.New("no number id configured")
	}
	endpoint := c.baseURL + "/v1/numbers/" + url.PathEscape(c.numberID) + "/" + what
	_, err := post(ctx, c.hc, endpoint, c.token, body, c.now)
	if errors.Is(err, errAnswerCut) {
		// Turn accepted it; reporting a failure would make the caller
		// send it again.
		return nil
	}
	return err
}

// errAnswerCut marks a 2xx whose body could not be read in full.
var errAnswerCut = errors.New("answer cut short")

func orDefault(hc *http.Client) *http.Client {
	if hc == nil {
		return &http.Client{Timeout: defaultTimeout}
	}
	return hc
}

// post sends body as JSON and returns the answer of a 2xx. Other answers
// become *APIError; transport failures are wrapped. No error text contains
// the token.
func post(ctx context.Context, hc *http.Client, endpoint, token string, body any, now func() time.Time) ([]byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", redactErr(err, token))
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := hc.Do(req)
	if err != nil {
		return nil, redactErr(err, token)
	}
	defer resp.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(resp, answer, token, now())
	}
	if readErr != nil {
		// Turn accepted the request; only its answer was cut short. The
		// caller decides whether the body matters (CreateChannel) or not.
		return answer, fmt.Errorf("read answer: %w: %w", errAnswerCut, redactErr(readErr, token))
	}
	return answer, nil
}
