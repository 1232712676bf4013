package sms_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/afkar-gov/afkar/channels/sms"
)

func TestPhonePrivacy(t *testing.T) {
	p, err := sms.NewPrivacy([]byte(strings.Repeat("k", 40)))
	if err != nil {
		t.Fatal(err)
	}
	const phone = "+989121234567"
	h := p.Hash(phone)
	if len(h) != 64 || h != p.Hash(phone) || h == p.Hash("+989121234568") || strings.Contains(h, "9121234567") {
		t.Fatalf("hash %q", h)
	}
	other, _ := sms.NewPrivacy([]byte(strings.Repeat("j", 40)))
	if other.Hash(phone) == h {
		t.Fatal("the hash must depend on the secret")
	}
	a, err := p.Seal(phone)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Seal(phone)
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("9121234567")) {
		t.Fatal("ciphertexts must be random and must not contain the number")
	}
	if got, err := p.Open(a, h); err != nil || got != phone {
		t.Fatalf("open: %q %v", got, err)
	}
	// Another number's hash, another key, a damaged or truncated ciphertext: nothing opens.
	if _, err := p.Open(a, p.Hash("+989121234568")); !errors.Is(err, sms.ErrUndecryptable) {
		t.Fatalf("moved ciphertext opened: %v", err)
	}
	if _, err := other.Open(a, h); !errors.Is(err, sms.ErrUndecryptable) {
		t.Fatalf("other key opened: %v", err)
	}
	damaged := append([]byte(nil), a...)
	damaged[len(damaged)-1] ^= 1
	for _, c := range [][]byte{damaged, a[:10], a[:1]} {
		if _, err := p.Open(c, h); !errors.Is(err, sms.ErrUndecryptable) || strings.Contains(err.Error(), "912") {
			t.Fatalf("damaged: %v", err)
		}
	}
	// An empty ciphertext (nil or empty bytes) is a number purged after the retention period.
	for _, c := range [][]byte{nil, {}} {
		if _, err := p.Open(c, h); !errors.Is(err, sms.ErrPurged) {
			t.Fatalf("purged: %v", err)
		}
	}
	if _, err := sms.NewPrivacy([]byte("short")); err == nil {
		t.Fatal("a short secret must be refused")
	}
}
