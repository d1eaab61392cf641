package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/turn-telegram/turn-telegram/turn"
)

// routing says which chat an update belongs to and whether it is bridged.
// Exactly one of Kind and Skip is set.
type routing struct {
	// ChatID is the update's chat when it has one, also for skipped
	// updates so that their log lines say whose they were.
	ChatID int64
	// Kind is RouteMessage or RouteCallbackQuery for a bridged update.
	Kind string
	// Skip is why the update is not bridged: a short label from a fixed set
	// (never built from update content), fit for logs and metric labels.
	Skip string
}

// Kinds of bridged updates.
const (
	RouteMessage       = "message"
	RouteCallbackQuery = "callback_query"
)

// route tells which chat an update belongs to and whether it is bridged.
// Private-chat messages and callback queries are bridged; group and
// supergroup messages, channel posts, edited messages, edited channel posts,
// service messages and all other update kinds are skipped with a reason.
// Edits are skipped because Turn has no way to amend a message it already has.
// A skipped callback query must still be answered, or the user's client
// keeps its spinner.
func route(upd *models.Update) (r routing) {
	if upd == nil {
		return routing{Skip: "unsupported_update:empty"}
	}
	switch {
	case upd.Message != nil:
		return routeMessage(upd.Message)
	case upd.CallbackQuery != nil:
		return routeCallbackQuery(upd.CallbackQuery)
	case upd.EditedMessage != nil:
		return routing{ChatID: upd.EditedMessage.Chat.ID, Skip: "edited_message"}
	case upd.ChannelPost != nil:
		return routing{ChatID: upd.ChannelPost.Chat.ID, Skip: "channel_post"}
	case upd.EditedChannelPost != nil:
		return routing{ChatID: upd.EditedChannelPost.Chat.ID, Skip: "edited_channel_post"}
	case upd.MyChatMember != nil:
		return routing{ChatID: upd.MyChatMember.Chat.ID, Skip: "unsupported_update:my_chat_member"}
	case upd.ChatMember != nil:
		return routing{ChatID: upd.ChatMember.Chat.ID, Skip: "unsupported_update:chat_member"}
	case upd.ChatJoinRequest != nil:
		return routing{ChatID: upd.ChatJoinRequest.Chat.ID, Skip: "unsupported_update:chat_join_request"}
	}
	return routing{Skip: "unsupported_update:" + updateKind(upd)}
}

func routeMessage(m *models.Message) routing {
	r := routing{ChatID: m.Chat.ID}
	switch {
	case m.Chat.ID == 0:
		r.Skip = "missing_chat"
	case m.Chat.Type != models.ChatTypePrivate:
		r.Skip = chatTypeSkip(m.Chat.Type)
	case isServiceMessage(m):
		r.Skip = "service_message"
	default:
		// What can never be converted is skipped here, at acceptance,
		// rather than stored to become a dead letter.
		var ue *unsupportedError
		_, err := convertMessage(m)
		switch {
		case errors.As(err, &ue) && ue.Kind == "unknown":
			r.Skip = "empty_message" // nothing the Bot API names, e.g. photo: []
		case errors.As(err, &ue):
			r.Skip = "unsupported_message:" + ue.Kind
		case err != nil:
			r.Skip = "malformed_message"
		default:
			r.Kind = RouteMessage
		}
	}
	return r
}

func routeCallbackQuery(q *models.CallbackQuery) routing {
	var chat models.Chat
	switch {
	case q.Message.Message != nil:
		chat = q.Message.Message.Chat
	case q.Message.InaccessibleMessage != nil:
		// Presses on messages older than 48 h still name their chat.
		chat = q.Message.InaccessibleMessage.Chat
	default:
		// Only messages sent in inline mode lack a chat, and the connector
		// sends none.
		return routing{Skip: "inline_callback_query"}
	}
	r := routing{ChatID: chat.ID}
	switch {
	case chat.ID == 0:
		r.Skip = "missing_chat"
	case chat.Type != models.ChatTypePrivate:
		r.Skip = chatTypeSkip(chat.Type)
	case q.Data == "":
		// Game buttons carry game_short_name instead; the connector's
		// keyboards always carry data.
		r.Skip = "callback_without_data"
	default:
		r.Kind = RouteCallbackQuery
	}
	return r
}

