package delivery

import (
	"errors"
	"fmt"
	"time"
)

// Class says what to do about a failed attempt.
type Class int

const (
	// ClassRetryable: try again later with exponential backoff (5xx, network).
	ClassRetryable Class = iota
	// ClassThrottled: the other side asked us to wait; retry after Wait without
	// counting the attempt as a failure.
	ClassThrottled
	// ClassPermanent: this job can never succeed (a 4xx that will not change).
	ClassPermanent
	// ClassGone: the recipient is unreachable for good (blocked, deactivated,
	// chat not found); later jobs for it should fail fast too.
	ClassGone
)

func (c Class) String() string {
	switch c {
	case ClassRetryable:
		return "retryable"
	case ClassThrottled:
		return "throttled"
	case ClassPermanent:
		return "permanent"
	case ClassGone:
		return "gone"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Error is a classified error.
type Error struct {
	Class Class
	Wait  time.Duration // for ClassThrottled
	Err   error
}

func (e *Error) Error() string {
	if e.Class == ClassThrottled {
		return fmt.Sprintf("%s (wait %s): %v", e.Class, e.Wait, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Class, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Retry marks err as worth retrying with backoff.
func Retry(err error) error { return &Error{Class: ClassRetryable, Err: err} }

// Throttle marks err as a request to wait d before trying again.
func Throttle(err error, d time.Duration) error {
	return &Error{Class: ClassThrottled, Wait: d, Err: err}
}

// Permanent marks err as final for this job.
func Permanent(err error) error { return &Error{Class: ClassPermanent, Err: err} }

// Gone marks err as the recipient being unreachable for good.
func Gone(err error) error { return &Error{Class: ClassGone, Err: err} }

// ClassOf returns err's class and wait; unclassified errors are Retryable,
// because losing a message to an unexpected error is worse than retrying it.
func ClassOf(err error) (Class, time.Duration) {
	var e *Error
	if errors.As(err, &e) {
		return e.Class, e.Wait
	}
	return ClassRetryable, 0
}
