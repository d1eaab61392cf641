// Package delivery runs the durable job queue of the store: it claims jobs
// (head of their lane only, so each chat's messages go out in order), hands
// them to the handler registered for their kind, and turns the handler's
// outcome into the job's next state: done, retried with backoff, paused for
// a throttle, or dead-lettered with its reason.
//
// Errors are classified once, where they are produced, with the
// constructors in errors.go; the engine only reads the class.
package delivery
