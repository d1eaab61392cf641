package bot

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
)

// Routes registers the connector's public routes on r: Turn's and
// Telegram's webhooks and the media links. before, when not nil, runs with
// the channel key ahead of a webhook whose channel this process does not
// serve yet (the hosted registry loads a channel added a moment ago).
func (s *Service) Routes(r *mux.Router, before func(ctx context.Context, key string)) {
	key := func(r *http.Request) string {
		k := mux.Vars(r)["channel"]
		if _, ok := s.Channel(k); !ok && before != nil {
			before(r.Context(), k)
		}
		return k
	}
	r.HandleFunc("/channels/{channel}/turn", func(w http.ResponseWriter, r *http.Request) {
		s.TurnWebhook(w, r, key(r))
	}).Methods(http.MethodPost)
	r.HandleFunc("/channels/{channel}/telegram", func(w http.ResponseWriter, r *http.Request) {
		s.TelegramWebhook(w, r, key(r))
	}).Methods(http.MethodPost)
	r.HandleFunc("/media/{token}", func(w http.ResponseWriter, r *http.Request) {
		s.Media(w, r, mux.Vars(r)["token"])
	}).Methods(http.MethodGet, http.MethodHead)
}
