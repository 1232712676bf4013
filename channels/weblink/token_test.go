package weblink

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

const (
	secretA = "0123456789abcdef0123456789abcdef-A"
	secretB = "0123456789abcdef0123456789abcdef-B"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func mustKeys(t *testing.T, secret string, prev ...string) *Keys {
	t.Helper()
	k, err := NewKeys(secret, prev...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	k := mustKeys(t, secretA)
	tok, err := k.Issue(Link{Kind: KindInvitation, AgencyID: 7, OfficeID: 130, InvitationID: 99, Expires: t0.Add(72 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) > 40 {
		t.Errorf("token is %d characters (%s), want ≤ 40 to fit an SMS", len(tok), tok)
	}
	if strings.ContainsAny(tok, "+/=") {
		t.Errorf("token %q is not URL-safe", tok)
	}
	c, err := k.Verify(tok, t0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindInvitation || c.AgencyID != 7 || c.OfficeID != 130 || c.InvitationID != 99 || !c.Expires.Equal(t0.Add(72*time.Hour)) {
		t.Errorf("claims = %+v", c)
	}
	if len(c.ID) != 64 {
		t.Errorf("token id %q, want hex sha256", c.ID)
	}
	tok2, _ := k.Issue(Link{Kind: KindInvitation, AgencyID: 7, OfficeID: 130, InvitationID: 99, Expires: t0.Add(72 * time.Hour)})
	c2, err := k.Verify(tok2, t0)
	if err != nil || tok2 == tok || c2.ID == c.ID {
		t.Errorf("two links for the same visit must differ: %q %q (%v)", tok, tok2, err)
	}
}

func TestVerifyExpiry(t *testing.T) {
	k := mustKeys(t, secretA)
	tok, _ := k.Issue(Link{Kind: KindInvitation, AgencyID: 1, OfficeID: 2, Expires: t0.Add(time.Hour)})
	if _, err := k.Verify(tok, t0.Add(time.Hour-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	for _, at := range []time.Time{t0.Add(time.Hour), t0.Add(1000 * time.Hour)} {
		if _, err := k.Verify(tok, at); !errors.Is(err, ErrExpired) {
			t.Errorf("at %v: err = %v, want ErrExpired", at, err)
		}
	}
	poster, _ := k.PosterLink(1, 2)
	if c, err := k.Verify(poster, t0.AddDate(30, 0, 0)); err != nil || c.Kind != KindPoster || !c.Expires.IsZero() {
		t.Errorf("a poster link never expires: %+v %v", c, err)
	}
}

func TestVerifyTamper(t *testing.T) {
	k := mustKeys(t, secretA)
	tok, _ := k.Issue(Link{Kind: KindInvitation, AgencyID: 3, OfficeID: 4, Expires: t0.Add(time.Hour)})
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	// Flip every bit of the payload and the tag in turn: none may verify.
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte(nil), raw...)
			b[i] ^= 1 << bit
			_, err := k.Verify(base64.RawURLEncoding.EncodeToString(b), t0)
			if err == nil {
				t.Fatalf("byte %d bit %d flipped still verifies", i, bit)
			}
		}
	}
	// Changing the office (byte 3: agency is one byte) is a bad signature, not anything else.
	b := append([]byte(nil), raw...)
	b[3] ^= 1
	if _, err := k.Verify(base64.RawURLEncoding.EncodeToString(b), t0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("altered office: %v, want ErrBadSignature", err)
	}
	for _, bad := range []string{"", "x", "!!!!", tok[:len(tok)-1], tok + "AA", strings.Repeat("A", 500)} {
		if _, err := k.Verify(bad, t0); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	old := mustKeys(t, secretA)
	tok, _ := old.Issue(Link{Kind: KindInvitation, AgencyID: 3, OfficeID: 4, Expires: t0.Add(time.Hour)})

	rotated := mustKeys(t, secretB, secretA)
	if _, err := rotated.Verify(tok, t0); err != nil {
		t.Errorf("a link signed with the previous key must verify: %v", err)
	}
	fresh, _ := rotated.Issue(Link{Kind: KindInvitation, AgencyID: 3, OfficeID: 4, Expires: t0.Add(time.Hour)})
	if _, err := old.Verify(fresh, t0); err == nil {
		t.Error("new links must be signed with the current key, which the old server does not have")
	}
	if _, err := mustKeys(t, secretB).Verify(fresh, t0); err != nil {
		t.Errorf("current key: %v", err)
	}
	if _, err := mustKeys(t, secretB).Verify(tok, t0); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a key dropped from the previous list: %v, want ErrUnknownKey", err)
	}
	// A derived key differs from the raw secret: a tag made with the secret itself fails.
	if string(old.current.mac) == secretA || string(old.cookie) == string(old.current.mac) {
		t.Error("link and cookie keys must be derived, and differ")
	}
}

func TestPosterCookie(t *testing.T) {
	k := mustKeys(t, secretA)
	now := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC) // 23:30 in Tehran
	c := k.AnsweredCookie(5, now, true)
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/p/" || !c.Secure {
		t.Errorf("cookie attributes: %+v", c)
	}
	req := httptest.NewRequest(http.MethodGet, "/p/x", nil)
	req.AddCookie(c)
	if !k.AnsweredToday(req, 5, now.Add(20*time.Minute)) {
		t.Error("same Tehran day: answered")
	}
	if k.AnsweredToday(req, 5, now.Add(31*time.Minute)) {
		t.Error("after Tehran midnight the browser may answer again")
	}
	if k.AnsweredToday(req, 6, now) {
		t.Error("another office's cookie name is different")
	}
	forged := httptest.NewRequest(http.MethodGet, "/p/x", nil)
	forged.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value[:len(c.Value)-2] + "AA"})
	if k.AnsweredToday(forged, 5, now) {
		t.Error("a forged cookie must not count")
	}
	other := httptest.NewRequest(http.MethodGet, "/p/x", nil)
	other.AddCookie(mustKeys(t, secretB).AnsweredCookie(5, now, false))
	if k.AnsweredToday(other, 5, now) {
		t.Error("a cookie of another key must not count")
	}
}

func TestQRSVGMatchesBitmap(t *testing.T) {
	svg, err := QRSVG("https://afkar.example/p/AbC")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := qrcode.New("https://afkar.example/p/AbC", qrcode.Medium)
	dark := 0
	for _, row := range q.Bitmap() {
		for _, m := range row {
			if m {
				dark++
			}
		}
	}
	// Sum the run lengths drawn: they must cover exactly the dark modules.
	drawn := 0
	s := string(svg)
	for _, part := range strings.Split(s, "M")[1:] {
		var x, y, w int
		if _, err := fmtSscanf(part, &x, &y, &w); err != nil {
			t.Fatalf("path segment %q: %v", part, err)
		}
		drawn += w
	}
	if drawn != dark || !strings.HasPrefix(s, "<svg") || len(svg) > 20000 {
		t.Errorf("svg draws %d modules, bitmap has %d dark; %d bytes", drawn, dark, len(svg))
	}
	png, err := QRPNG("https://afkar.example/p/AbC", 256)
	if err != nil || string(png[1:4]) != "PNG" {
		t.Errorf("png: %v", err)
	}
}

func fmtSscanf(s string, x, y, w *int) (int, error) { return fmt.Sscanf(s, "%d %dh%d", x, y, w) }
