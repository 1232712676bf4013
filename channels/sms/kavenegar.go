package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kavenegar/kavenegar-go"
)

// DefaultKavenegarBaseURL is the SDK's own base URL, used when the configuration sets none.
const DefaultKavenegarBaseURL = "https://api.kavenegar.com/"

// DefaultKavenegarTimeout bounds one call to Kavenegar when the configuration sets none: long
// enough for a slow operator hop, short enough that a stuck call does not hold a queue worker.
const DefaultKavenegarTimeout = 10 * time.Second

// KavenegarConfig configures the Kavenegar gateway (AFKAR_KAVENEGAR_* in cmd/afkar).
type KavenegarConfig struct {
	// APIKey is the secret that Kavenegar puts in the URL path; it never reaches a log line or
	// an error string.
	APIKey string
	// Sender is our line number (a service line, خدماتی); it is also the line Receive polls.
	Sender string
	// BaseURL points the SDK elsewhere (tests, a proxy); empty means DefaultKavenegarBaseURL.
	BaseURL string
	// Timeout bounds every call; 0 means DefaultKavenegarTimeout.
	Timeout time.Duration
	// HTTPClient is an optional client to copy the transport from (proxies, TLS settings); it is
	// copied, never used as is, so http.DefaultClient is never the one that sends.
	HTTPClient *http.Client
	// Logger receives one line per call (op, local id, class, duration; never the URL, the key
	// or a number); nil means slog.Default().
	Logger *slog.Logger
}

// Kavenegar is the Gateway over the pinned kavenegar-go SDK. It keeps the SDK for what it gets
// right (the endpoint layout, the form POST, the settable BaseURL) and goes through
// Client.Execute with its own envelope types for every call, because the SDK's typed methods
// drop return.status on HTTP 200, send messageid lists as repeated fields, invert Receive's
// isread, hit the wrong endpoint in Account.Config and cannot send hide=1 or take a context.
// Each call gets a copy of the SDK client whose transport carries the caller's context, reads
// the envelope on any HTTP status (the SDK panics on a JSON error body without "return"), and
// refuses redirects (which would carry the key elsewhere).
type Kavenegar struct {
	client  *kavenegar.Client
	http    *http.Client
	sender  string
	secrets []string
	log     *slog.Logger
}

// NewKavenegar checks cfg and builds the gateway. Its http.Client always has a timeout.
func NewKavenegar(cfg KavenegarConfig) (*Kavenegar, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("sms: Kavenegar API key is empty")
	}
	if strings.ContainsAny(cfg.APIKey, "/?#% \t\r\n") {
		// The key becomes a URL path segment; these would change the URL's meaning.
		return nil, errors.New("sms: Kavenegar API key has characters a URL path cannot carry")
	}
	if strings.TrimSpace(cfg.Sender) == "" {
		return nil, errors.New("sms: Kavenegar sender line is empty")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultKavenegarBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sms: Kavenegar base URL %q is not an http(s) URL", base)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/" // the SDK resolves "v1/…" against it
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultKavenegarTimeout
	}
	hc := &http.Client{Timeout: timeout}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
		if hc.Timeout <= 0 || hc.Timeout > timeout {
			hc.Timeout = timeout
		}
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Jar = nil
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	c := kavenegar.NewClient(cfg.APIKey)
	c.BaseClient = hc // the SDK's default is http.DefaultClient: no timeout
	c.BaseURL = u
	return &Kavenegar{
		client:  c,
		http:    hc,
		sender:  cfg.Sender,
		secrets: []string{cfg.APIKey, url.PathEscape(cfg.APIKey), url.QueryEscape(cfg.APIKey)},
		log:     logger,
	}, nil
}

var _ Gateway = (*Kavenegar)(nil)

