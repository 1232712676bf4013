// Package weblink is the web-link channel: the signed links a citizen opens to answer an agency's
// survey in a browser, from an SMS invitation (/s/{token}) or from a QR poster on an office wall
// (/p/{token}).
//
//   - Tokens. A link token is base64url(payload ‖ tag): the payload holds a version, the id of
//     the key that signed it, its kind (invitation or poster), the agency, the office, an
//     invitation id (0 until invitations exist), an expiry in Unix minutes (0: none) and a random
//     nonce, all as unsigned varints, and the tag is HMAC-SHA256 of the payload truncated to 128
//     bits. An invitation link is about 40 characters, so it fits in an SMS beside the question.
//     Nothing in a token is secret — it only has to be unforgeable — and the server keeps no
//     record of the links it made.
//   - Keys. The link key is derived from AFKAR_SECRET_KEY with HMAC and a label, so it differs
//     from every other use of the secret. Rotation: new links are signed with the current key;
//     the keys in AFKAR_SECRET_KEY_PREVIOUS still verify, so links in SMS already sent keep
//     working until they expire. A key id in the token picks the key; an unknown one is refused.
//   - Single use. An invitation link may answer once. Its token id (SHA-256 of the payload) is
//     claimed in weblink_uses in the request that accepts the answer, before the citizen is
//     thanked; the table's primary key decides a double submit, so exactly one response counts.
//   - Posters. A poster link names an office and does not expire; anyone may answer it, as often
//     as the per-IP rate limit allows, but a browser that answered today gets a signed HttpOnly
//     cookie (office and Tehran day) and is shown "you already answered today" instead of the
//     form until the day ends. The cookie only stops honest repeats: clearing it is easy, which
//     the rate limit and the responses' web channel (weighed apart in the scores) account for.
package weblink