func chatTypeSkip(t models.ChatType) string {
	switch t {
	case models.ChatTypeGroup, models.ChatTypeSupergroup:
		return "group_chat"
	case models.ChatTypeChannel:
		return "channel_chat"
	}
	return "unsupported_chat_type"
}

// updateKind names an update by its Bot API field; "unknown" covers kinds
// newer than the models package, which it decodes to an empty update.
func updateKind(u *models.Update) string {
	kinds := []struct {
		set  bool
		name string
	}{
		{u.BusinessConnection != nil, "business_connection"},
		{u.BusinessMessage != nil, "business_message"},
		{u.EditedBusinessMessage != nil, "edited_business_message"},
		{u.DeletedBusinessMessages != nil, "deleted_business_messages"},
		{u.MessageReaction != nil, "message_reaction"},
		{u.MessageReactionCount != nil, "message_reaction_count"},
		{u.InlineQuery != nil, "inline_query"},
		{u.ChosenInlineResult != nil, "chosen_inline_result"},
		{u.ShippingQuery != nil, "shipping_query"},
		{u.PreCheckoutQuery != nil, "pre_checkout_query"},
		{u.PurchasedPaidMedia != nil, "purchased_paid_media"},
		{u.Poll != nil, "poll"},
		{u.PollAnswer != nil, "poll_answer"},
		{u.ChatBoost != nil, "chat_boost"},
		{u.RemovedChatBoost != nil, "removed_chat_boost"},
	}
	for _, k := range kinds {
		if k.set {
			return k.name
		}
	}
	return "unknown"
}

// isServiceMessage reports messages Telegram generates about the chat
// rather than ones the person wrote.
func isServiceMessage(m *models.Message) bool {
	return len(m.NewChatMembers) > 0 || m.LeftChatMember != nil || m.NewChatTitle != "" ||
		len(m.NewChatPhoto) > 0 || m.DeleteChatPhoto || m.GroupChatCreated ||
		m.SupergroupChatCreated || m.ChannelChatCreated || m.MessageAutoDeleteTimerChanged != nil ||
		m.MigrateToChatID != 0 || m.MigrateFromChatID != 0 || m.PinnedMessage != nil ||
		m.SuccessfulPayment != nil || m.RefundedPayment != nil || m.UsersShared != nil ||
		m.ChatShared != nil || m.Gift != nil || m.UniqueGift != nil || m.GiftUpgradeSent != nil ||
		m.ConnectedWebsite != "" || m.WriteAccessAllowed != nil || m.PassportData != nil ||
		m.ProximityAlertTriggered != nil || m.BoostAdded != nil || m.ChatBackgroundSet != nil ||
		m.ChecklistTasksDone != nil || m.ChecklistTasksAdded != nil ||
		m.DirectMessagePriceChanged != nil || m.ForumTopicCreated != nil ||
		m.ForumTopicEdited != nil || m.ForumTopicClosed != nil || m.ForumTopicReopened != nil ||
		m.GeneralForumTopicHidden != nil || m.GeneralForumTopicUnhidden != nil ||
		m.GiveawayCreated != nil || m.GiveawayCompleted != nil || m.PaidMessagePriceChanged != nil ||
		m.ChatOwnerLeft != nil || m.ChatOwnerChanged != nil || m.SuggestedPostApproved != nil ||
		m.SuggestedPostApprovalFailed != nil || m.SuggestedPostDeclined != nil ||
		m.SuggestedPostPaid != nil || m.SuggestedPostRefunded != nil || m.VoiceChatScheduled != nil ||
		m.VoiceChatStarted != nil || m.VoiceChatEnded != nil || m.VoiceChatParticipantsInvited != nil ||
		m.WebAppData != nil
}

