package turntest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/turn-telegram/turn-telegram/turn"
)

// DefaultWait bounds WaitMessages and WaitStatuses when ctx has no
// deadline, so that a test waiting for something that never comes fails
// instead of hanging.
const DefaultWait = 10 * time.Second

// Messages returns the inbound messages accepted for numberID, in order.
func (s *Server) Messages(numberID string) []turn.Inbound {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(numberID)
}

func (s *Server) messagesLocked(numberID string) []turn.Inbound {
	if n := s.numbers[numberID]; n != nil {
		return slices.Clone(n.messages)
	}
	return nil
}

// Statuses returns the statuses accepted for numberID, in order.
func (s *Server) Statuses(numberID string) []turn.StatusObject {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusesLocked(numberID)
}

func (s *Server) statusesLocked(numberID string) []turn.StatusObject {
	if n := s.numbers[numberID]; n != nil {
		return slices.Clone(n.statuses)
	}
	return nil
}

// CreatedChannels returns the channels created through POST /v1/numbers.
func (s *Server) CreatedChannels() []CreatedChannel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// Requests returns how many HTTP requests the server has received, of any
// kind and outcome.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Rejected returns how many requests were answered with status (>= 400).
func (s *Server) Rejected(status int) int {
	s.rejMu.Lock()
	defer s.rejMu.Unlock()
	return s.rejected[status]
}

// Rejections returns the count of answers of 400 and above by status code.
func (s *Server) Rejections() map[int]int {
	s.rejMu.Lock()
	defer s.rejMu.Unlock()
	return maps.Clone(s.rejected)
}

// WaitMessages waits until at least n messages were accepted for numberID
// and returns them all. It fails when ctx ends first (after DefaultWait if
// ctx has no deadline), returning what arrived so far.
func (s *Server) WaitMessages(ctx context.Context, numberID string, n int) ([]turn.Inbound, error) {
	return waitFor(ctx, s, n, "messages for "+numberID, func() []turn.Inbound { return s.messagesLocked(numberID) })
}

// WaitStatuses is WaitMessages for statuses.
func (s *Server) WaitStatuses(ctx context.Context, numberID string, n int) ([]turn.StatusObject, error) {
	return waitFor(ctx, s, n, "statuses for "+numberID, func() []turn.StatusObject { return s.statusesLocked(numberID) })
}

// waitFor re-reads get (under s.mu) whenever something is recorded, until
// it has n items or ctx ends.
func waitFor[T any](ctx context.Context, s *Server, n int, what string, get func() []T) ([]T, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWait)
		defer cancel()
	}
	for {
		s.mu.Lock()
		items, changed := get(), s.changed
		s.mu.Unlock()
		if len(items) >= n {
			return items, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return items, fmt.Errorf("turntest: got %d of %d %s: %w", len(items), n, what, ctx.Err())
		}
	}
}
