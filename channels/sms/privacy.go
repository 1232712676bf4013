package sms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Privacy keeps citizens' phone numbers out of reach (DOMAIN.md §6): a number is stored
// encrypted, to send to it, and as a keyed hash, to match replies, apply the frequency cap and
// honour opt-outs without decrypting anything. Both keys are derived from AFKAR_SECRET_KEY with
// distinct labels, so neither key can be computed from the other, and a database dump without
// the secret reveals neither the numbers nor a way to test guesses against the hashes (a plain
// hash of an Iranian mobile number is reversed by trying the ~10⁹ candidates).
type Privacy struct {
	aead    cipher.AEAD
	hashKey []byte
}

// The labels the two keys are derived under. A new label (…/v2) is a new key: changing them
// makes every stored hash and ciphertext unreadable, so they never change for a deployment.
const (
	labelPhoneEnc  = "afkar/sms/phone-encryption/v1"
	labelPhoneHash = "afkar/sms/phone-hash/v1"
)

// sealVersion is the first byte of every ciphertext, naming the key and layout (AES-256-GCM,
// 12-byte random nonce, then the sealed number), so a later key can be introduced beside it.
const sealVersion = 1

// MinSecretBytes is the shortest secret NewPrivacy accepts (the configuration asks for 32).
const MinSecretBytes = 32

// ErrUndecryptable is Open's answer for a ciphertext this key did not produce (or a damaged
// one). It says nothing about the number.
var ErrUndecryptable = errors.New("sms: stored phone number cannot be decrypted with this key")

// ErrPurged is Open's answer for an empty ciphertext: the number was forgotten after the
// retention period (Retention) and only its hash is left.
var ErrPurged = errors.New("sms: the phone number was purged after the retention period")

// NewPrivacy derives the encryption and hash keys from secret (AFKAR_SECRET_KEY).
func NewPrivacy(secret []byte) (*Privacy, error) {
	if len(secret) < MinSecretBytes {
		return nil, errors.New("sms: the secret key is shorter than 32 bytes")
	}
	block, err := aes.NewCipher(deriveKey(secret, labelPhoneEnc))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Privacy{aead: aead, hashKey: deriveKey(secret, labelPhoneHash)}, nil
}

// deriveKey is HMAC-SHA256(secret, label): a 32-byte key per purpose (the expand step of HKDF
// with one block, which is all a 32-byte key needs).
func deriveKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Hash is the keyed hash of an E.164 number (HMAC-SHA256, hex): the number's identity in
// storage. Normalise first (NormalizePhone): "09121234567" and "+989121234567" must hash alike.
func (p *Privacy) Hash(e164 string) string {
	m := hmac.New(sha256.New, p.hashKey)
	m.Write([]byte(e164))
	return hex.EncodeToString(m.Sum(nil))
}

// Seal encrypts an E.164 number for storage. The hash is the additional data, so a ciphertext
// moved to another number's row does not decrypt.
func (p *Privacy) Seal(e164 string) ([]byte, error) {
	nonce := make([]byte, p.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{sealVersion}, nonce...)
	return p.aead.Seal(out, nonce, []byte(e164), []byte(p.Hash(e164))), nil
}

// Open decrypts what Seal produced for the number whose hash is hash; an empty ciphertext is a
// purged number (ErrPurged).
func (p *Privacy) Open(sealed []byte, hash string) (string, error) {
	if len(sealed) == 0 {
		return "", ErrPurged
	}
	n := p.aead.NonceSize()
	if len(sealed) < 1+n+p.aead.Overhead() || sealed[0] != sealVersion {
		return "", ErrUndecryptable
	}
	plain, err := p.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(hash))
	if err != nil {
		return "", ErrUndecryptable
	}
	return string(plain), nil
}
