package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/store"
)

// routes is what the router serves.
type routes struct {
	svc     *bot.Service
	st      store.Store
	admin   *admin // nil: ADMIN_TOKEN unset, /admin answers 404
	metrics http.Handler
	// unready says why the process is not ready beyond its store ("" when
	// it is): see (*App).unready.
	unready func() string
}

func newRouter(rt routes) http.Handler {
	r := mux.NewRouter()
	rt.svc.Routes(r)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	}).Methods(http.MethodGet)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		if err := rt.st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "store unreachable\n")
			return
		}
		if err := rt.st.CheckSchema(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			if errors.Is(err, store.ErrSchemaBehind) {
				_, _ = io.WriteString(w, "database migrations pending\n")
			} else {
				_, _ = io.WriteString(w, "database schema unknown\n")
			}
			return
		}
		if why := rt.unready(); why != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, why+"\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	}).Methods(http.MethodGet)
	r.Handle("/metrics", rt.metrics).Methods(http.MethodGet)
	if rt.admin != nil {
		rt.admin.register(r.PathPrefix("/admin").Subrouter())
	}
	return r
}
