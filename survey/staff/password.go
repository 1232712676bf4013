package staff

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/afkar-gov/afkar/survey"
)

// Argon2id parameters of new hashes: OWASP's first recommended set (19 MiB, 2 passes, 1 lane).
// Chosen over 64 MiB/1/2 because Afkar runs on small province servers where several staff log in
// at once at 07:30: 19 MiB keeps ten concurrent logins under 200 MiB, and OWASP rates the two
// sets as equivalent in strength. A stored hash with other parameters is re-hashed with these
// at the next successful login (NeedsRehash), so raising them later upgrades every account.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonLanes     = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// MinPasswordLen is the shortest password accepted (in characters, not bytes).
const MinPasswordLen = 10

// MaxPasswordLen bounds what is hashed, so a megabyte "password" cannot cost a megabyte of work.
const MaxPasswordLen = 256

// hashSlots bounds concurrent Argon2 computations: each holds argonMemoryKiB, so a burst of
// login attempts queues instead of exhausting memory.
var hashSlots = make(chan struct{}, 2)

func acquire(ctx context.Context) error {
	select {
	case hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return survey.Wrap(survey.ECodeUnavailable, ctx.Err(), "سرور مشغول است؛ دوباره تلاش کنید.", "server busy; try again")
	}
}

func release() { <-hashSlots }

// HashPassword returns the PHC string of password under the current parameters:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func HashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", survey.Wrap(survey.ECodeInternal, err, "خطای داخلی رخ داد.", "random source failed")
	}
	if err := acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonLanes, argonKeyLen)
	release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonLanes,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

type phc struct {
	m       uint32
	t       uint32
	p       uint8
	salt    []byte
	key     []byte
	version int
}

func parsePHC(s string) (phc, bool) {
	var h phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &h.version); err != nil || h.version != argon2.Version {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.m, &h.t, &h.p); err != nil || h.m == 0 || h.t == 0 || h.p == 0 || h.m > 1<<20 || h.t > 16 {
		return h, false
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, false
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return h, false
	}
	return h, true
}

// VerifyPassword reports whether password matches the PHC string encoded, comparing in constant
// time; an unreadable hash never matches.
func VerifyPassword(ctx context.Context, encoded, password string) (bool, error) {
	h, ok := parsePHC(encoded)
	if !ok {
		h, _ = parsePHC(dummyHash()) // same work as a real check, then no match
		encoded = ""
	}
	if err := acquire(ctx); err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.t, h.m, h.p, uint32(len(h.key)))
	release()
	return encoded != "" && subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than the current ones.
func NeedsRehash(encoded string) bool {
	h, ok := parsePHC(encoded)
	return !ok || h.m != argonMemoryKiB || h.t != argonTime || h.p != argonLanes || len(h.key) != argonKeyLen
}

var (
	dummyOnce sync.Once
	dummy     string
)

// dummyHash is a hash of a random password under the current parameters: logins for unknown
// accounts verify against it, so they cost what a real check costs and time reveals nothing.
func dummyHash() string {
	dummyOnce.Do(func() {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		salt := make([]byte, argonSaltLen)
		_, _ = rand.Read(salt)
		key := argon2.IDKey(b, salt, argonTime, argonMemoryKiB, argonLanes, argonKeyLen)
		dummy = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonLanes,
			base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	})
	return dummy
}

// CheckPassword applies the password rules: at least MinPasswordLen characters, at most
// MaxPasswordLen, and not the login (in any letter case). The error is ECodeInvalid on field.
func CheckPassword(field, login, password string) error {
	n := utf8.RuneCountInString(password)
	var fa, en, code string
	switch {
	case n < MinPasswordLen:
		code, fa, en = "too_short", "گذرواژه باید دست‌کم ۱۰ نویسه باشد.", "the password needs at least 10 characters"
	case n > MaxPasswordLen:
		code, fa, en = "too_long", "گذرواژه بیش از اندازه بلند است.", "the password is too long"
	case strings.EqualFold(strings.TrimSpace(password), login) || strings.Contains(strings.ToLower(password), strings.ToLower(login)) && len(login) >= 4 && n < len(login)+4:
		code, fa, en = "same_as_login", "گذرواژه نباید نام کاربری باشد.", "the password must not be the login"
	default:
		return nil
	}
	return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
		Fields: map[string]survey.FieldError{field: {Code: code, Message: en, MessageFA: fa}}}
}

// passwordAlphabet avoids look-alikes (0/O, 1/l/I), since one-time passwords are read aloud or
// copied from a screen.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random 16-character password (about 93 bits).
func GeneratePassword() string {
	const limit = 256 - 256%len(passwordAlphabet) // rejection sampling: no modulo bias
	out := make([]byte, 0, 16)
	b := make([]byte, 32)
	for len(out) < 16 {
		_, _ = rand.Read(b)
		for _, c := range b {
			if int(c) < limit && len(out) < 16 {
				out = append(out, passwordAlphabet[int(c)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}