// converted is one Telegram message in Turn's inbound shape.
type converted struct {
	// Inbound is complete except the media Link and SHA256, which need the
	// file's bytes.
	Inbound turn.Inbound
	// File is the file to link for media types; nil otherwise.
	File *fileRef
	// ReplyTo is the message_id this message replies to (0 if none); the
	// caller maps it to a Turn id for message.context.
	ReplyTo int
}

// fileRef is a Telegram file to download and link. FileID is what getFile
// takes; FileUniqueID is stable across bots and is Turn's media id.
type fileRef struct {
	FileID, FileUniqueID string
	Size                 int64 // bytes; 0 when Telegram did not say
	MimeType, Filename   string
}

// errUnsupported is matched (errors.Is) by the errors convertMessage returns
// for messages Turn has no type for (dice, polls, games, ...).
var errUnsupported = errors.New("bot: unsupported message")

// unsupportedError names the kind of an unsupported message, a Bot API field
// name such as "dice", fit for a skip reason.
type unsupportedError struct{ Kind string }

func (e *unsupportedError) Error() string        { return "bot: unsupported message: " + e.Kind }
func (e *unsupportedError) Is(target error) bool { return target == errUnsupported }

// MessageID is the Turn message id of a Telegram message. message_id is
// unique only inside its chat, hence the chat in it; a retried update yields
// the same id, which lets Turn and the store see the duplicate.
func MessageID(chatID int64, messageID int) string {
	return "tg:" + strconv.FormatInt(chatID, 10) + ":" + strconv.Itoa(messageID)
}

