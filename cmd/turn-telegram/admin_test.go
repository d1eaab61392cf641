package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/turn-telegram/turn-telegram/channels"
	"github.com/turn-telegram/turn-telegram/internal/app"
)

// TestAdminAuth checks that every admin route needs the admin token, that
// the API is absent without ADMIN_TOKEN, and that a wrong token of any shape
// gets 401.
func TestAdminAuth(t *testing.T) {
	f := newFakes(t)
	without := startService(t, f.baseEnv(t))
	if status, _ := (&adminClient{t: t, token: testAdminToken}).do(without.url, http.MethodGet, "/admin/queue", nil); status != http.StatusNotFound {
		t.Errorf("without ADMIN_TOKEN /admin/queue answered %d, want 404", status)
	}

	e := f.baseEnv(t)
	e["ADMIN_TOKEN"] = testAdminToken
	svc := startService(t, e)
	routes := []struct{ method, path string }{
		{http.MethodGet, "/admin/channels"}, {http.MethodPost, "/admin/channels"}, {http.MethodGet, "/admin/channels/x"},
		{http.MethodDelete, "/admin/channels/x"}, {http.MethodPost, "/admin/channels/x/token"}, {http.MethodPost, "/admin/channels/x/disable"},
		{http.MethodPost, "/admin/channels/x/enable"}, {http.MethodPost, "/admin/rotate-key"}, {http.MethodGet, "/admin/queue"},
		{http.MethodGet, "/admin/queue/jobs"}, {http.MethodPost, "/admin/queue/jobs/1/retry"}, {http.MethodDelete, "/admin/queue/jobs/1"},
	}
	for _, tc := range []struct {
		name, header string
	}{
		{"no header", ""},
		{"wrong token", "Bearer not-the-admin-token-at-all"},
		{"token with a suffix", "Bearer " + testAdminToken + "x"},
		{"token prefix", "Bearer " + testAdminToken[:10]},
		{"basic scheme", "Basic " + testAdminToken},
		{"bare token", testAdminToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rt := range routes {
				req, _ := http.NewRequest(rt.method, svc.url+rt.path, strings.NewReader("{}"))
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: %d, want 401 with WWW-Authenticate", rt.method, rt.path, resp.StatusCode)
				}
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, svc.url+"/admin/queue", nil)
	req.Header.Set("Authorization", "bearer "+testAdminToken) // the scheme is case-insensitive
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the right token got %d, want 200", resp.StatusCode)
	}
}

