// Package sms will carry the SMS channel: Kavenegar invitations after a visit, Persian reply
// parsing, the send queue and opt-outs (لغو ۱۱). The Kavenegar SDK is pinned in go.mod now
// (v0.0.0-20240205151018-77039f51467d, the one version the module proxy serves) so the channel
// builds against a known version; it has known bugs and will be wrapped, never used bare.
package sms

import _ "github.com/kavenegar/kavenegar-go" // pinned for the SMS channel; see package doc
