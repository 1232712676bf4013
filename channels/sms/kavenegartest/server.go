// Package kavenegartest is a fake Kavenegar REST API on httptest for the SMS channel's tests:
// it speaks the documented envelope ({"return":{"status","message"},"entries"}) on
// sms/send.json, sms/status.json, sms/statuslocalmessageid.json, sms/receive.json and
// account/info.json, under /v1/{API-KEY}/…, so the real kavenegar-go SDK reaches it through its
// BaseURL. It behaves like the real service where Afkar depends on it — a repeated localid is
// not sent again, receive with isread=0 returns unread messages and marks them read, errors
// come as envelopes with the HTTP status mirroring return.status — and lets a test program
// failures per call (a code, a proxy page, a delay that outlasts the client's timeout, a send
// that happens although its answer is an error).
package kavenegartest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
)

// The endpoints the fake serves, as FailNext and Calls name them.
const (
	Send        = "sms/send"
	Status      = "sms/status"
	StatusLocal = "sms/statuslocalmessageid"
	Receive     = "sms/receive"
	AccountInfo = "account/info"
)

// Line is the fake's sender line (a Kavenegar service line looks like this).
const Line = "10008663"

// CostPerPart is what the fake charges per SMS part, in rials.
const CostPerPart = 1350

// Failure is one programmed answer that replaces the next call of an endpoint.
type Failure struct {
	// Status is return.status in the error envelope (409, 411, 418…); 0 with a Delay means
	// "answer normally, late".
	Status int
	// HTTPStatus is the HTTP status; 0 means the same as Status (as Kavenegar does), or 502
	// with Body.
	HTTPStatus int
	// Body replaces the envelope with a raw body (a proxy's HTML page, an empty 502).
	Body string
	// Delay holds the answer back (ending early if the client gives up), to make the client
	// time out.
	Delay time.Duration
	// Deliver makes a send happen before the failure is answered: the lost-reply case, where the
	// SMS went out but the client saw an error.
	Deliver bool
}

// SentSMS is one SMS the fake has "sent" (a repeated localid adds none).
type SentSMS struct {
	MessageID string
	LocalID   string
	Receptor  string
	Sender    string
	Text      string
	Hide      bool
	Status    int
	Cost      int64
	Date      int64
}

type inbound struct {
	id       int64
	from     string
	text     string
	date     int64
	read     bool
	receptor string
}

// Server is the fake. Create it with New; its zero value is not usable.
type Server struct {
	// APIKey is the key the fake accepts in the path (random per server); others get 403.
	APIKey string

	srv *httptest.Server

	mu       sync.Mutex
	nextID   int64
	sent     []SentSMS
	byLocal  map[string]int
	byID     map[string]int
	inbox    []*inbound
	failures map[string][]Failure
	calls    map[string]int
}

// New starts a fake Kavenegar with a random API key, closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s := &Server{
		APIKey:   "KEY" + strings.ToUpper(hex.EncodeToString(key)),
		nextID:   8_000_000_000,
		byLocal:  map[string]int{},
		byID:     map[string]int{},
		failures: map[string][]Failure{},
		calls:    map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to give the SDK (KavenegarConfig.BaseURL).
func (s *Server) URL() string { return s.srv.URL + "/" }

// FailNext queues failures for the next calls of endpoint, in order.
func (s *Server) FailNext(endpoint string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[endpoint] = append(s.failures[endpoint], fs...)
}

// Calls is how many requests reached endpoint (with the right key or not).
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// Sent returns a copy of the SMS sent so far.
func (s *Server) Sent() []SentSMS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentSMS(nil), s.sent...)
}

// SetStatus moves a sent message to a delivery status (10 delivered, 11 undelivered, 14
// blocked…), as the operator's reports would; it reports whether the id is known.
func (s *Server) SetStatus(messageID string, status int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[messageID]
	if ok {
		s.sent[i].Status = status
	}
	return ok
}

// Inject receives an SMS from a citizen on Line, unread; it returns its message id.
func (s *Server) Inject(from, text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.inbox = append(s.inbox, &inbound{id: s.nextID, from: from, text: text, date: time.Now().Unix(),
		receptor: Line})
	return strconv.FormatInt(s.nextID, 10)
}

