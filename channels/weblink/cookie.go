package weblink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// PosterCookiePath is where the browser sends poster cookies: only to poster pages.
const PosterCookiePath = "/p/"

// posterCookieName is the cookie remembering that this browser answered office's poster today;
// one per office, so answering one office's poster does not hide another's.
func posterCookieName(office survey.ID) string { return "afkar_p" + office.String() }

// tehranDayNumber is the number of the Tehran calendar day holding t, counted from 1970-01-01.
func tehranDayNumber(t time.Time) uint64 {
	d := survey.TehranDay(t)
	y, m, dd := d.Date()
	return uint64(time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (k *Keys) cookieTag(office survey.ID, day uint64) []byte {
	m := hmac.New(sha256.New, k.cookie)
	var b [2 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(b[:], uint64(office))
	n += binary.PutUvarint(b[n:], day)
	m.Write(b[:n])
	return m.Sum(nil)[:tagLen]
}

// AnsweredCookie is the cookie set after a poster answer: HttpOnly, SameSite=Lax, scoped to
// /p/, holding the Tehran day and a tag over the office and the day, and living until the
// day's end — then the browser may answer again.
func (k *Keys) AnsweredCookie(office survey.ID, now time.Time, secure bool) *http.Cookie {
	day := tehranDayNumber(now)
	val := binary.AppendUvarint(nil, day)
	val = append(val, k.cookieTag(office, day)...)
	end := survey.TehranDay(now).AddDate(0, 0, 1)
	return &http.Cookie{
		Name: posterCookieName(office), Value: base64.RawURLEncoding.EncodeToString(val),
		Path: PosterCookiePath, Expires: end, MaxAge: max(1, int(end.Sub(now).Seconds())),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	}
}

// AnsweredToday reports whether r carries a valid answered cookie for office on now's Tehran
// day. A forged, stale or garbled cookie is ignored (the form is shown).
func (k *Keys) AnsweredToday(r *http.Request, office survey.ID, now time.Time) bool {
	c, err := r.Cookie(posterCookieName(office))
	if err != nil {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) <= tagLen {
		return false
	}
	day, n := binary.Uvarint(raw)
	if n <= 0 || n != len(raw)-tagLen || day != tehranDayNumber(now) {
		return false
	}
	return hmac.Equal(k.cookieTag(office, day), raw[n:])
}

// PosterLink is the poster link of an office: a token that never expires.
func (k *Keys) PosterLink(agency, office survey.ID) (string, error) {
	return k.Issue(Link{Kind: KindPoster, AgencyID: agency, OfficeID: office})
}

// FormPath is the path a token's form is served at: /s/{token} for invitation links and
// /p/{token} for posters.
func FormPath(kind Kind, token string) string {
	if kind == KindPoster {
		return "/p/" + token
	}
	return "/s/" + token
}