// convertMessage turns one private-chat message into Turn's inbound shape.
// Any error means the message can never be delivered: the caller logs it and
// skips the message. Unsupported kinds give an *unsupportedError.
func convertMessage(msg *models.Message) (converted, error) {
	switch {
	case msg == nil:
		return converted{}, errors.New("bot: no message")
	case msg.Chat.ID <= 0 || msg.ID <= 0 || msg.Date <= 0:
		// Private chat ids are user ids, always positive.
		return converted{}, fmt.Errorf("bot: malformed message (chat %d, message %d, date %d)", msg.Chat.ID, msg.ID, msg.Date)
	case msg.Chat.Type != models.ChatTypePrivate:
		// The chat id becomes Turn's contact id: a group must never become one.
		return converted{}, fmt.Errorf("bot: message in a %q chat: only private chats are bridged", msg.Chat.Type)
	}
	chat := strconv.FormatInt(msg.Chat.ID, 10)
	c := converted{Inbound: turn.Inbound{
		Contact: turn.Contact{ID: chat, Profile: turn.Profile{Name: profileName(msg)}},
		Message: turn.InboundMessage{
			From:      chat,
			ID:        MessageID(msg.Chat.ID, msg.ID),
			Timestamp: strconv.Itoa(msg.Date),
		},
	}}
	if msg.ReplyToMessage != nil {
		c.ReplyTo = msg.ReplyToMessage.ID
	}
	im := &c.Inbound.Message

	text := func(body string) (converted, error) {
		im.Type, im.Text = turn.TypeText, &turn.Text{Body: body}
		return c, nil
	}
	// media sets a media type; turnName is the filename Turn gets, only
	// where its API lists one (video, document).
	media := func(typ string, f fileRef, turnName string) (converted, error) {
		if f.FileID == "" || f.FileUniqueID == "" {
			return converted{}, fmt.Errorf("bot: malformed message %d: %s without file id", msg.ID, typ)
		}
		m := &turn.Media{ID: f.FileUniqueID, MimeType: f.MimeType, Filename: turnName, Caption: msg.Caption}
		im.Type = typ
		switch typ {
		case turn.TypeImage:
			im.Image = m
		case turn.TypeVideo:
			im.Video = m
		case turn.TypeAudio:
			im.Audio = m
		case turn.TypeDocument:
			im.Document = m
		case turn.TypeSticker:
			im.Sticker = m
		}
		c.File = &f
		return c, nil
	}

	// Order matters: Telegram sends a document beside an animation and a
	// location beside a venue.
	switch {
	case msg.Text != "":
		// As typed, commands included: journeys match on the words, and
		// entities (bold, links) have no meaning to them.
		return text(msg.Text)
	case msg.Animation != nil:
		a := msg.Animation
		f := fileRef{a.FileID, a.FileUniqueID, a.FileSize, orDefault(a.MimeType, "video/mp4"), a.FileName}
		return media(turn.TypeVideo, f, a.FileName)
	case len(msg.Photo) > 0:
		p := largestPhoto(msg.Photo)
		// Telegram re-encodes every photo as JPEG.
		return media(turn.TypeImage, fileRef{p.FileID, p.FileUniqueID, int64(p.FileSize), "image/jpeg", ""}, "")
	case msg.Video != nil:
		v := msg.Video
		f := fileRef{v.FileID, v.FileUniqueID, v.FileSize, orDefault(v.MimeType, "video/mp4"), v.FileName}
		return media(turn.TypeVideo, f, v.FileName)
	case msg.VideoNote != nil:
		v := msg.VideoNote
		return media(turn.TypeVideo, fileRef{v.FileID, v.FileUniqueID, int64(v.FileSize), "video/mp4", ""}, "")
	case msg.Audio != nil:
		a := msg.Audio
		return media(turn.TypeAudio, fileRef{a.FileID, a.FileUniqueID, a.FileSize, orDefault(a.MimeType, "audio/mpeg"), a.FileName}, "")
	case msg.Voice != nil:
		v := msg.Voice
		return media(turn.TypeAudio, fileRef{v.FileID, v.FileUniqueID, v.FileSize, orDefault(v.MimeType, "audio/ogg"), ""}, "")
	case msg.Document != nil:
		d := msg.Document
		mt := orDefault(d.MimeType, "application/octet-stream")
		name := orDefault(d.FileName, "document"+extensionFor(mt))
		return media(turn.TypeDocument, fileRef{d.FileID, d.FileUniqueID, d.FileSize, mt, name}, name)
	case msg.Sticker != nil:
		s := msg.Sticker
		return media(turn.TypeSticker, fileRef{s.FileID, s.FileUniqueID, int64(s.FileSize), stickerMime(s), ""}, "")
	case msg.Venue != nil:
		return text(venueText(msg.Venue))
	case msg.Location != nil:
		l := msg.Location
		return text(fmt.Sprintf("📍 Location: %.6f, %.6f\n%s", l.Latitude, l.Longitude, mapsLink(*l)))
	case msg.Contact != nil:
		return text(contactText(msg.Contact))
	}
	return converted{}, &unsupportedError{Kind: contentKind(msg)}
}

// tooBigText is the text that replaces a media message whose file Telegram
// will not serve (getFile stops at 20 MB), e.g.
// "[video too large to forward: clip.mp4, 34.2 MB]", with the caption on the
// next line. It is "" when c carries no file.
func tooBigText(c converted) string {
	if c.File == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("[" + c.Inbound.Message.Type + " too large to forward: ")
	if c.File.Filename != "" {
		b.WriteString(c.File.Filename + ", ")
	}
	if c.File.Size > 0 {
		fmt.Fprintf(&b, "%.1f MB]", float64(c.File.Size)/(1<<20))
	} else {
		b.WriteString("over 20 MB]") // the update did not say; getFile did
	}
	if caption := inboundCaption(c.Inbound.Message); caption != "" {
		b.WriteString("\n" + caption)
	}
	return b.String()
}