// TestAdminAPI checks the admin API's answers: its error mapping, the
// channel operations with stored channels beside the environment's, and the
// queue view with a dead letter retried.
func TestAdminAPI(t *testing.T) {
	f := newFakes(t)
	f.tg.AddBot(clinicBotToken, "clinic_bot", "Clinic")
	e := f.adminEnv(t)
	e["CHANNEL_SYNC_INTERVAL"] = "200ms"
	svc := startService(t, e)
	adm := &adminClient{t: t, token: testAdminToken}

	type answer struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code, msg          string
	}{
		{"malformed JSON", http.MethodPost, "/admin/channels", []byte(`{"bot_token":`), 400, "invalid", "malformed JSON"},
		{"unknown field", http.MethodPost, "/admin/channels", map[string]string{"bot_tokn": "x"}, 400, "invalid", `unknown field "bot_tokn"`},
		{"invalid add", http.MethodPost, "/admin/channels", map[string]string{"bot_token": clinicBotToken}, 400, "invalid", "give either"},
		{"refused bot token", http.MethodPost, "/admin/channels", map[string]string{"bot_token": "7100000009:AAunknownBOTunknownBOTunknownBOTunk", "turn_token": testTurnToken}, 400, "invalid", "Telegram refused the bot token"},
		{"unknown channel", http.MethodGet, "/admin/channels/nope", nil, 404, "not_found", `no channel "nope"`},
		{"token of unknown channel", http.MethodPost, "/admin/channels/nope/token", map[string]string{"token": "t0k3n-for-nothing"}, 404, "not_found", `no channel "nope"`},
		{"remove unknown channel", http.MethodDelete, "/admin/channels/nope", nil, 404, "not_found", `no channel "nope"`},
		{"bad job id", http.MethodPost, "/admin/queue/jobs/abc/retry", nil, 400, "invalid", "job id must be a number"},
		{"retry unknown job", http.MethodPost, "/admin/queue/jobs/999999/retry", nil, 404, "not_found", "no dead job"},
		{"discard unknown job", http.MethodDelete, "/admin/queue/jobs/999999", nil, 404, "not_found", "no dead or idle waiting job"},
		{"bad state", http.MethodGet, "/admin/queue/jobs?state=lost", nil, 400, "invalid", "state must be"},
		{"bad limit", http.MethodGet, "/admin/queue/jobs?limit=0", nil, 400, "invalid", "limit must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := adm.do(svc.url, tc.method, tc.path, tc.body)
			var a answer
			if err := json.Unmarshal(body, &a); err != nil || status != tc.status || a.Code != tc.code || !strings.Contains(a.Error, tc.msg) {
				t.Fatalf("%s %s: %d %s; want %d, code %s, saying %q", tc.method, tc.path, status, body, tc.status, tc.code, tc.msg)
			}
		})
	}

	// Add, then a second add of the same bot conflicts.
	add := map[string]any{"key": "clinic", "bot_token": clinicBotToken, "turn_token": testTurnToken, "options": map[string]any{"rate_limit": 20}}
	if status, body := adm.do(svc.url, http.MethodPost, "/admin/channels", add); status != http.StatusCreated {
		t.Fatalf("add: %d %s", status, body)
	}
	add["key"] = "clinic2"
	if status, body := adm.do(svc.url, http.MethodPost, "/admin/channels", add); status != http.StatusConflict || !strings.Contains(string(body), `already serves channel \"clinic\"`) {
		t.Fatalf("second add of the bot: %d %s, want 409", status, body)
	}
	eventually(t, "the clinic is served", func() bool {
		v, _ := adm.view(svc.url, "clinic")
		return v.Served != nil && *v.Served && v.Webhook != nil && !v.Webhook.CheckedAt.IsZero()
	})
	v, _ := adm.view(svc.url, "clinic")
	if v.Webhook.URL != svc.url+"/channels/clinic/telegram" || v.Webhook.PendingUpdateCount != 0 || v.Options.RateLimit != 20 {
		t.Errorf("clinic's view: webhook %+v, options %+v", v.Webhook, v.Options)
	}
	status, body := adm.do(svc.url, http.MethodGet, "/admin/channels", nil)
	var list []channels.View
	if err := json.Unmarshal(body, &list); status != 200 || err != nil || len(list) != 1 || list[0].Key != "clinic" {
		t.Fatalf("list: %d %s", status, body)
	}
	if status, body := adm.do(svc.url, http.MethodPost, "/admin/rotate-key", nil); status != 200 || !strings.Contains(string(body), `"current": 1`) {
		t.Errorf("rotate-key with one key: %d %s", status, body)
	}

	// A message Telegram refuses for good becomes a dead letter; the
	// operator sees it and, the cause fixed, retries it.
	const chat = int64(777001)
	f.tg.FailNext("sendMessage", 1, 400, "Bad Request: message is too odd", 0)
	sendTurn(t, f, svc.url, fmt.Sprintf(`{"to":"%d","turn":{"type":"text","text":{"body":"refused once"}}}`, chat))
	var dead []app.JobView
	eventually(t, "the message is dead-lettered", func() bool {
		_, body := adm.do(svc.url, http.MethodGet, "/admin/queue/jobs?state=dead&kind=outbound", nil)
		dead = nil
		_ = json.Unmarshal(body, &dead)
		return len(dead) == 1
	})
	if j := dead[0]; j.Channel != testNumberID || !strings.Contains(j.LastError, "message is too odd") || j.Lane != fmt.Sprintf("out:%d", chat) {
		t.Errorf("dead job %+v", j)
	}
	_, body = adm.do(svc.url, http.MethodGet, "/admin/queue", nil)
	var stats []app.QueueStat
	if err := json.Unmarshal(body, &stats); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range stats {
		found = found || (s.Channel == testNumberID && s.Kind == "outbound" && s.State == "dead" && s.Count == 1)
	}
	if !found {
		t.Errorf("queue stats %s lack the dead outbound job", body)
	}
	if status, body := adm.do(svc.url, http.MethodPost, fmt.Sprintf("/admin/queue/jobs/%d/retry", dead[0].ID), nil); status != 200 {
		t.Fatalf("retry: %d %s", status, body)
	}
	if _, err := f.tg.WaitSent(testCtx(t), chat, 1); err != nil {
		t.Fatalf("the retried message was not sent: %v", err)
	}
	if status, _ := adm.do(svc.url, http.MethodDelete, fmt.Sprintf("/admin/queue/jobs/%d", dead[0].ID), nil); status != http.StatusNotFound {
		t.Errorf("discarding a delivered job: %d, want 404", status)
	}

	if status, body := adm.do(svc.url, http.MethodDelete, "/admin/channels/clinic", nil); status != 200 || !strings.Contains(string(body), `"removed": "clinic"`) {
		t.Errorf("remove: %d %s", status, body)
	}
	for _, a := range adm.seen {
		for _, s := range []string{clinicBotToken, "AAclinicHOSTEDclinicHOSTEDclinicHOS", testTurnToken, testBotSecret, testHMACSecret, testSecretKey, testAdminToken} {
			if strings.Contains(a, s) {
				t.Errorf("an admin answer holds a secret (%.6s…): %s", s, a)
			}
		}
	}
}

