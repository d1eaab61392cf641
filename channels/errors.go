package channels

import (
	"errors"
	"fmt"
)

// Code classifies an operation's failure for its caller: the admin API maps
// each to one HTTP status, the command line prints the message.
type Code string

const (
	Invalid     Code = "invalid"     // the request cannot succeed as given
	NotFound    Code = "not_found"   // no such channel
	Conflict    Code = "conflict"    // the channel or bot exists, or changed meanwhile
	Unavailable Code = "unavailable" // Telegram, Turn or the store failed; try again
	Internal    Code = "internal"    // a fault of this service
)

// Error is an operation's failure. Message is safe to show to the operator:
// it never holds a secret.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, for logs; may be nil
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// CodeOf is err's Code: "" for nil, Internal for errors not made here.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf is err's operator-safe message ("internal error" for errors not
// made here, whose text is not known to be safe).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