// envelope is Kavenegar's reply: {"return":{"status":…,"message":…},"entries":…}. Return is a
// pointer so a reply without it is told apart from status 0.
type envelope[T any] struct {
	Return *struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"return"`
	Entries T `json:"entries"`
}

// kvEntry is one entry of send, status, statuslocalmessageid and receive replies. Ids and cost
// are json.Number so a large id or a cost with decimals decodes exactly (Execute ignores decode
// errors on HTTP 200, so a strict type would silently drop the whole reply).
type kvEntry struct {
	MessageID json.Number `json:"messageid"`
	Message   string      `json:"message"`
	Status    int         `json:"status"`
	Sender    string      `json:"sender"`
	Receptor  string      `json:"receptor"`
	Date      int64       `json:"date"`
	Cost      json.Number `json:"cost"`
}

// Send implements Gateway: one receptor, our sender line, hide=1 (the number is hidden in
// Kavenegar's panel) and the localid that makes a retry safe.
func (k *Kavenegar) Send(ctx context.Context, m Message) (Sent, error) {
	const op = "send"
	receptor, err := kavenegarReceptor(m.Receptor)
	if err != nil {
		return Sent{}, &SendError{Op: op, Class: ClassInvalidNumber, Message: err.Error()}
	}
	if !isDigits(m.LocalID) {
		return Sent{}, &SendError{Op: op, Class: ClassInvalid, Message: "local id must be decimal digits"}
	}
	if m.Text == "" {
		return Sent{}, &SendError{Op: op, Class: ClassInvalid, Message: "empty text"}
	}
	v := url.Values{}
	v.Set("receptor", receptor)
	v.Set("sender", k.sender)
	v.Set("message", m.Text)
	v.Set("localid", m.LocalID)
	v.Set("hide", "1")
	var res envelope[[]kvEntry]
	if err := k.call(ctx, op, m.LocalID, []string{"sms", "send"}, v, &res); err != nil {
		return Sent{}, err
	}
	if len(res.Entries) == 0 || res.Entries[0].MessageID == "" {
		// Accepted but no id: it may have been sent. Retry; the localid keeps it single.
		return Sent{}, &SendError{Op: op, Class: ClassRetry, Uncertain: true, Code: res.Return.Status,
			Message: "reply without a message id"}
	}
	e := res.Entries[0]
	cost, _ := e.Cost.Int64()
	parts, _ := Parts(m.Text)
	return Sent{MessageID: e.MessageID.String(), LocalID: m.LocalID, Status: DeliveryStatus(e.Status),
		Cost: cost, Parts: parts}, nil
}

// StatusByLocalID implements Gateway with sms/statuslocalmessageid.json (the SDK's StatusLocal
// indexes entries[0] without checking, and takes an int64).
func (k *Kavenegar) StatusByLocalID(ctx context.Context, localID string) (Delivery, error) {
	const op = "statuslocalmessageid"
	if !isDigits(localID) {
		return Delivery{}, &SendError{Op: op, Class: ClassInvalid, Message: "local id must be decimal digits"}
	}
	var res envelope[[]kvEntry]
	if err := k.call(ctx, op, localID, []string{"sms", "statuslocalmessageid"}, url.Values{"localid": {localID}}, &res); err != nil {
		return Delivery{}, err
	}
	for _, e := range res.Entries {
		id := e.MessageID.String()
		if DeliveryStatus(e.Status) == StatusUnknown || id == "" || id == "0" {
			continue
		}
		return Delivery{MessageID: id, LocalID: localID, Status: DeliveryStatus(e.Status)}, nil
	}
	return Delivery{}, ErrNotFound
}

// kavenegarStatusBatch is the most message ids sms/status.json takes at once.
const kavenegarStatusBatch = 500

// Status implements Gateway with sms/status.json, 500 ids per call, ids as one comma list (the
// SDK sends them as repeated fields).
func (k *Kavenegar) Status(ctx context.Context, messageIDs []string) ([]Delivery, error) {
	const op = "status"
	out := make([]Delivery, 0, len(messageIDs))
	for start := 0; start < len(messageIDs); start += kavenegarStatusBatch {
		batch := messageIDs[start:min(start+kavenegarStatusBatch, len(messageIDs))]
		for _, id := range batch {
			if !isDigits(id) {
				return nil, &SendError{Op: op, Class: ClassInvalid, Message: "message id must be decimal digits"}
			}
		}
		var res envelope[[]kvEntry]
		v := url.Values{"messageid": {strings.Join(batch, ",")}}
		if err := k.call(ctx, op, "", []string{"sms", "status"}, v, &res); err != nil {
			return nil, err
		}
		for _, e := range res.Entries {
			out = append(out, Delivery{MessageID: e.MessageID.String(), Status: DeliveryStatus(e.Status)})
		}
	}
	return out, nil
}

// Receive implements Gateway with sms/receive.json and isread=0 (unread; Kavenegar marks them
// read). The SDK's Receive(line, false) would send isread=1, the opposite.
func (k *Kavenegar) Receive(ctx context.Context, line string) ([]Inbound, error) {
	if line == "" {
		line = k.sender
	}
	v := url.Values{}
	v.Set("linenumber", line)
	v.Set("isread", "0")
	var res envelope[[]kvEntry]
	if err := k.call(ctx, "receive", "", []string{"sms", "receive"}, v, &res); err != nil {
		return nil, err
	}
	out := make([]Inbound, 0, len(res.Entries))
	for _, e := range res.Entries {
		out = append(out, Inbound{MessageID: e.MessageID.String(), From: e.Sender, To: e.Receptor,
			Text: e.Message, At: time.Unix(e.Date, 0)})
	}
	return out, nil
}

// Check asks account/info.json whether the key works from this address, for start-up and
// /readyz: 403 (bad key), 407/416 (IP not allowed) and 401 (disabled) come back classified. It
// cannot detect a wrong sender line (412): only a send does.
func (k *Kavenegar) Check(ctx context.Context) error {
	var res envelope[json.RawMessage]
	return k.call(ctx, "account", "", []string{"account", "info"}, url.Values{}, &res)
}

// call runs one SDK Execute bound to ctx and turns every outcome into nil or a *SendError with
// the key scrubbed. into must be an *envelope[…].
func (k *Kavenegar) call(ctx context.Context, op, localID string, endpoint []string, v url.Values, into any) error {
	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // releases the transport's hook on ctx once the body has been read
	rt := k.http.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	tr := &callTransport{ctx: ctx, base: rt}
	hc := *k.http
	hc.Transport = tr
	c := *k.client // a per-call copy: the key and BaseURL stay, the transport carries ctx
	c.BaseClient = &hc
	execErr := c.Execute(c.EndPoint(endpoint...).String(), v, into)
	err := k.classify(op, execErr, into)
	if execErr != nil && parent.Err() != nil {
		// The caller's context ended the call; the transport only saw its own cancellation.
		err = k.transportError(op, parent.Err())
	}
	var se *SendError
	if errors.As(err, &se) && se.HTTPStatus == 0 {
		se.HTTPStatus = tr.status
	}
	attrs := []any{"op", op, "ms", time.Since(start).Milliseconds()}
	if localID != "" {
		attrs = append(attrs, "localid", localID)
	}
	if err != nil {
		attrs = append(attrs, "class", se.Class.String(), "code", se.Code, "http", se.HTTPStatus,
			"uncertain", se.Uncertain, "err", err.Error())
		k.log.WarnContext(ctx, "kavenegar call failed", attrs...)
		return err
	}
	k.log.DebugContext(ctx, "kavenegar call", attrs...)
	return nil
}

// classify maps what Execute returned to a *SendError (or nil on return.status 200).
func (k *Kavenegar) classify(op string, execErr error, into any) error {
	var apiErr *kavenegar.APIError
	var httpErr *kavenegar.HTTPError
	switch {
	case execErr == nil:
		st, msg, ok := envelopeReturn(into)
		if !ok {
			// HTTP 200 but no envelope (a proxy page, a body cut by the timeout): the call may
			// have worked.
			return &SendError{Op: op, Class: ClassRetry, HTTPStatus: http.StatusOK, Uncertain: true,
				Message: "reply is not a Kavenegar envelope"}
		}
		if st == http.StatusOK {
			return nil
		}
		return &SendError{Op: op, Class: classForCode(st), Code: st, HTTPStatus: http.StatusOK,
			Message: k.scrub(msg)}
	case errors.As(execErr, &apiErr):
		// The SDK read an envelope on a non-200 answer (callTransport made sure it is one).
		return &SendError{Op: op, Class: classForCode(apiErr.Status), Code: apiErr.Status,
			Uncertain: apiErr.Status >= 500, Message: k.scrub(apiErr.Message)}
	case errors.As(execErr, &httpErr):
		return &SendError{Op: op, Class: classForHTTP(httpErr.Status), HTTPStatus: httpErr.Status,
			Uncertain: httpErr.Status >= 500, Message: "reply without a Kavenegar envelope"}
	default:
		return k.transportError(op, execErr)
	}
}

// transportError classifies a failure to get an answer at all. The SDK returns *url.Error,
// whose text holds the request URL and so the key: only its cause is kept, scrubbed.
func (k *Kavenegar) transportError(op string, err error) error {
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	se := &SendError{Op: op, Class: ClassRetry, Uncertain: true, Message: k.scrub(cause.Error()),
		cause: scrubbedError{msg: k.scrub(cause.Error()), cause: cause}}
	var opErr *net.OpError
	if errors.As(cause, &opErr) && opErr.Op == "dial" {
		se.Uncertain = false // never connected: nothing was sent
	}
	var ne net.Error
	if errors.As(cause, &ne) && ne.Timeout() {
		se.Message = "timeout: " + se.Message
	}
	return se
}

// scrubbedError keeps errors.Is/As working on a transport error's cause while its text is the
// scrubbed one.
type scrubbedError struct {
	msg   string
	cause error
}

func (e scrubbedError) Error() string { return e.msg }

// Is matches the cause's sentinel errors (context.DeadlineExceeded, os.ErrDeadlineExceeded…).
func (e scrubbedError) Is(target error) bool { return errors.Is(e.cause, target) }

// scrub removes the API key (raw and escaped) from s.
func (k *Kavenegar) scrub(s string) string {
	for _, secret := range k.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[key]")
		}
	}
	return s
}

// envelopeReturn reads return.status and message from an *envelope[…] after Execute filled it.
func envelopeReturn(into any) (status int, msg string, ok bool) {
	var r *struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	switch e := into.(type) {
	case *envelope[[]kvEntry]:
		r = e.Return
	case *envelope[json.RawMessage]:
		r = e.Return
	}
	if r == nil {
		return 0, "", false
	}
	return r.Status, r.Message, true
}

// classForCode maps Kavenegar's return.status to a class (DOMAIN.md §2).
func classForCode(code int) ErrorClass {
	switch code {
	case 409:
		return ClassRetry
	case 411:
		return ClassInvalidNumber
	case 418, 401, 403:
		return ClassPaused
	case 412, 407, 416, 404, 405:
		return ClassConfig // 404/405: the base URL does not lead to the API
	case 400, 406, 413, 414, 417, 422:
		return ClassInvalid
	}
	if code >= 500 {
		return ClassRetry
	}
	return ClassInvalid // an undocumented 4xx: the same request would fail again
}

// classForHTTP maps an HTTP status that came without an envelope (a proxy or load balancer
// answered, not Kavenegar).
func classForHTTP(status int) ErrorClass {
	if status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout {
		return ClassRetry
	}
	return ClassConfig // a 4xx page not from Kavenegar: the base URL or proxy is wrong
}

// callTransport binds one call to its context (the SDK builds requests without one) and makes
// a non-200 answer safe for Execute: it passes a body that is a Kavenegar envelope and empties
// any other, since Execute dereferences a missing "return" and panics.
type callTransport struct {
	ctx    context.Context
	base   http.RoundTripper
	status int // the last answer's HTTP status, for SendError.HTTPStatus
}

// maxReplyBytes bounds how much of an error answer is read.
const maxReplyBytes = 1 << 20

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context()) // keeps http.Client's own timeout
	context.AfterFunc(t.ctx, cancel)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	t.status = resp.StatusCode
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	resp.Body.Close()
	if readErr != nil {
		return nil, readErr
	}
	var probe struct {
		Return *struct{} `json:"return"`
	}
	if json.Unmarshal(body, &probe) != nil || probe.Return == nil {
		body = nil // Execute then reports an HTTPError with the status
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// kavenegarReceptor turns E.164 into the form Kavenegar documents: 09… for Iranian mobiles,
// 00… for others.
func kavenegarReceptor(e164 string) (string, error) {
	if len(e164) < 8 || len(e164) > 16 || e164[0] != '+' || !isDigits(e164[1:]) {
		return "", errors.New("receptor is not an E.164 number")
	}
	if strings.HasPrefix(e164, "+98") {
		return "0" + e164[3:], nil
	}
	return "00" + e164[1:], nil
}

// isDigits reports whether s is a non-empty string of ASCII digits that fits an int64 (what
// Kavenegar's localid and messageid are).
func isDigits(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}