// TestAdminChannelsPaging checks GET /admin/channels?limit=&after=: pages
// in key order, a cursor (X-Next-After and a Link rel="next") while more
// follow and none on the last page, every channel once over the pages, the
// whole list without limit, and the bad parameters refused.
func TestAdminChannelsPaging(t *testing.T) {
	f := newFakes(t)
	svc := startService(t, f.adminEnv(t))
	adm := &adminClient{t: t, token: testAdminToken}
	var want []string
	for i := range 5 {
		key := fmt.Sprintf("page%d", 4-i) // added out of key order
		token := fmt.Sprintf("71000001%02d:AApagingBOTpagingBOTpagingBOT%02d", i, i)
		f.tg.AddBot(token, key+"_bot", "Paging")
		add := map[string]any{"key": key, "bot_token": token, "number_id": fmt.Sprintf("number-%d", i), "hmac_secret": "hmac-secret-of-the-number"}
		if status, body := adm.do(svc.url, http.MethodPost, "/admin/channels", add); status != http.StatusCreated {
			t.Fatalf("add %s: %d %s", key, status, body)
		}
		want = append([]string{key}, want...)
	}
	list := func(query string) ([]string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, svc.url+"/admin/channels"+query, nil)
		req.Header.Set("Authorization", "Bearer "+testAdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var views []channels.View
		if err := json.NewDecoder(resp.Body).Decode(&views); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /admin/channels%s: %d %v", query, resp.StatusCode, err)
		}
		var keys []string
		for _, v := range views {
			keys = append(keys, v.Key)
		}
		return keys, resp.Header
	}
	if all, h := list(""); strings.Join(all, ",") != strings.Join(want, ",") || h.Get("X-Next-After") != "" || h.Get("Link") != "" {
		t.Fatalf("without limit: %v (next %q), want %v and no cursor", all, h.Get("X-Next-After"), want)
	}
	var walked []string
	query, pages := "?limit=2", 0
	for {
		keys, h := list(query)
		pages++
		walked = append(walked, keys...)
		next := h.Get("X-Next-After")
		if next == "" {
			if h.Get("Link") != "" {
				t.Errorf("the last page has a Link %q", h.Get("Link"))
			}
			break
		}
		if len(keys) != 2 || next != keys[len(keys)-1] {
			t.Fatalf("page %d: %v, next %q; want 2 keys, the next after the last", pages, keys, next)
		}
		if link := h.Get("Link"); link != `</admin/channels?after=`+next+`&limit=2>; rel="next"` {
			t.Fatalf("page %d: Link %q", pages, link)
		}
		query = "?limit=2&after=" + next
	}
	if pages != 3 || strings.Join(walked, ",") != strings.Join(want, ",") {
		t.Fatalf("%d pages of %v, want 3 of %v", pages, walked, want)
	}
	if keys, h := list("?limit=5"); len(keys) != 5 || h.Get("X-Next-After") != "" {
		t.Errorf("a page of exactly every channel: %v, next %q; want 5 and no cursor", keys, h.Get("X-Next-After"))
	}
	if keys, _ := list("?after=page2"); strings.Join(keys, ",") != "page3,page4" {
		t.Errorf("after without limit: %v, want page3,page4", keys)
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?limit=", "?after=" + strings.Repeat("k", 65)} {
		status, body := adm.do(svc.url, http.MethodGet, "/admin/channels"+q, nil)
		if status != http.StatusBadRequest || !strings.Contains(string(body), `"code": "invalid"`) {
			t.Errorf("GET /admin/channels%s: %d %s, want 400 invalid", q, status, body)
		}
	}
}

// adminEnv is baseEnv serving hosted channels with the admin API: the
// environment's channel, SECRET_KEY, ADMIN_TOKEN, and PUBLIC_URL at the
// service's own address.
func (f *fakes) adminEnv(t *testing.T) testEnv {
	t.Helper()
	e := f.baseEnv(t)
	e["ADMIN_TOKEN"], e["SECRET_KEY"] = testAdminToken, testSecretKey
	e["PUBLIC_URL"] = "http://" + e["LISTEN_ADDR"]
	return e
}
