package turntest_test

import "testing"

const statusesPath = "/v1/numbers/" + number + "/statuses"

func TestStatuses(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		acceptFailed bool
		errs         string // "" means accepted
	}{
		{"sent", `{"status":{"id":"tg-1","status":"sent","timestamp":"1727291610"}}`, false, ""},
		{"delivered with recipient", `{"status":{"id":"tg-1","status":"delivered","timestamp":"1727291610","recipient_id":"5512784653"}}`, false, ""},
		{"read", `{"status":{"id":"tg-1","status":"read","timestamp":"1727291610"}}`, false, ""},
		{"failed by default", `{"status":{"id":"tg-1","status":"failed","timestamp":"1727291610"}}`, false, `{"status":{"status":["is invalid"]}}`},
		{"failed when accepted", `{"status":{"id":"tg-1","status":"failed","timestamp":"1727291610"}}`, true, ""},
		{"unknown status", `{"status":{"id":"tg-1","status":"seen","timestamp":"1727291610"}}`, true, `{"status":{"status":["is invalid"]}}`},
		{"not JSON", `status=sent`, false, `{"body":["is not valid JSON"]}`},
		{"no status object", `{"id":"tg-1","timestamp":"1"}`, false, `{"status":["can't be blank"]}`},
		{"status a string", `{"status":"sent"}`, false, `{"status":["is invalid"]}`},
		{"list of statuses", `{"status":[{"id":"tg-1","status":"sent","timestamp":"1"}]}`, false, `{"status":["is invalid"]}`},
		{"empty status", `{"status":{}}`, false, `{"status":{"id":["can't be blank"],"status":["can't be blank"],"timestamp":["can't be blank"]}}`},
		{"timestamp not digits", `{"status":{"id":"tg-1","status":"sent","timestamp":"now"}}`, false, `{"status":{"timestamp":["is invalid"]}}`},
		{"timestamp number", `{"status":{"id":"tg-1","status":"sent","timestamp":1727291610}}`, false, `{"status":{"timestamp":["is invalid"]}}`},
		{"recipient number", `{"status":{"id":"tg-1","status":"sent","timestamp":"1","recipient_id":5512784653}}`, false, `{"status":{"recipient_id":["is invalid"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.AcceptFailed(tt.acceptFailed)
			a := postJSON(t, s, statusesPath, tt.body)
			if tt.errs != "" {
				wantErrors(t, a, tt.errs)
				if n := len(s.Statuses(number)); n != 0 {
					t.Fatalf("rejected status recorded")
				}
				return
			}
			wantSuccess(t, a)
			if st := s.Statuses(number); len(st) != 1 || st[0].ID != "tg-1" || st[0].Timestamp != "1727291610" {
				t.Fatalf("recorded %+v", st)
			}
		})
	}
}
