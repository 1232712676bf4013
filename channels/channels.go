// Package channels is the home of the ways citizens reach Afkar — the lobby kiosk, the web link
// and QR poster, and SMS replies through Kavenegar — each in its own sub-package. Every channel
// turns its own input (a kiosk's offline batch, a form post, a Persian SMS reply) into a
// survey.Submission and hands it to intake through the one interface below, so validation,
// durability and exactly-once counting are the same whichever way a response came in.
package channels

import (
	"context"

	"github.com/afkar-gov/afkar/survey"
)

// Intake is what every channel calls to record a response: it validates the submission against
// its survey version and returns once the response is durable.
type Intake interface {
	Submit(ctx context.Context, s *survey.Submission) (survey.Response, error)
}
