// Package channels is the home of the ways citizens reach Afkar — the lobby kiosk, the web link
// and QR poster, and SMS replies through Kavenegar — each in its own sub-package. Every channel
// turns its own input (a kiosk's offline batch, a form post, a Persian SMS reply) into a
// survey.Submission and hands it to intake together with a survey.Origin that says where it came
// from (the channel, the device or invitation, the principal), so validation, durability and
// exactly-once counting are the same whichever way a response came in, and a body never decides
// its own channel. Each channel package declares the small interface it calls (intake's
// Submit(ctx, origin, submission)) itself, next to its only user.
package channels
