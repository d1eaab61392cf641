package turn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CreateChannelRequest names the channel to create. The backend and number
// types are fixed by CreateChannel.
type CreateChannelRequest struct {
	FromAddr string `json:"from_addr"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"` // the connector's webhook URL
}

// CreateChannelResponse is Turn's answer: the channel's number uuid and the
// webhook whose secret signs Turn's calls to Endpoint.
type CreateChannelResponse struct {
	Number  ChannelNumber  `json:"number"`
	Webhook ChannelWebhook `json:"webhook"`
}

// ChannelNumber identifies the new channel.
type ChannelNumber struct {
	UUID string `json:"uuid"`
}

// ChannelWebhook is the webhook Turn created for the channel.
type ChannelWebhook struct {
	UUID       string `json:"uuid"`
	HMACSecret string `json:"hmac_secret"`
}

// Fixed values of the channel creation request.
const (
	BackendTypeChannel   = "channel"
	NumberTypeChannelAPI = "channel_http_api"
)

type createChannelBody struct {
	BackendType string `json:"backend_type"`
	NumberType  string `json:"number_type"`
	CreateChannelRequest
}

// CreateChannel creates a channel with POST {baseURL}/v1/numbers, using the
// token of an existing number of the account (Turn issues the channel's own
// token later, in its UI). A nil hc gets a client with a 30 s timeout.
func CreateChannel(ctx context.Context, hc *http.Client, baseURL, token string, req CreateChannelRequest) (*CreateChannelResponse, error) {
	endpoint := strings.TrimRight(baseURL, "/") + "/v1/numbers"
	body := createChannelBody{BackendType: BackendTypeChannel, NumberType: NumberTypeChannelAPI, CreateChannelRequest: req}
	answer, err := post(ctx, orDefault(hc), endpoint, token, body, time.Now)
	if err != nil {
		return nil, fmt.Errorf("turn: create channel %q: %w", req.FromAddr, err)
	}
	var out CreateChannelResponse
	if err := json.Unmarshal(answer, &out); err != nil {
		return nil, fmt.Errorf("turn: create channel %q: decode answer: %w", req.FromAddr, err)
	}
	if out.Number.UUID == "" || out.Webhook.HMACSecret == "" {
		// The answer is not quoted: it may hold a secret.
		return nil, errors.New("turn: create channel: answer lacks number.uuid or webhook.hmac_secret")
	}
	return &out, nil
}
