// Package sms is the SMS channel: citizens invited by text after a visit answer by replying, and
// replies are messy — Persian, Arabic-Indic or ASCII digits, words with negation, Finglish, emoji,
// phone numbers pasted in, the opt-out «۱۱». This package holds the pieces that understand them:
// Normalize (Persian text in one form for matching, DOMAIN.md §4), Parse (a reply to a rating, a
// command or a comment, as a pure function so a stored message can always be re-read), and
// NormalizePhone and Mask (one E.164 form for storing, hashing and sending; a masked form for
// every screen and log, DOMAIN.md §6).
//
// Sending through Kavenegar comes next. Its SDK is pinned in go.mod
// (v0.0.0-20240205151018-77039f51467d, the one version the module proxy serves) so the channel
// builds against a known version; it has known bugs and will be wrapped, never used bare.
package sms

import _ "github.com/kavenegar/kavenegar-go" // pinned for the SMS channel; see package doc
