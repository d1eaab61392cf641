package bot

import (
	"net/http"

	"github.com/gorilla/mux"
)

// Routes registers the connector's public routes on r: Turn's and
// Telegram's webhooks and the media links. A webhook whose channel this
// process does not serve yet runs Options.Lookup first (the hosted
// registry loads a channel added a moment ago at another replica).
func (s *Service) Routes(r *mux.Router) {
	key := func(r *http.Request) string {
		k := mux.Vars(r)["channel"]
		if _, ok := s.Channel(k); !ok && s.opt.Lookup != nil {
			s.opt.Lookup(r.Context(), k)
		}
		return k
	}
	r.HandleFunc("/channels/{channel}/turn", func(w http.ResponseWriter, r *http.Request) {
		s.turnWebhook(w, r, key(r))
	}).Methods(http.MethodPost)
	r.HandleFunc("/channels/{channel}/telegram", func(w http.ResponseWriter, r *http.Request) {
		s.TelegramWebhook(w, r, key(r))
	}).Methods(http.MethodPost)
	r.HandleFunc("/media/{token}", func(w http.ResponseWriter, r *http.Request) {
		s.Media(w, r, mux.Vars(r)["token"])
	}).Methods(http.MethodGet, http.MethodHead)
}
