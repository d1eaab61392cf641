package telegramtest

import (
	"strings"

	"github.com/go-telegram/bot/models"
)

// The builders return updates as Telegram sends them, without update_id,
// message_id or date: PushUpdate fills those in. In a private chat the chat
// id is the user's id.

func user(id int64, first, last string) models.User {
	return models.User{ID: id, FirstName: first, LastName: last, LanguageCode: "en"}
}

func privateMessage(chatID int64, first, last string) models.Message {
	u := user(chatID, first, last)
	return models.Message{
		From: &u,
		Chat: models.Chat{ID: chatID, Type: models.ChatTypePrivate, FirstName: first, LastName: last},
	}
}

// UserMessage returns an update in which the user of private chat chatID
// sends m, given its content; From and Chat are set for that user.
func UserMessage(chatID int64, first, last string, m models.Message) models.Update {
	base := privateMessage(chatID, first, last)
	m.From, m.Chat = base.From, base.Chat
	return models.Update{Message: &m}
}

// UserText returns an update in which the user of private chat chatID sends
// text. A leading /command is marked as a bot_command, as Telegram does.
func UserText(chatID int64, first, last, text string) models.Update {
	m := privateMessage(chatID, first, last)
	m.Text = text
	m.Entities = commandEntity(text)
	return models.Update{Message: &m}
}

// GroupText returns an update in which user userID sends text to the group
// groupID (a negative id) titled title.
func GroupText(groupID, userID int64, title, first, last, text string) models.Update {
	u := user(userID, first, last)
	typ := models.ChatTypeGroup
	if groupID <= -1000000000000 {
		typ = models.ChatTypeSupergroup
	}
	m := models.Message{From: &u, Chat: models.Chat{ID: groupID, Type: typ, Title: title}, Text: text, Entities: commandEntity(text)}
	return models.Update{Message: &m}
}

func commandEntity(text string) []models.MessageEntity {
	if !strings.HasPrefix(text, "/") || len(text) < 2 {
		return nil
	}
	cmd, _, _ := strings.Cut(text, " ")
	cmd, _, _ = strings.Cut(cmd, "\n")
	return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: utf16Len(cmd)}}
}

// UserLocation returns an update in which the user shares a location.
func UserLocation(chatID int64, first, last string, latitude, longitude float64) models.Update {
	m := privateMessage(chatID, first, last)
	m.Location = &models.Location{Latitude: latitude, Longitude: longitude}
	return models.Update{Message: &m}
}

// UserContact returns an update in which the user shares their own contact.
func UserContact(chatID int64, first, last, phone string) models.Update {
	m := privateMessage(chatID, first, last)
	m.Contact = &models.Contact{PhoneNumber: phone, FirstName: first, LastName: last, UserID: chatID}
	return models.Update{Message: &m}
}

// UserPhoto returns an update in which the user sends data as a photo with
// a caption. Like Telegram, the fake keeps the photo in several sizes, each
// a file of the bot that getFile serves.
func (s *Server) UserPhoto(token string, chatID int64, first, last string, data []byte, caption string) models.Update {
	s.mu.Lock()
	sizes := s.photoSizesLocked(s.mustBotLocked(token), data, int64(len(data)), contentType("", "", data))
	s.mu.Unlock()
	m := privateMessage(chatID, first, last)
	m.Photo, m.Caption = photoSizes(sizes), caption
	return models.Update{Message: &m}
}

// UserVoice returns an update in which the user sends a voice note (OGG/Opus)
// lasting duration seconds.
func (s *Server) UserVoice(token string, chatID int64, first, last string, data []byte, duration int) models.Update {
	f := s.userFile(token, "voice", data, "voice.oga", "audio/ogg")
	m := privateMessage(chatID, first, last)
	m.Voice = &models.Voice{FileID: f.id, FileUniqueID: f.uniqueID, Duration: duration, MimeType: f.mimeType, FileSize: f.size}
	return models.Update{Message: &m}
}

// UserVideo returns an update in which the user sends an MP4 video.
func (s *Server) UserVideo(token string, chatID int64, first, last string, data []byte, caption string) models.Update {
	f := s.userFile(token, "video", data, "video.mp4", "video/mp4")
	m := privateMessage(chatID, first, last)
	m.Video = &models.Video{FileID: f.id, FileUniqueID: f.uniqueID, Width: 1280, Height: 720, Duration: 1,
		FileName: f.name, MimeType: f.mimeType, FileSize: f.size}
	m.Caption = caption
	return models.Update{Message: &m}
}

// UserDocument returns an update in which the user sends a file.
func (s *Server) UserDocument(token string, chatID int64, first, last string, data []byte, fileName, mimeType, caption string) models.Update {
	f := s.userFile(token, "document", data, fileName, contentType(mimeType, fileName, data))
	m := privateMessage(chatID, first, last)
	m.Document = &models.Document{FileID: f.id, FileUniqueID: f.uniqueID, FileName: f.name, MimeType: f.mimeType, FileSize: f.size}
	m.Caption = caption
	return models.Update{Message: &m}
}

// UserSticker returns an update in which the user sends a WEBP sticker.
func (s *Server) UserSticker(token string, chatID int64, first, last string, data []byte, emoji string) models.Update {
	f := s.userFile(token, "sticker", data, "sticker.webp", "image/webp")
	m := privateMessage(chatID, first, last)
	m.Sticker = &models.Sticker{FileID: f.id, FileUniqueID: f.uniqueID, Type: "regular", Width: 512, Height: 512,
		Emoji: emoji, FileSize: int(f.size)}
	return models.Update{Message: &m}
}

func (s *Server) userFile(token, kind string, data []byte, name, mimeType string) *storedFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newFileLocked(s.mustBotLocked(token), kind, data, int64(len(data)), name, mimeType)
}
