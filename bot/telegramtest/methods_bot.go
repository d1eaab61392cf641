package telegramtest

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

func (s *Server) getMe(rq *request) (any, *apiError) {
	b := rq.bot
	return models.User{
		ID: b.ID, IsBot: true, FirstName: b.FirstName, Username: b.Username,
		CanJoinGroups: true,
	}, nil
}

// setMyCommands checks commands as Telegram does: at most 100, each command
// 1-32 of a-z, 0-9 and _, each description 1-256 characters.
func (s *Server) setMyCommands(rq *request) (any, *apiError) {
	var cmds []models.BotCommand
	if raw := strings.TrimSpace(rq.str("commands")); raw != "" {
		if err := json.Unmarshal([]byte(raw), &cmds); err != nil || !strings.HasPrefix(raw, "[") {
			return nil, badRequest("can't parse commands JSON object")
		}
	}
	if len(cmds) > 100 {
		return nil, badRequest("BOT_COMMANDS_TOO_MUCH")
	}
	for _, c := range cmds {
		if c.Command == "" || len(c.Command) > 32 || strings.Trim(c.Command, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(c.Description)); n == 0 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rq.bot.commands = cmds
	return true, nil
}

// Commands returns the bot's commands as last set with setMyCommands.
func (s *Server) Commands(token string) []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand(nil), s.mustBotLocked(token).commands...)
}
