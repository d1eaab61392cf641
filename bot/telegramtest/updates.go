package telegramtest

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// firstUpdateID is where update ids start: large, like Telegram's.
const firstUpdateID = 100000000

const maxLongPoll = 50 // seconds; Telegram's cap on getUpdates' timeout

// queuedUpdate is an update waiting to be confirmed (getUpdates) or
// delivered (webhook).
type queuedUpdate struct {
	id  int64
	raw json.RawMessage
}

// longPoll is a getUpdates call waiting for updates. done is closed, with
// reason set, when another call ends it with a 409.
type longPoll struct {
	done   chan struct{}
	reason string
}

// updateTypes are the update types allowed_updates may name.
var updateTypes = map[string]bool{
	"message": true, "edited_message": true, "channel_post": true, "edited_channel_post": true,
	"business_connection": true, "business_message": true, "edited_business_message": true,
	"deleted_business_messages": true, "message_reaction": true, "message_reaction_count": true,
	"inline_query": true, "chosen_inline_result": true, "callback_query": true,
	"shipping_query": true, "pre_checkout_query": true, "purchased_paid_media": true,
	"poll": true, "poll_answer": true, "my_chat_member": true, "chat_member": true,
	"chat_join_request": true, "chat_boost": true, "removed_chat_boost": true,
}

// notByDefault are the types a bot gets only when it asks for them.
var notByDefault = map[string]bool{"chat_member": true, "message_reaction": true, "message_reaction_count": true}

// parseAllowedUpdates reads allowed_updates. Absent, it changes nothing
// (set is false); an empty array restores the default (nil). Telegram
// silently ignores a malformed value, which hides the caller's bug, so the
// fake refuses it.
func parseAllowedUpdates(raw string) (allowed []string, set bool, aerr *apiError) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, false, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(raw), &list); err != nil || !strings.HasPrefix(raw, "[") {
		return nil, false, badRequest("can't parse allowed_updates: a JSON array of update types expected")
	}
	for i, t := range list {
		t = strings.ToLower(t)
		if !updateTypes[t] {
			return nil, false, badRequest("unknown update type %q in allowed_updates", t)
		}
		list[i] = t
	}
	if len(list) == 0 {
		return nil, true, nil
	}
	return list, true, nil
}

func (b *bot) allows(kind string) bool {
	if b.allowed == nil {
		return !notByDefault[kind]
	}
	for _, t := range b.allowed {
		if t == kind {
			return true
		}
	}
	return false
}

// PushUpdate queues an update for the bot, as if Telegram had received it,
// and returns the update_id it assigned (one more than the bot's last). upd
// is a models.Update (or pointer), or raw JSON as json.RawMessage, []byte or
// string. Messages without a message_id get the chat's next one, without a
// date the current time, and are remembered for replies, edits and
// deletes. The update is served by getUpdates or posted to the webhook. As
// in Telegram, an update of a type the bot's allowed_updates exclude is
// dropped, and PushUpdate returns 0.
func (s *Server) PushUpdate(token string, upd any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.mustBotLocked(token)
	var fields map[string]json.RawMessage
	switch u := upd.(type) {
	case models.Update:
		fields = s.updateFieldsLocked(b, u)
	case *models.Update:
		fields = s.updateFieldsLocked(b, *u)
	case json.RawMessage:
		fields = rawUpdateFields(u)
	case []byte:
		fields = rawUpdateFields(u)
	case string:
		fields = rawUpdateFields([]byte(u))
	default:
		panic("telegramtest: PushUpdate takes a models.Update or raw JSON")
	}
	return s.enqueueLocked(b, fields)
}

func rawUpdateFields(raw []byte) map[string]json.RawMessage {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		panic("telegramtest: PushUpdate: raw update is not a JSON object")
	}
	return fields
}

// updateFieldsLocked completes the messages of an update (ids, dates),
// remembers them and their chats, and returns the update's JSON fields.
func (s *Server) updateFieldsLocked(b *bot, u models.Update) map[string]json.RawMessage {
	complete := func(m *models.Message, isNew bool) *models.Message {
		if m == nil {
			return nil
		}
		c := *m
		if c.Date == 0 {
			c.Date = int(time.Now().Unix())
		}
		s.learnChatLocked(c.Chat, c.From)
		if isNew {
			c.ID = b.addMessageLocked(c, nil, false).msg.ID
		}
		return &c
	}
	u.Message = complete(u.Message, true)
	u.ChannelPost = complete(u.ChannelPost, true)
	u.BusinessMessage = complete(u.BusinessMessage, true)
	u.EditedMessage = complete(u.EditedMessage, false)
	u.EditedChannelPost = complete(u.EditedChannelPost, false)
	u.EditedBusinessMessage = complete(u.EditedBusinessMessage, false)
	raw, err := json.Marshal(&u)
	if err != nil {
		panic("telegramtest: PushUpdate: " + err.Error())
	}
	return rawUpdateFields(raw)
}

