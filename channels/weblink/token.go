package weblink

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// Kind is what a link is for.
type Kind byte

// Kinds of link. An invitation link answers once and expires; a poster link names an office and
// may be answered by anyone (rate-limited, one answer a day per browser).
const (
	KindInvitation Kind = 1
	KindPoster     Kind = 2
)

// String names the kind for logs and JSON.
func (k Kind) String() string {
	switch k {
	case KindInvitation:
		return "invitation"
	case KindPoster:
		return "poster"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// tokenVersion is the payload layout below; a new layout gets a new version, and old links keep
// verifying as long as their version is understood.
const tokenVersion = 1

const (
	tagLen   = 16 // HMAC-SHA256 truncated to 128 bits
	nonceLen = 4  // random bytes that make each link (and its token id) unique
	// maxPayload bounds a payload: version/kind, key id, four varints of at most 10 bytes, nonce.
	maxPayload = 2 + 4*binary.MaxVarintLen64 + nonceLen
)

// Errors of Verify. A caller shows a friendly page for each; none says more than that.
var (
	// ErrMalformed is a token that is not one of ours at all: bad base64, wrong length, a
	// layout we do not know.
	ErrMalformed = errors.New("weblink: malformed token")
	// ErrUnknownKey is a well-formed token signed by a key this server no longer has (or never
	// had): rotated out of AFKAR_SECRET_KEY_PREVIOUS, or from another installation.
	ErrUnknownKey = errors.New("weblink: token signed by an unknown key")
	// ErrBadSignature is a token whose tag does not match: forged or altered.
	ErrBadSignature = errors.New("weblink: bad token signature")
	// ErrExpired is a genuine token past its expiry.
	ErrExpired = errors.New("weblink: token expired")
)

// Claims is what a verified token says.
type Claims struct {
	Kind         Kind
	KeyID        byte
	AgencyID     survey.ID
	OfficeID     survey.ID
	InvitationID survey.ID // 0: not from an invitation
	// Expires is the end of the link's life, to the minute; zero: it does not expire.
	Expires time.Time
	// ID identifies the token (hex SHA-256 of its payload): the key of weblink_uses. It never
	// leaves the server's database, so a leaked table does not give working links.
	ID string
}

// key is one signing key and the one-byte id tokens name it by.
type key struct {
	id  byte
	mac []byte
}

// Keys signs and verifies link tokens. Build it with NewKeys; it is safe for concurrent use.
type Keys struct {
	current  key
	previous []key
	cookie   []byte // the poster cookie's key, derived from the current secret
	rand     func([]byte) error
}

// Labels of the keys derived from AFKAR_SECRET_KEY: each use of the secret gets its own key, so
// a tag made for one use can never pass for another.
const (
	linkLabel   = "afkar/weblink/link/v1"
	cookieLabel = "afkar/weblink/poster-cookie/v1"
	keyIDLabel  = "afkar/weblink/key-id/v1"
)

// derive returns HMAC-SHA256(secret, label).
func derive(secret, label string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(label))
	return m.Sum(nil)
}

func newKey(secret string) key {
	return key{id: derive(secret, keyIDLabel)[0], mac: derive(secret, linkLabel)}
}

// NewKeys returns the keys of a server whose AFKAR_SECRET_KEY is secret and whose
// AFKAR_SECRET_KEY_PREVIOUS lists previous (older secrets that still verify links). The secret
// must not be empty.
func NewKeys(secret string, previous ...string) (*Keys, error) {
	if secret == "" {
		return nil, errors.New("weblink: no secret key")
	}
	k := &Keys{current: newKey(secret), cookie: derive(secret, cookieLabel), rand: func(b []byte) error {
		_, err := rand.Read(b)
		return err
	}}
	for _, p := range previous {
		if p != "" && p != secret {
			k.previous = append(k.previous, newKey(p))
		}
	}
	return k, nil
}

// Link is what Issue signs.
type Link struct {
	Kind         Kind
	AgencyID     survey.ID
	OfficeID     survey.ID
	InvitationID survey.ID
	// Expires is when the link stops working (rounded up to the minute); zero: never.
	Expires time.Time
}

// Issue signs l with the current key and returns its token.
func (k *Keys) Issue(l Link) (string, error) {
	if l.Kind != KindInvitation && l.Kind != KindPoster {
		return "", fmt.Errorf("weblink: unknown kind %d", l.Kind)
	}
	if l.AgencyID <= 0 || l.OfficeID < 0 || l.InvitationID < 0 {
		return "", errors.New("weblink: a link needs an agency and non-negative ids")
	}
	var exp uint64
	if !l.Expires.IsZero() {
		exp = uint64((l.Expires.Unix() + 59) / 60)
	}
	buf := make([]byte, 0, maxPayload+tagLen)
	buf = append(buf, tokenVersion<<4|byte(l.Kind), k.current.id)
	buf = binary.AppendUvarint(buf, uint64(l.AgencyID))
	buf = binary.AppendUvarint(buf, uint64(l.OfficeID))
	buf = binary.AppendUvarint(buf, uint64(l.InvitationID))
	buf = binary.AppendUvarint(buf, exp)
	nonce := make([]byte, nonceLen)
	if err := k.rand(nonce); err != nil {
		return "", fmt.Errorf("weblink: nonce: %w", err)
	}
	buf = append(buf, nonce...)
	buf = append(buf, tag(k.current.mac, buf)...)
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

func tag(mac, payload []byte) []byte {
	m := hmac.New(sha256.New, mac)
	m.Write(payload)
	return m.Sum(nil)[:tagLen]
}

// Verify checks token at now and returns its claims: ErrMalformed, ErrUnknownKey,
// ErrBadSignature or ErrExpired otherwise. The tag is compared in constant time.
func (k *Keys) Verify(token string, now time.Time) (Claims, error) {
	if len(token) > base64.RawURLEncoding.EncodedLen(maxPayload+tagLen) {
		return Claims{}, ErrMalformed
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 2+4+nonceLen+tagLen {
		return Claims{}, ErrMalformed
	}
	payload, got := raw[:len(raw)-tagLen], raw[len(raw)-tagLen:]
	if payload[0]>>4 != tokenVersion {
		return Claims{}, ErrMalformed
	}
	c := Claims{Kind: Kind(payload[0] & 0x0f), KeyID: payload[1]}
	if c.Kind != KindInvitation && c.Kind != KindPoster {
		return Claims{}, ErrMalformed
	}
	var ids [4]uint64
	rest := payload[2:]
	for i := range ids {
		v, n := binary.Uvarint(rest)
		if n <= 0 || v > 1<<62 {
			return Claims{}, ErrMalformed
		}
		ids[i], rest = v, rest[n:]
	}
	if len(rest) != nonceLen || ids[0] == 0 {
		return Claims{}, ErrMalformed
	}
	if err := k.check(c.KeyID, payload, got); err != nil {
		return Claims{}, err
	}
	c.AgencyID, c.OfficeID, c.InvitationID = survey.ID(ids[0]), survey.ID(ids[1]), survey.ID(ids[2])
	if ids[3] != 0 {
		c.Expires = time.Unix(int64(ids[3])*60, 0).UTC()
		if !now.Before(c.Expires) {
			return c, ErrExpired
		}
	}
	sum := sha256.Sum256(payload)
	c.ID = hex.EncodeToString(sum[:])
	return c, nil
}

// check finds the keys named id and compares the tag with each in constant time. Two secrets
// may share a one-byte id (1 in 256), so every key with the id is tried.
func (k *Keys) check(id byte, payload, got []byte) error {
	known := false
	for _, key := range append([]key{k.current}, k.previous...) {
		if key.id != id {
			continue
		}
		known = true
		if hmac.Equal(tag(key.mac, payload), got) {
			return nil
		}
	}
	if !known {
		return ErrUnknownKey
	}
	return ErrBadSignature
}
