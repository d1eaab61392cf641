package bot

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/store"
)

// SecretHeader carries the webhook's secret_token on Telegram's calls.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// TelegramWebhook serves POST /channels/{channel}/telegram: it authenticates
// the call, stores the update, and only then answers 200. A failed store
// answers 503 so Telegram delivers the update again later.
func (s *Service) TelegramWebhook(w http.ResponseWriter, r *http.Request, key string) {
	ch, ok := s.Channel(key)
	if !ok {
		if s.isPaused(key) {
			// Telegram keeps the update and retries until it is enabled.
			writeProblem(w, http.StatusServiceUnavailable, "channel disabled")
			return
		}
		writeProblem(w, http.StatusNotFound, "unknown channel")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(ch.secret)) != 1 {
		writeProblem(w, http.StatusUnauthorized, "missing or wrong secret token")
		return
	}
	body, err := readBody(r)
	if errors.Is(err, errTooLarge) {
		writeProblem(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	} else if err != nil {
		writeProblem(w, http.StatusBadRequest, "could not read body")
		return
	}
	job, skip, err := updateJob(key, body)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	if skip != "" {
		ch.skipped(skip, body)
	}
	if job.Kind == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	ids, err := s.st.Enqueue(r.Context(), store.Batch{Jobs: []store.NewJob{job}})
	if err != nil {
		s.outage.failed()
		ch.log.Error("store update failed; Telegram will redeliver", "err", err)
		writeProblem(w, http.StatusServiceUnavailable, "storage unavailable")
		return
	}
	s.storeWritten()
	updatesAccepted.WithLabelValues(dupLabel(ids[0] == 0)).Inc()
	s.notify(store.KindUpdate)
	w.WriteHeader(http.StatusOK)
}

// updateJob validates one raw update and makes its job, or says why it is
// skipped. A skipped button press still gets a job, whose delivery only
// answers it (or the person's client keeps its spinner). An error means the
// body is not an update at all.
func updateJob(channel string, raw []byte) (store.NewJob, string, error) {
	var upd models.Update
	if err := json.Unmarshal(raw, &upd); err != nil {
		return store.NewJob{}, "", errors.New("body is not a Telegram update: malformed JSON")
	}
	var probe struct {
		UpdateID *int64 `json:"update_id"`
	}
	if json.Unmarshal(raw, &probe) != nil || probe.UpdateID == nil {
		return store.NewJob{}, "", errors.New("body is not a Telegram update: no update_id")
	}
	rt := route(&upd)
	job := store.NewJob{
		Channel:  channel,
		Kind:     store.KindUpdate,
		Lane:     inLane(rt.ChatID),
		DedupKey: "u:" + strconv.FormatInt(*probe.UpdateID, 10),
		Payload:  raw,
	}
	if rt.Skip != "" && (upd.CallbackQuery == nil || upd.CallbackQuery.ID == "") {
		return store.NewJob{}, rt.Skip, nil
	}
	return job, rt.Skip, nil
}

func (c *Channel) skipped(reason string, raw []byte) {
	updatesSkipped.WithLabelValues(reason).Inc()
	var probe struct {
		UpdateID int64 `json:"update_id"`
	}
	_ = json.Unmarshal(raw, &probe)
	c.log.Info("telegram update skipped", "reason", reason, "update_id", probe.UpdateID)
}

func inLane(chat int64) string  { return "in:" + strconv.FormatInt(chat, 10) }
func outLane(chat int64) string { return "out:" + strconv.FormatInt(chat, 10) }

func dupLabel(dup bool) string {
	if dup {
		return "duplicate"
	}
	return "stored"
}