// enqueueLocked gives an update the bot's next update_id and queues it,
// unless its type is not allowed.
func (s *Server) enqueueLocked(b *bot, fields map[string]json.RawMessage) int64 {
	delete(fields, "update_id")
	if !b.allows(updateKind(fields)) {
		return 0
	}
	if b.lastUpdateID == 0 {
		b.lastUpdateID = firstUpdateID
	}
	b.lastUpdateID++
	fields["update_id"] = json.RawMessage(strconv.FormatInt(b.lastUpdateID, 10))
	raw, _ := json.Marshal(fields)
	b.queue = append(b.queue, queuedUpdate{id: b.lastUpdateID, raw: raw})
	b.wakeLocked()
	return b.lastUpdateID
}

// updateKind is the update's type: the name of its one optional field.
func updateKind(fields map[string]json.RawMessage) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if k != "update_id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// PendingUpdates returns how many updates wait for the bot: not yet
// confirmed by a getUpdates offset, or not yet delivered to the webhook.
func (s *Server) PendingUpdates(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mustBotLocked(token).queue)
}

// confirmLocked forgets updates as an offset confirms them: those below a
// positive offset; all but the last -offset for a negative one.
func (b *bot) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		n := 0
		for n < len(b.queue) && b.queue[n].id < offset {
			n++
		}
		b.queue = b.queue[n:]
	case offset < 0:
		if keep := int(-offset); keep < len(b.queue) {
			b.queue = b.queue[len(b.queue)-keep:]
		}
	}
}

func (b *bot) peekLocked(limit int) json.RawMessage {
	n := min(limit, len(b.queue))
	if n == 0 {
		return nil
	}
	out := []byte{'['}
	for i, u := range b.queue[:n] {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, u.raw...)
	}
	return append(out, ']')
}

// endPollLocked answers the waiting getUpdates, if any, with a 409.
func (b *bot) endPollLocked(reason string) {
	if b.poll != nil {
		b.poll.reason = reason
		close(b.poll.done)
		b.poll = nil
	}
}

func (s *Server) getUpdates(rq *request) (any, *apiError) {
	b := rq.bot
	offset := rq.integer("offset", 0)
	limit := int(min(max(rq.integer("limit", 100), 1), 100))
	timeout := min(max(rq.integer("timeout", 0), 0), maxLongPoll)
	allowed, set, aerr := parseAllowedUpdates(rq.str("allowed_updates"))
	if aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	if b.webhook != nil {
		s.mu.Unlock()
		return nil, conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
	}
	if set {
		b.allowed = allowed
	}
	b.confirmLocked(offset)
	if ups := b.peekLocked(limit); ups != nil || timeout == 0 {
		s.mu.Unlock()
		return orEmpty(ups), nil
	}
	// Telegram ends an earlier long poll of the bot when a new one comes.
	b.endPollLocked("terminated by other getUpdates request; make sure that only one bot instance is running")
	p := &longPoll{done: make(chan struct{})}
	b.poll = p
	notify := b.notify
	s.mu.Unlock()

	timer := time.NewTimer(time.Duration(timeout) * time.Second)
	defer timer.Stop()
	for {
		select {
		case <-p.done:
			return nil, conflict(p.reason)
		case <-notify:
			s.mu.Lock()
			if b.poll != p {
				s.mu.Unlock()
				return nil, conflict(p.reason)
			}
			if ups := b.peekLocked(limit); ups != nil {
				b.poll = nil
				s.mu.Unlock()
				return ups, nil
			}
			notify = b.notify
			s.mu.Unlock()
		case <-timer.C:
			return s.leavePoll(b, p)
		case <-rq.ctx.Done():
			return s.leavePoll(b, p)
		case <-s.ctx.Done():
			return s.leavePoll(b, p)
		}
	}
}

// leavePoll ends a long poll with no updates, unless another call has just
// ended it with a 409.
func (s *Server) leavePoll(b *bot, p *longPoll) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.poll != p {
		return nil, conflict(p.reason)
	}
	b.poll = nil
	return orEmpty(nil), nil
}

func orEmpty(ups json.RawMessage) json.RawMessage {
	if ups == nil {
		return json.RawMessage("[]")
	}
	return ups
}