// unavailableText is the text that replaces a media message whose file
// Telegram refuses to serve for another reason than its size (an unknown or
// expired file_id), e.g. "[sticker could not be forwarded: Telegram did not
// serve the file]", with the caption on the next line. It is "" when c
// carries no file.
func unavailableText(c converted) string {
	if c.File == nil {
		return ""
	}
	s := "[" + c.Inbound.Message.Type + " could not be forwarded: Telegram did not serve the file]"
	if caption := inboundCaption(c.Inbound.Message); caption != "" {
		s += "\n" + caption
	}
	return s
}

func inboundCaption(m turn.InboundMessage) string {
	for _, md := range []*turn.Media{m.Image, m.Video, m.Audio, m.Document, m.Sticker} {
		if md != nil {
			return md.Caption
		}
	}
	return ""
}

// profileName is the person's name as Telegram shows it, falling back to the
// username and then the chat id so Turn always has a name.
func profileName(msg *models.Message) string {
	name := strings.TrimSpace(msg.Chat.FirstName + " " + msg.Chat.LastName)
	username := msg.Chat.Username
	if msg.From != nil {
		if name == "" {
			name = strings.TrimSpace(msg.From.FirstName + " " + msg.From.LastName)
		}
		if username == "" {
			username = msg.From.Username
		}
	}
	switch {
	case name != "":
		return name
	case strings.TrimSpace(username) != "":
		return username
	}
	return strconv.FormatInt(msg.Chat.ID, 10)
}

// largestPhoto picks the biggest of the sizes Telegram offers, by pixels and
// then bytes: the order of the array is not promised.
func largestPhoto(sizes []models.PhotoSize) models.PhotoSize {
	best := sizes[0]
	for _, p := range sizes[1:] {
		pa, ba := int64(p.Width)*int64(p.Height), int64(best.Width)*int64(best.Height)
		if pa > ba || pa == ba && p.FileSize > best.FileSize {
			best = p
		}
	}
	return best
}

func stickerMime(s *models.Sticker) string {
	switch {
	case s.IsAnimated:
		return "application/x-tgsticker" // gzipped Lottie (.tgs)
	case s.IsVideo:
		return "video/webm"
	}
	return "image/webp"
}

func mapsLink(l models.Location) string {
	return fmt.Sprintf("https://maps.google.com/?q=%.6f,%.6f", l.Latitude, l.Longitude)
}

func venueText(v *models.Venue) string {
	lines := []string{"📍 Venue: " + v.Title}
	if v.Title == "" {
		lines[0] = "📍 Venue"
	}
	if v.Address != "" {
		lines = append(lines, v.Address)
	}
	return strings.Join(append(lines, mapsLink(v.Location)), "\n")
}

// contactText renders a shared contact; the vCard is left out, as it repeats
// the name and number in a form no journey reads. The number is kept as
// Telegram gives it (with or without "+"): guessing a country code could
// turn a local number into someone else's.
func contactText(ct *models.Contact) string {
	s := "👤 Contact"
	if name := strings.TrimSpace(ct.FirstName + " " + ct.LastName); name != "" {
		s += ": " + name
	}
	if ct.PhoneNumber != "" {
		s += "\n📞 " + ct.PhoneNumber
	}
	return s
}

// contentKind names what an unsupported message carries, by Bot API field.
func contentKind(m *models.Message) string {
	kinds := []struct {
		set  bool
		name string
	}{
		{m.Dice != nil, "dice"},
		{m.Poll != nil, "poll"},
		{m.Game != nil, "game"},
		{m.Story != nil, "story"},
		{m.PaidMedia != nil, "paid_media"},
		{m.Invoice != nil, "invoice"},
		{m.Checklist != nil, "checklist"},
		{m.Giveaway != nil, "giveaway"},
		{m.GiveawayWinners != nil, "giveaway_winners"},
	}
	for _, k := range kinds {
		if k.set {
			return k.name
		}
	}
	return "unknown"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