// statusText is Kavenegar's Persian text per delivery status.
var statusText = map[int]string{
	1: "در صف ارسال", 2: "زمان‌بندی شده", 4: "ارسال به مخابرات", 5: "ارسال به مخابرات",
	6: "خطا در ارسال", 10: "رسیده به گیرنده", 11: "نرسیده به گیرنده", 13: "لغو شده",
	14: "بلاک شده توسط گیرنده", 100: "شناسه پیامک نامعتبر است",
}

// errorText is Kavenegar's message per error status (shortened).
var errorText = map[int]string{
	400: "پارامترها ناقص هستند", 401: "حساب کاربری غیرفعال شده است", 403: "کد شناسائی API-Key معتبر نمی‌باشد",
	404: "متد نامشخص است", 406: "پارامترهای اجباری خالی ارسال شده اند", 407: "دسترسی به اطلاعات مورد نظر برای شما امکان پذیر نیست",
	409: "سرور قادر به پاسخگوئی نیست بعدا تلاش کنید", 411: "دریافت کننده نامعتبر است", 412: "ارسال کننده نامعتبر است",
	413: "پیام خالی است و یا طول پیام بیش از حد مجاز می‌باشد", 414: "حجم درخواست بیشتر از حد مجاز است",
	416: "IP سرویس مبدا با تنظیمات مطابقت ندارد", 417: "تاریخ ارسال اشتباه است", 418: "اعتبار حساب شما کافی نیست",
	422: "داده ها به دلیل وجود کاراکتر نامناسب قابل پردازش نیست", 500: "خطای داخلی",
}

