package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/turn-telegram/turn-telegram/bot"
	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/store"
)

// admin is the operator's HTTP API under /admin, behind ADMIN_TOKEN: the
// channel operations of `turn-telegram channels` and the queue view of
// `turn-telegram queue`. Its answers never hold a secret.
type admin struct {
	token  string
	reg    *channels.Registry // nil: no SECRET_KEY, no stored channels
	st     store.Operator
	syncer *channels.Syncer
	healer *channels.Healer
	svc    *bot.Service
	red    *Redactor
	log    *slog.Logger
}

// maxAdminBody bounds a request body.
const maxAdminBody = 64 << 10

func (a *admin) register(r *mux.Router) {
	r.Use(a.authorize)
	r.HandleFunc("/channels", a.listChannels).Methods(http.MethodGet)
	r.HandleFunc("/channels", a.addChannel).Methods(http.MethodPost)
	r.HandleFunc("/channels/{key}", a.showChannel).Methods(http.MethodGet)
	r.HandleFunc("/channels/{key}", a.removeChannel).Methods(http.MethodDelete)
	r.HandleFunc("/channels/{key}/token", a.setToken).Methods(http.MethodPost)
	r.HandleFunc("/channels/{key}/disable", a.setDisabled(true)).Methods(http.MethodPost)
	r.HandleFunc("/channels/{key}/enable", a.setDisabled(false)).Methods(http.MethodPost)
	r.HandleFunc("/rotate-key", a.rotateKey).Methods(http.MethodPost)
	r.HandleFunc("/queue", a.queueStats).Methods(http.MethodGet)
	r.HandleFunc("/queue/jobs", a.listJobs).Methods(http.MethodGet)
	r.HandleFunc("/queue/jobs/{id}/retry", a.retryJob).Methods(http.MethodPost)
	r.HandleFunc("/queue/jobs/{id}", a.discardJob).Methods(http.MethodDelete)
}

