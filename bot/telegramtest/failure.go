package telegramtest

import "strings"

// failure is a pending FailNext injection.
type failure struct {
	method string // "" matches every method
	left   int
	err    apiError
}

// FailNext makes the next n calls of method ("" for any method) answer code
// with description (Telegram's wording for code when empty) instead of being
// handled. retryAfter, if positive, is sent as parameters.retry_after; a 429
// with retry_after also starts a pause for the call's chat, like a real one.
// Injections queue up: each call consumes the first one matching it.
func (s *Server) FailNext(method string, n, code int, description string, retryAfter int) {
	if code < 400 || code > 599 {
		panic("telegramtest: FailNext: code must be an HTTP error status")
	}
	if n <= 0 {
		return
	}
	if description == "" {
		description = defaultDescription(code, retryAfter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{
		method: method,
		left:   n,
		err:    apiError{code: code, description: description, retryAfter: retryAfter},
	})
}

func (s *Server) injectedFailure(method string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.failures {
		f := &s.failures[i]
		if f.method != "" && !strings.EqualFold(f.method, method) {
			continue
		}
		e := f.err
		f.left--
		if f.left == 0 {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
		}
		return &e
	}
	return nil
}