var receptorRe = regexp.MustCompile(`^(09\d{9}|00\d{8,15})$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// /v1/{key}/{scope}/{method}.json
	p := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	if len(p) != 3 || !strings.HasSuffix(p[2], ".json") {
		envelopeError(w, 404, 404)
		return
	}
	endpoint := p[1] + "/" + strings.TrimSuffix(p[2], ".json")
	if err := r.ParseForm(); err != nil {
		envelopeError(w, 400, 400)
		return
	}
	s.mu.Lock()
	s.calls[endpoint]++
	var f *Failure
	if q := s.failures[endpoint]; len(q) > 0 {
		f = &q[0]
		s.failures[endpoint] = q[1:]
	}
	s.mu.Unlock()
	if p[0] != s.APIKey {
		envelopeError(w, 403, 403)
		return
	}
	if f != nil {
		if f.Deliver && endpoint == Send {
			s.send(r.Form) // the SMS goes out; the answer below is what gets lost
		}
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case f.Body != "":
			code := f.HTTPStatus
			if code == 0 {
				code = http.StatusBadGateway
			}
			w.WriteHeader(code)
			_, _ = w.Write([]byte(f.Body))
			return
		case f.Status != 0:
			code := f.HTTPStatus
			if code == 0 {
				code = f.Status
			}
			envelopeError(w, code, f.Status)
			return
		}
	}
	var (
		entries any
		code    int
	)
	switch endpoint {
	case Send:
		entries, code = s.send(r.Form)
	case Status:
		entries, code = s.status(r.Form)
	case StatusLocal:
		entries, code = s.statusLocal(r.Form)
	case Receive:
		entries, code = s.receive(r.Form)
	case AccountInfo:
		entries, code = map[string]any{"remaincredit": 1_000_000, "expiredate": time.Now().AddDate(1, 0, 0).Unix(), "type": "master"}, 200
	default:
		code = 404
	}
	if code != 200 {
		envelopeError(w, code, code)
		return
	}
	writeEnvelope(w, 200, 200, "تایید شد", entries)
}

// send validates like Kavenegar and records one SMS per receptor; a known localid returns the
// first send's entries and sends nothing.
func (s *Server) send(form map[string][]string) (any, int) {
	get := func(k string) string { return firstOf(form, k) }
	receptors := strings.Split(get("receptor"), ",")
	localIDs := strings.Split(get("localid"), ",")
	switch {
	case get("receptor") == "" || get("sender") == "":
		return nil, 400
	case len(receptors) > 200:
		return nil, 414
	case get("sender") != Line:
		return nil, 412
	case get("message") == "":
		return nil, 413
	}
	text := get("message")
	parts, enc := sms.Parts(text)
	if (enc == sms.UCS2 && len([]rune(text)) > 268) || (enc == sms.GSM7 && len(text) > 612) {
		return nil, 413
	}
	for _, rc := range receptors {
		if !receptorRe.MatchString(rc) {
			return nil, 411
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var entries []map[string]any
	for i, rc := range receptors {
		local := ""
		if i < len(localIDs) {
			local = localIDs[i]
		}
		if j, ok := s.byLocal[local]; ok && local != "" {
			entries = append(entries, sendEntry(s.sent[j]))
			continue
		}
		s.nextID++
		m := SentSMS{MessageID: strconv.FormatInt(s.nextID, 10), LocalID: local, Receptor: rc,
			Sender: get("sender"), Text: text, Hide: get("hide") == "1", Status: 1,
			Cost: int64(parts) * CostPerPart, Date: time.Now().Unix()}
		s.sent = append(s.sent, m)
		s.byID[m.MessageID] = len(s.sent) - 1
		if local != "" {
			s.byLocal[local] = len(s.sent) - 1
		}
		entries = append(entries, sendEntry(m))
	}
	return entries, 200
}

func sendEntry(m SentSMS) map[string]any {
	id, _ := strconv.ParseInt(m.MessageID, 10, 64)
	return map[string]any{"messageid": id, "message": m.Text, "status": m.Status,
		"statustext": statusText[m.Status], "sender": m.Sender, "receptor": m.Receptor,
		"date": m.Date, "cost": m.Cost}
}

func (s *Server) status(form map[string][]string) (any, int) {
	ids := strings.Split(firstOf(form, "messageid"), ",")
	if firstOf(form, "messageid") == "" {
		return nil, 400
	}
	if len(ids) > 500 {
		return nil, 414
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var entries []map[string]any
	for _, id := range ids {
		n, _ := strconv.ParseInt(id, 10, 64)
		st := 100
		if i, ok := s.byID[id]; ok {
			st = s.sent[i].Status
		}
		entries = append(entries, map[string]any{"messageid": n, "status": st, "statustext": statusText[st]})
	}
	return entries, 200
}

func (s *Server) statusLocal(form map[string][]string) (any, int) {
	if firstOf(form, "localid") == "" {
		return nil, 400
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var entries []map[string]any
	for _, local := range strings.Split(firstOf(form, "localid"), ",") {
		e := map[string]any{"messageid": 0, "localid": local, "status": 100, "statustext": statusText[100]}
		if i, ok := s.byLocal[local]; ok {
			id, _ := strconv.ParseInt(s.sent[i].MessageID, 10, 64)
			e["messageid"], e["status"], e["statustext"] = id, s.sent[i].Status, statusText[s.sent[i].Status]
		}
		entries = append(entries, e)
	}
	return entries, 200
}

// receive: isread=0 returns up to 100 unread messages and marks them read; isread=1 returns
// read ones.
func (s *Server) receive(form map[string][]string) (any, int) {
	if firstOf(form, "linenumber") != Line {
		return nil, 412
	}
	isread := firstOf(form, "isread")
	if isread != "0" && isread != "1" {
		return nil, 400
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	entries := []map[string]any{}
	for _, in := range s.inbox {
		if len(entries) == 100 {
			break
		}
		if in.read != (isread == "1") {
			continue
		}
		in.read = true
		entries = append(entries, map[string]any{"messageid": in.id, "message": in.text, "sender": in.from,
			"receptor": in.receptor, "date": in.date})
	}
	return entries, 200
}

func firstOf(form map[string][]string, k string) string {
	if v := form[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func envelopeError(w http.ResponseWriter, httpStatus, status int) {
	writeEnvelope(w, httpStatus, status, errorText[status], nil)
}

func writeEnvelope(w http.ResponseWriter, httpStatus, status int, msg string, entries any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(httpStatus)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"return":  map[string]any{"status": status, "message": msg},
		"entries": entries,
	})
}