// authorize lets through requests with "Authorization: Bearer <ADMIN_TOKEN>".
// Hashes are compared, in constant time, so neither the token nor its
// length shows in the timing.
func (a *admin) authorize(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(a.token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="turn-telegram admin"`)
			writeAdmin(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong admin token", "code": "unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusOf is the one mapping of an operation's failure to an HTTP status.
func statusOf(code channels.Code) int {
	switch code {
	case channels.Invalid:
		return http.StatusBadRequest
	case channels.NotFound:
		return http.StatusNotFound
	case channels.Conflict:
		return http.StatusConflict
	case channels.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers err: its operator-safe message and code, never its cause.
func (a *admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := channels.CodeOf(err)
	status := statusOf(code)
	if status >= 500 {
		attrs := []any{"method", r.Method, "path", r.URL.Path, "err", err}
		if key := mux.Vars(r)["key"]; key != "" {
			attrs = append(attrs, "channel", key)
		}
		a.log.Error("admin request failed", attrs...)
	}
	writeAdmin(w, status, map[string]string{"error": a.red.String(channels.MessageOf(err)), "code": string(code)})
}

func writeAdmin(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// readJSON decodes a request body strictly into v.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &channels.Error{Code: channels.Invalid, Message: "the body must be a JSON object of the documented fields: " + jsonProblem(err)}
	}
	return nil
}

// jsonProblem describes a decoding error without quoting the body (which
// may hold a secret).
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "malformed JSON at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return "field " + typ.Field + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return err.Error()[len("json: "):]
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: it ends too early"
	case errors.Is(err, io.EOF):
		return "empty body"
	}
	return "undecodable"
}

// registry is the channel registry, or a not found when channels are not
// kept in the store.
func (a *admin) registry() (*channels.Registry, error) {
	if a.reg == nil {
		return nil, &channels.Error{Code: channels.NotFound, Message: "channels are not kept in the store here: SECRET_KEY is not set"}
	}
	return a.reg, nil
}

// changed makes this process serve a channel change at once; the other
// replicas follow within CHANNEL_SYNC_INTERVAL.
func (a *admin) changed(r *http.Request) {
	if a.syncer == nil {
		return
	}
	if err := a.syncer.Sync(r.Context()); err != nil {
		a.log.Warn("channel sync after an admin change failed; the next pass retries", "err", err)
	}
}

// withState adds this process's view of a channel: served, and its webhook.
func (a *admin) withState(v channels.View) channels.View {
	if a.syncer != nil {
		version, served := a.syncer.Served(v.Key)
		v.Served, v.ServedVersion = &served, version
		if p := a.syncer.Problem(v.Key); p != "" && v.Problem == "" {
			v.Problem = p
		}
	}
	if st, ok := a.healer.State(v.Key); ok {
		v.Webhook = &st
	}
	if ch, ok := a.svc.Channel(v.Key); ok {
		v.Credentials = ch.Problems()
	}
	return v
}

// listChannels answers the channels by key: every one, or with ?limit=N
// a page of at most N (1 to 1000) from the first key after ?after=KEY.
// When more follow, X-Next-After holds the key to give as after, and Link
// the next page's address (rel="next").
func (a *admin) listChannels(w http.ResponseWriter, r *http.Request) {
	reg, err := a.registry()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" || q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > channels.MaxPage {
			a.fail(w, r, &channels.Error{Code: channels.Invalid, Message: "limit must be a whole number from 1 to " + strconv.Itoa(channels.MaxPage)})
			return
		}
		limit = n
	}
	after := q.Get("after")
	if len(after) > 64 {
		a.fail(w, r, &channels.Error{Code: channels.Invalid, Message: "after must be a channel key (at most 64 characters)"})
		return
	}
	views, next, err := reg.Page(r.Context(), after, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for i := range views {
		views[i] = a.withState(views[i])
	}
	if next != "" {
		nq := url.Values{"limit": {strconv.Itoa(limit)}, "after": {next}}
		w.Header().Set("X-Next-After", next)
		w.Header().Set("Link", "<"+r.URL.Path+"?"+nq.Encode()+`>; rel="next"`)
	}
	writeAdmin(w, http.StatusOK, views)
}

func (a *admin) addChannel(w http.ResponseWriter, r *http.Request) {
	reg, err := a.registry()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var q channels.AddRequest
	if err := readJSON(r, &q); err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := reg.Add(r.Context(), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.changed(r)
	writeAdmin(w, http.StatusCreated, a.withState(v))
}

func (a *admin) showChannel(w http.ResponseWriter, r *http.Request) {
	reg, err := a.registry()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := reg.Show(r.Context(), mux.Vars(r)["key"])
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeAdmin(w, http.StatusOK, a.withState(v))
}

func (a *admin) removeChannel(w http.ResponseWriter, r *http.Request) {
	reg, err := a.registry()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := mux.Vars(r)["key"]
	warnings, err := reg.Remove(r.Context(), key)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.changed(r)
	writeAdmin(w, http.StatusOK, map[string]any{"removed": key, "warnings": orNone(warnings)})
}

func (a *admin) setToken(w http.ResponseWriter, r *http.Request) {
	reg, err := a.registry()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := readJSON(r, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := reg.SetToken(r.Context(), mux.Vars(r)["key"], body.Token)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.changed(r)
	writeAdmin(w, http.StatusOK, a.withState(v))
}

func (a *admin) setDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reg, err := a.registry()
		if err != nil {
			a.fail(w, r, err)
			return
		}
		v, err := reg.SetDisabled(r.Context(), mux.Vars(r)["key"], disabled)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.changed(r)
		writeAdmin(w, http.StatusOK, a.withState(v))
	}
}

func (a *admin) rotateKey(w http.ResponseWriter, r *http.Request) {
	reg, err := a.registry()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := reg.RotateKey(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.changed(r)
	writeAdmin(w, http.StatusOK, res)
}

// QueueStat is one line of the queue view.
type QueueStat struct {
	Channel       string  `json:"channel"`
	Kind          string  `json:"kind"`
	State         string  `json:"state"`
	Count         int     `json:"count"`
	OldestSeconds float64 `json:"oldest_seconds"`
}

func (a *admin) queueStats(w http.ResponseWriter, r *http.Request) {
	stats, err := a.st.QueueStats(r.Context())
	if err != nil {
		a.fail(w, r, storeFailure(err, ""))
		return
	}
	out := []QueueStat{}
	for _, s := range stats {
		out = append(out, QueueStat{
			Channel: s.Channel, Kind: string(s.Kind), State: string(s.State), Count: s.Count,
			OldestSeconds: time.Since(s.Oldest).Round(time.Second).Seconds(),
		})
	}
	writeAdmin(w, http.StatusOK, out)
}

// JobView is a job as the admin API shows it (GET /admin/queue/jobs).
type JobView struct {
	ID          int64     `json:"id"`
	Channel     string    `json:"channel"`
	Kind        string    `json:"kind"`
	Lane        string    `json:"lane"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	Progress    int       `json:"progress"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	NextAttempt time.Time `json:"next_attempt_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func (a *admin) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.JobFilter{Channel: q.Get("channel"), Kind: store.Kind(q.Get("kind")), State: store.State(q.Get("state")), Limit: 50}
	switch f.State {
	case "", store.StatePending, store.StateDead, store.StateDone:
	default:
		a.fail(w, r, &channels.Error{Code: channels.Invalid, Message: "state must be pending, dead or done"})
		return
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			a.fail(w, r, &channels.Error{Code: channels.Invalid, Message: "limit must be a whole number from 1 to 1000"})
			return
		}
		f.Limit = n
	}
	jobs, err := a.st.ListJobs(r.Context(), f)
	if err != nil {
		a.fail(w, r, storeFailure(err, ""))
		return
	}
	out := []JobView{}
	for _, j := range jobs {
		out = append(out, JobView{
			ID: j.ID, Channel: j.Channel, Kind: string(j.Kind), Lane: j.Lane, State: string(j.State),
			Attempts: j.Attempts, Progress: j.Progress, LastError: a.red.String(j.LastError),
			CreatedAt: j.CreatedAt, NextAttempt: j.NextAttempt, UpdatedAt: j.UpdatedAt,
		})
	}
	writeAdmin(w, http.StatusOK, out)
}

func (a *admin) retryJob(w http.ResponseWriter, r *http.Request) {
	a.jobAction(w, r, "retried", a.st.Requeue, "no dead job with this id")
}

func (a *admin) discardJob(w http.ResponseWriter, r *http.Request) {
	a.jobAction(w, r, "discarded", a.st.Discard, "no dead or idle waiting job with this id")
}

func (a *admin) jobAction(w http.ResponseWriter, r *http.Request, done string, act func(ctx context.Context, id int64) error, notFound string) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		a.fail(w, r, &channels.Error{Code: channels.Invalid, Message: "the job id must be a number"})
		return
	}
	if err := act(r.Context(), id); err != nil {
		a.fail(w, r, storeFailure(err, notFound))
		return
	}
	writeAdmin(w, http.StatusOK, map[string]any{done: id})
}

// storeFailure maps a store error of the queue view.
func storeFailure(err error, notFound string) error {
	if errors.Is(err, store.ErrNotFound) && notFound != "" {
		return &channels.Error{Code: channels.NotFound, Message: notFound, Err: err}
	}
	return &channels.Error{Code: channels.Unavailable, Message: "the store failed", Err: err}
}

func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
