package kiosk

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"
	"unicode"

	"github.com/afkar-gov/afkar/survey"
)

// CodeAlphabet is what pairing codes are made of: digits and capital Latin letters without the
// ones people confuse (0/O, 1/I/L), so a code read off a sheet or said over the phone is typed
// right the first time.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLength is the length of a pairing code: 31⁸ ≈ 8.5 × 10¹¹ codes, against a per-IP rate limit
// and a TTL of minutes.
const CodeLength = 8

// NewPairingCode returns a fresh random pairing code (crypto/rand, uniform over CodeAlphabet).
func NewPairingCode() (string, error) {
	b := make([]byte, CodeLength)
	n := big.NewInt(int64(len(CodeAlphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", err
		}
		b[i] = CodeAlphabet[k.Int64()]
	}
	return string(b), nil
}

// NormalizeCode turns a code as a person typed it into the stored form: Persian and Arabic-Indic
// digits to ASCII, letters upper-case, spaces, dashes and invisible marks removed ("abcd-۲۳۴۵" →
// "ABCD2345"). It reports false when what remains cannot be a pairing code, so a typo is answered
// like an unknown code without a lookup.
func NormalizeCode(s string) (string, bool) {
	s = survey.NormalizeDigits(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), r == '-', r == '_', r == '\u200c', unicode.Is(unicode.Pd, r):
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	code := b.String()
	if len(code) != CodeLength {
		return code, false
	}
	for i := 0; i < len(code); i++ {
		if strings.IndexByte(CodeAlphabet, code[i]) < 0 {
			return code, false
		}
	}
	return code, true
}

// DisplayCode writes a code in two groups of four ("ABCD-EFGH"), the way it is printed and
// shown; NormalizeCode reads it back.
func DisplayCode(code string) string {
	if len(code) != CodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// TokenPrefix starts every device token, so people and secret scanners can tell a kiosk's token
// from a staff token ("afk_").
const TokenPrefix = "afkk_"

// NewDeviceToken returns a fresh device token: TokenPrefix and 32 random bytes in base64url.
func NewDeviceToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashToken is what storage keeps of a device token: the hex SHA-256, so a leaked table holds
// no usable token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// looksLikeToken reports whether s could be a device token at all, so that staff tokens and
// garbage are refused without a lookup.
func looksLikeToken(s string) bool {
	return strings.HasPrefix(s, TokenPrefix) && len(s) == len(TokenPrefix)+43
}
