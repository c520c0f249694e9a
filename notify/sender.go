// Package notify pages on-call reviewers by SMS through Twilio, or through a
// dev outbox when no Twilio account is configured. It imports no other
// tipline package: pages carry only what a reviewer's phone may show.
package notify

import (
	"context"
	"errors"
)

// Sender sends one text message. Twilio is the real one; the dev outbox
// stands in when tipline runs without Twilio credentials.
type Sender interface {
	Send(ctx context.Context, to, body string) error
}

// PermanentError is a send that will fail the same way however often it is
// tried (an invalid number, a refused account): retrying only delays the
// next step.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent lets packages that cannot import notify tell a permanent
// failure from one worth retrying.
func (e *PermanentError) Permanent() bool { return true }

// Permanent tells whether err is a PermanentError.
func Permanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// maskPhone keeps only the last two digits of a number, for logs and the
// dev outbox: enough to tell two reviewers apart, not enough to call one.
func maskPhone(p string) string {
	if len(p) <= 2 {
		return "**"
	}
	return "…" + p[len(p)-2:]
}
