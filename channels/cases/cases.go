// Package cases closes the loop with unhappy citizens: a citizen who rated 1 or 2 and agreed to
// be contacted (a web-form checkbox, a kiosk's number pad, a «۱» to the SMS offer) becomes a
// follow-up case of the agency, with an owner, a 48 h acknowledgement target, escalation to the
// agency's admins when nobody touched it, an outcome and — only where the citizen agreed and a
// number exists — one SMS asking whether the matter was resolved. Tenancy and roles are checked
// here, below the HTTP handlers; every change is audited. The number is sealed with the SMS
// channel's key (channels/sms.Privacy), shown masked, revealed only to the agency's admins (an
// audited act), and forgotten after the SMS retention period. Response times feed the ranking's
// responsiveness criterion (Stats).
//
// The package sits beside analytics, above the channels: it imports the domain, the SMS
// channel's privacy and phone helpers and the accounts package, and declares the storage it
// needs (Store).
package cases

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// Store is what the cases need from storage (the SQL store).
type Store interface {
	CreateCase(ctx context.Context, c survey.Case) (survey.Case, bool, error)
	Case(ctx context.Context, id survey.ID) (survey.Case, error)
	Cases(ctx context.Context, agencyID survey.ID, status survey.CaseStatus, limit int) ([]survey.Case, error)
	AssignCase(ctx context.Context, id, user survey.ID) (bool, error)
	AckCase(ctx context.Context, id survey.ID, now time.Time) (bool, error)
	CloseCase(ctx context.Context, id survey.ID, status survey.CaseStatus, outcome string, now time.Time) (bool, error)
	MarkResolutionSMS(ctx context.Context, id survey.ID, now time.Time) (bool, error)
	RecordResolutionAnswer(ctx context.Context, id survey.ID, answer string) (bool, error)
	OverdueCases(ctx context.Context, now time.Time, limit int) ([]survey.Case, error)
	EscalateCase(ctx context.Context, id survey.ID, now time.Time) (bool, error)
	CaseAckTimes(ctx context.Context, agency survey.ID, from, to time.Time) ([]time.Time, []*time.Time, error)
	QueueCaseSMS(ctx context.Context, phoneHash string, phoneEnc []byte, localID, text string, parts int, now time.Time) (bool, error)
	QueueSMS(ctx context.Context, phoneHash, localID, text string, parts int, now time.Time) (bool, error)
	PutCasePrompt(ctx context.Context, p survey.CasePrompt) error
	TakeCasePrompt(ctx context.Context, phoneHash string, at time.Time) (survey.CasePrompt, bool, error)
	PurgeCasePhones(ctx context.Context, before time.Time) (int, error)
	OpenAlert(ctx context.Context, a survey.Alert) (bool, error)
	ResolveAlerts(ctx context.Context, kind, subject string, now time.Time) (int, error)
	UserByID(ctx context.Context, id survey.ID) (staff.User, error)
	Audit(ctx context.Context, e survey.AuditEntry) error
}

// The SMS texts. Each ends with the opt-out footer like every information SMS (DOMAIN.md §3).
const (
	// OfferText is the one offer after a low SMS rating. The national complaint channels are
	// not named in it (no room in two parts); the case page and the thank-you page name them.
	OfferText = "اگر مایلید برای پیگیری با شما تماس بگیریم، ۱ بفرستید.\n" + sms.OptOutFooter
	// ResolutionText asks, once, whether the matter was resolved.
	ResolutionText = "آیا موضوع شما حل شد؟ ۱ بله، ۲ خیر\n" + sms.OptOutFooter
)

// Defaults of Options.
const (
	// DefaultOfferWindow is how long the offer waits for its «۱»: the SMS conversation window.
	DefaultOfferWindow = sms.DefaultDialogueTTL
	// DefaultResolutionWindow is how long the resolution question waits for its answer.
	DefaultResolutionWindow = 7 * 24 * time.Hour
	// DefaultWatchEvery is how often the escalation watcher sweeps.
	DefaultWatchEvery = 5 * time.Minute
	// MaxOutcomeChars bounds the outcome text.
	MaxOutcomeChars = 2000
	listLimit       = 500
)

// Options tune a Service; zero values take the defaults.
type Options struct {
	OfferWindow      time.Duration
	ResolutionWindow time.Duration
	Clock            survey.Clock
	Logger           *slog.Logger
}

// Service is the follow-up cases' workflow.
type Service struct {
	store   Store
	privacy *sms.Privacy
	opts    Options
	log     *slog.Logger
}

// New returns the service; privacy seals and opens the numbers (the SMS channel's keys).
func New(store Store, privacy *sms.Privacy, opts Options) *Service {
	if opts.OfferWindow <= 0 {
		opts.OfferWindow = DefaultOfferWindow
	}
	if opts.ResolutionWindow <= 0 {
		opts.ResolutionWindow = DefaultResolutionWindow
	}
	if opts.Clock == nil {
		opts.Clock = survey.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{store: store, privacy: privacy, opts: opts, log: opts.Logger}
}

func (s *Service) now() time.Time { return s.opts.Clock.Now().UTC() }

func notFound() error {
	return survey.Errorf(survey.ECodeNotFound, "این پرونده پیدا نشد.", "no such case")
}

func forbidden() error {
	return survey.Errorf(survey.ECodeForbidden, "شما اجازهٔ این کار را روی پرونده ندارید.", "you may not do this to the case")
}

// Open opens the case of a consenting citizen's low rating, once its response was accepted
// (web form, kiosk). A rating above survey.CaseMaxRating or a number that is not an Iranian
// mobile number is ECodeInvalid; the same response again returns its case (created false).
func (s *Service) Open(ctx context.Context, nc survey.NewCase) (survey.Case, bool, error) {
	if nc.Rating < 1 || nc.Rating > survey.CaseMaxRating {
		return survey.Case{}, false, survey.Errorf(survey.ECodeInvalid, "پیگیری فقط برای امتیاز ۱ یا ۲ ثبت می‌شود.",
			"a follow-up case is opened only for a rating of 1 or 2")
	}
	e164, err := sms.NormalizePhone(nc.Phone)
	if err != nil {
		return survey.Case{}, false, err
	}
	return s.open(ctx, nc, e164, nil)
}

// open stores the case with the number sealed (sealed: an existing ciphertext of it).
func (s *Service) open(ctx context.Context, nc survey.NewCase, e164 string, sealed []byte) (survey.Case, bool, error) {
	hash := s.privacy.Hash(e164)
	if sealed == nil {
		var err error
		if sealed, err = s.privacy.Seal(e164); err != nil {
			return survey.Case{}, false, survey.Wrap(survey.ECodeInternal, err, "خطای داخلی رخ داد.", "sealing the number failed")
		}
	}
	now := s.now()
	c, created, err := s.store.CreateCase(ctx, survey.Case{AgencyID: nc.AgencyID, OfficeID: nc.OfficeID, ResponseID: nc.ResponseID,
		Channel: nc.Channel, Rating: nc.Rating, CreatedAt: now, AckDue: now.Add(survey.CaseAckTarget), Consent: true,
		PhoneEnc: sealed, PhoneHash: hash})
	if err != nil {
		return survey.Case{}, false, err
	}
	if created {
		s.log.InfoContext(ctx, "follow-up case opened", "case", c.ID, "agency", c.AgencyID, "office", c.OfficeID,
			"channel", c.Channel, "rating", c.Rating)
		s.audit(ctx, survey.Principal{Name: "citizen"}, "create", c, nil)
	}
	return s.masked(c), created, nil
}

// OfferCase queues the one offer SMS after a low SMS rating and opens the prompt that waits for
// its «۱» (sms.CasePrompts).
func (s *Service) OfferCase(ctx context.Context, o sms.CaseOffer) error {
	now := s.now()
	if err := s.store.PutCasePrompt(ctx, survey.CasePrompt{PhoneHash: o.PhoneHash, Kind: survey.PromptOffer, AgencyID: o.AgencyID,
		OfficeID: o.OfficeID, ResponseID: o.ResponseID, Rating: o.Rating, ExpiresAt: now.Add(s.opts.OfferWindow)}); err != nil {
		return err
	}
	parts, _ := sms.Parts(OfferText)
	_, err := s.store.QueueSMS(ctx, o.PhoneHash, localID("offer", o.ResponseID), OfferText, parts, now)
	return err
}

// AnswerPrompt takes a yes/no reply to the number's open prompt (sms.CasePrompts): a yes to the
// offer opens a case with the number the reply came from (its ciphertext, as the inbox stored
// it); an answer to the resolution question is recorded on its case.
func (s *Service) AnswerPrompt(ctx context.Context, phoneHash string, phoneEnc []byte, yes bool, at time.Time) (bool, error) {
	p, ok, err := s.store.TakeCasePrompt(ctx, phoneHash, at)
	if err != nil || !ok {
		return false, err
	}
	switch p.Kind {
	case survey.PromptOffer:
		if !yes {
			return true, nil
		}
		e164, err := s.privacy.Open(phoneEnc, phoneHash)
		if err != nil {
			s.log.Warn("cases: the reply's number cannot be opened; no case", "agency", p.AgencyID, "err", err)
			return true, nil
		}
		_, _, err = s.open(ctx, survey.NewCase{AgencyID: p.AgencyID, OfficeID: p.OfficeID, ResponseID: p.ResponseID,
			Channel: survey.ChannelSMS, Rating: p.Rating}, e164, phoneEnc)
		if err != nil {
			_ = s.store.PutCasePrompt(ctx, p) // so the retry of this message finds it
		}
		return true, err
	case survey.PromptResolution:
		answer := "no"
		if yes {
			answer = "yes"
		}
		if _, err := s.store.RecordResolutionAnswer(ctx, p.CaseID, answer); err != nil {
			_ = s.store.PutCasePrompt(ctx, p)
			return true, err
		}
		s.log.InfoContext(ctx, "follow-up case: the citizen answered the resolution question", "case", p.CaseID, "answer", answer)
		return true, nil
	}
	return false, nil
}

// visible returns case id if p may read its agency; otherwise (or unknown) ECodeNotFound.
func (s *Service) visible(ctx context.Context, p survey.Principal, id survey.ID) (survey.Case, error) {
	c, err := s.store.Case(ctx, id)
	if survey.ErrorCode(err) == survey.ECodeNotFound || (err == nil && !p.CanReadAgency(c.AgencyID)) {
		return survey.Case{}, notFound()
	}
	return c, err
}

// masked returns c with its number masked and no ciphertext.
func (s *Service) masked(c survey.Case) survey.Case {
	c.PhoneMasked = "—"
	if e164, err := s.privacy.Open(c.PhoneEnc, c.PhoneHash); err == nil {
		c.PhoneMasked = sms.Mask(e164)
	}
	c.PhoneEnc, c.Phone = nil, ""
	return c
}

// List returns an agency's cases of one status ("": all), newest first, numbers masked.
func (s *Service) List(ctx context.Context, p survey.Principal, agency survey.ID, status survey.CaseStatus) ([]survey.Case, error) {
	if !p.CanReadAgency(agency) {
		return nil, survey.Errorf(survey.ECodeNotFound, "این دستگاه پیدا نشد.", "no such agency")
	}
	if status != "" && !status.Valid() {
		return nil, survey.Errorf(survey.ECodeInvalid, "وضعیت پرونده نامعتبر است.", "status must be open, acknowledged, resolved or closed_no_contact")
	}
	cs, err := s.store.Cases(ctx, agency, status, listLimit)
	for i := range cs {
		cs[i] = s.masked(cs[i])
	}
	return cs, err
}

// Get returns one case, number masked.
func (s *Service) Get(ctx context.Context, p survey.Principal, id survey.ID) (survey.Case, error) {
	c, err := s.visible(ctx, p, id)
	if err != nil {
		return survey.Case{}, err
	}
	return s.masked(c), nil
}

// Reveal returns the case with the full number, only to an admin of the case's own agency (not
// the province: calling citizens back is the agency's job), and audits that it did.
func (s *Service) Reveal(ctx context.Context, p survey.Principal, id survey.ID) (survey.Case, error) {
	c, err := s.visible(ctx, p, id)
	if err != nil {
		return survey.Case{}, err
	}
	if p.Role != survey.RoleAgencyAdmin || p.AgencyID != c.AgencyID {
		return survey.Case{}, forbidden()
	}
	e164, err := s.privacy.Open(c.PhoneEnc, c.PhoneHash)
	if err != nil {
		return survey.Case{}, survey.Errorf(survey.ECodeConflict, "شمارهٔ این شهروند پس از مدت نگهداری پاک شده است.",
			"the citizen's number was purged after the retention period")
	}
	s.audit(ctx, p, "reveal_phone", c, nil)
	out := s.masked(c)
	out.Phone = e164
	return out, nil
}

// manage checks that p may change case id: its agency's admins or the province's.
func (s *Service) manage(ctx context.Context, p survey.Principal, id survey.ID) (survey.Case, error) {
	c, err := s.visible(ctx, p, id)
	if err != nil {
		return survey.Case{}, err
	}
	if !p.CanManageAgency(c.AgencyID) {
		return survey.Case{}, forbidden()
	}
	return c, nil
}

func closedCase() error {
	return survey.Errorf(survey.ECodeConflict, "این پرونده بسته شده است.", "the case is closed")
}

// Assign makes user, an active account of the case's agency, its owner.
func (s *Service) Assign(ctx context.Context, p survey.Principal, id, user survey.ID) (survey.Case, error) {
	c, err := s.manage(ctx, p, id)
	if err != nil {
		return survey.Case{}, err
	}
	u, err := s.store.UserByID(ctx, user)
	if survey.ErrorCode(err) == survey.ECodeNotFound || (err == nil && (u.Disabled || u.AgencyID != c.AgencyID)) {
		return survey.Case{}, &survey.Error{Code: survey.ECodeInvalid, Message: "user_id is not an active account of the case's agency",
			MessageFA: "کاربر باید حساب فعالی از همین دستگاه باشد.", Fields: map[string]survey.FieldError{"user_id": {Code: "not_in_agency",
				Message: "not an active account of the case's agency", MessageFA: "کاربر باید حساب فعالی از همین دستگاه باشد."}}}
	}
	if err != nil {
		return survey.Case{}, err
	}
	ok, err := s.store.AssignCase(ctx, id, user)
	if err != nil {
		return survey.Case{}, err
	}
	if !ok {
		return survey.Case{}, closedCase()
	}
	return s.changed(ctx, p, "assign", c)
}

// Ack acknowledges an open case: its agency's admins, the province admin, or its owner.
func (s *Service) Ack(ctx context.Context, p survey.Principal, id survey.ID) (survey.Case, error) {
	c, err := s.visible(ctx, p, id)
	if err != nil {
		return survey.Case{}, err
	}
	if !p.CanManageAgency(c.AgencyID) && (p.UserID == 0 || p.UserID != c.OwnerID) {
		return survey.Case{}, forbidden()
	}
	ok, err := s.store.AckCase(ctx, id, s.now())
	if err != nil {
		return survey.Case{}, err
	}
	if !ok {
		return survey.Case{}, survey.Errorf(survey.ECodeConflict, "این پرونده پیش‌تر پذیرفته یا بسته شده است.", "the case was acknowledged or closed already")
	}
	if err := s.endOverdue(ctx, c); err != nil {
		return survey.Case{}, err
	}
	return s.changed(ctx, p, "acknowledge", c)
}

// Resolution is how a case is closed.
type Resolution struct {
	Outcome string `json:"outcome"`
	// AskCitizen queues the one «was it resolved?» SMS, when the citizen consented and a number
	// is kept.
	AskCitizen bool `json:"ask_citizen"`
	// NoContact closes the case as closed_no_contact (the citizen could not be reached).
	NoContact bool `json:"no_contact"`
}

// Resolve closes a case with an outcome and, when asked and allowed, queues the resolution SMS
// (at most once per case) and opens the prompt its answer is recorded by.
func (s *Service) Resolve(ctx context.Context, p survey.Principal, id survey.ID, r Resolution) (survey.Case, error) {
	c, err := s.manage(ctx, p, id)
	if err != nil {
		return survey.Case{}, err
	}
	r.Outcome = strings.TrimSpace(r.Outcome)
	if r.Outcome == "" || utf8.RuneCountInString(r.Outcome) > MaxOutcomeChars {
		return survey.Case{}, &survey.Error{Code: survey.ECodeInvalid, Message: "outcome is required (at most 2000 characters)",
			MessageFA: "نتیجهٔ پیگیری را بنویسید (حداکثر ۲۰۰۰ نویسه).", Fields: map[string]survey.FieldError{"outcome": {Code: "required",
				Message: "outcome is required (at most 2000 characters)", MessageFA: "نتیجهٔ پیگیری را بنویسید (حداکثر ۲۰۰۰ نویسه)."}}}
	}
	status := survey.CaseResolved
	if r.NoContact {
		status = survey.CaseClosedNoContact
	}
	now := s.now()
	ok, err := s.store.CloseCase(ctx, id, status, r.Outcome, now)
	if err != nil {
		return survey.Case{}, err
	}
	if !ok {
		return survey.Case{}, closedCase()
	}
	if err := s.endOverdue(ctx, c); err != nil {
		return survey.Case{}, err
	}
	if r.AskCitizen && !r.NoContact {
		if err := s.askCitizen(ctx, c, now); err != nil {
			return survey.Case{}, err
		}
	}
	return s.changed(ctx, p, "resolve", c)
}

// askCitizen queues the resolution SMS only with consent and a number, only once.
func (s *Service) askCitizen(ctx context.Context, c survey.Case, now time.Time) error {
	if !c.Consent || len(c.PhoneEnc) == 0 {
		return nil
	}
	first, err := s.store.MarkResolutionSMS(ctx, c.ID, now)
	if err != nil || !first {
		return err
	}
	if err := s.store.PutCasePrompt(ctx, survey.CasePrompt{PhoneHash: c.PhoneHash, Kind: survey.PromptResolution, CaseID: c.ID,
		AgencyID: c.AgencyID, OfficeID: c.OfficeID, ExpiresAt: now.Add(s.opts.ResolutionWindow)}); err != nil {
		return err
	}
	parts, _ := sms.Parts(ResolutionText)
	_, err = s.store.QueueCaseSMS(ctx, c.PhoneHash, c.PhoneEnc, localID("resolution", strconv.FormatInt(int64(c.ID), 10)), ResolutionText, parts, now)
	return err
}

// changed reads the case back after a change, audits it and returns it masked.
func (s *Service) changed(ctx context.Context, p survey.Principal, action string, before survey.Case) (survey.Case, error) {
	after, err := s.store.Case(ctx, before.ID)
	if err != nil {
		return survey.Case{}, err
	}
	s.audit(ctx, p, action, after, &before)
	return s.masked(after), nil
}

// auditView is a case as the audit log keeps it: never the number, sealed or not.
func auditView(c survey.Case) string {
	c.PhoneEnc, c.PhoneHash, c.Phone, c.PhoneMasked = nil, "", "", ""
	b, _ := json.Marshal(c)
	return string(b)
}

func (s *Service) audit(ctx context.Context, p survey.Principal, action string, after survey.Case, before *survey.Case) {
	e := survey.AuditEntry{At: s.now(), ActorUserID: p.UserID, ActorTokenID: p.TokenID, ActorName: p.Name, Action: action,
		Entity: "case", EntityID: after.ID, AgencyID: after.AgencyID, After: auditView(after)}
	if before != nil {
		e.Before = auditView(*before)
	}
	if err := s.store.Audit(ctx, e); err != nil {
		s.log.Warn("cases: writing the audit entry failed", "case", after.ID, "action", action, "err", err)
	}
}

// overdueDetail is a case_overdue alert's Detail.
type overdueDetail struct {
	CaseID survey.ID `json:"case_id"`
	AckDue time.Time `json:"ack_due"`
	Rating int       `json:"rating"`
}

// Watch is one sweep of the escalation watcher: every case still open past its ack_due is marked
// escalated (once: the conditional update decides between replicas) and a case_overdue alert
// is opened for the agency's admins. It returns how many cases it escalated.
func (s *Service) Watch(ctx context.Context) (int, error) {
	now := s.now()
	overdue, err := s.store.OverdueCases(ctx, now, listLimit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range overdue {
		did, err := s.store.EscalateCase(ctx, c.ID, now)
		if err != nil {
			return n, err
		}
		if !did {
			continue
		}
		detail, _ := json.Marshal(overdueDetail{CaseID: c.ID, AckDue: c.AckDue, Rating: c.Rating})
		if _, err := s.store.OpenAlert(ctx, survey.Alert{Kind: survey.AlertCaseOverdue, AgencyID: c.AgencyID, OfficeID: c.OfficeID,
			Subject: "case:" + c.ID.String(), OpenedAt: now, Detail: string(detail)}); err != nil {
			return n, err
		}
		n++
		s.log.Warn("follow-up case not acknowledged in time; escalated", "case", c.ID, "agency", c.AgencyID, "ack_due", c.AckDue)
	}
	return n, nil
}

// endOverdue resolves the case_overdue alert of an escalated case once someone took it on.
func (s *Service) endOverdue(ctx context.Context, c survey.Case) error {
	if c.EscalatedAt == nil {
		return nil
	}
	_, err := s.store.ResolveAlerts(ctx, survey.AlertCaseOverdue, "case:"+c.ID.String(), s.now())
	return err
}

// Purge forgets the numbers of cases closed more than keep ago (the SMS retention period) and
// says how many; only the count is logged.
func (s *Service) Purge(ctx context.Context, keep time.Duration) (int, error) {
	if keep <= 0 {
		keep = sms.DefaultRetention
	}
	n, err := s.store.PurgeCasePhones(ctx, s.now().Add(-keep))
	if err == nil && n > 0 {
		s.log.Info("cases retention: numbers purged", "cases", n, "retention", keep.String())
	}
	return n, err
}

// Stats is the responsiveness figure of agency for cases created in [from, to): the median
// hours to acknowledge (of the acknowledged ones) and the share acknowledged within 48 h, of the
// cases whose 48 h have passed or that were acknowledged. nil figures: no case to compute from.
func (s *Service) Stats(ctx context.Context, p survey.Principal, agency survey.ID, from, to time.Time) (survey.CaseStats, error) {
	if !p.CanReadAgency(agency) {
		return survey.CaseStats{}, survey.Errorf(survey.ECodeNotFound, "این دستگاه پیدا نشد.", "no such agency")
	}
	created, acked, err := s.store.CaseAckTimes(ctx, agency, from, to)
	if err != nil {
		return survey.CaseStats{}, err
	}
	return ComputeStats(agency, created, acked, s.now()), nil
}

// ComputeStats is Stats' arithmetic, separate so it can be checked by hand.
func ComputeStats(agency survey.ID, created []time.Time, acked []*time.Time, now time.Time) survey.CaseStats {
	st := survey.CaseStats{AgencyID: agency, Cases: len(created)}
	var hours []float64
	judged, within := 0, 0
	for i, c := range created {
		a := acked[i]
		if a != nil {
			h := a.Sub(c).Hours()
			hours = append(hours, h)
			judged++
			if a.Sub(c) <= survey.CaseAckTarget {
				within++
			}
		} else if now.Sub(c) > survey.CaseAckTarget {
			judged++
		}
	}
	st.Acknowledged = len(hours)
	if len(hours) > 0 {
		sort.Float64s(hours)
		m := hours[len(hours)/2]
		if len(hours)%2 == 0 {
			m = (hours[len(hours)/2-1] + hours[len(hours)/2]) / 2
		}
		st.MedianAckHours = &m
	}
	if judged > 0 {
		r := float64(within) / float64(judged)
		st.WithinTargetRate = &r
	}
	return st
}

// localID is the gateway's localid of a case SMS: digits from a digest of its purpose and key,
// the same however often it is queued, so the outbox sends it once.
func localID(purpose, key string) string {
	return sms.DerivedLocalID("afkar/cases/"+purpose+"/v1", key)
}

// Run is serve's loop: the escalation watcher every DefaultWatchEvery, and the purge of closed
// cases' numbers after keep (the SMS retention period) once a day, until ctx ends.
func (s *Service) Run(ctx context.Context, keep time.Duration) {
	watch := time.NewTicker(DefaultWatchEvery)
	defer watch.Stop()
	purge := time.NewTicker(sms.DefaultPurgeEvery)
	defer purge.Stop()
	s.sweep(ctx)
	s.purge(ctx, keep)
	for {
		select {
		case <-ctx.Done():
			return
		case <-watch.C:
			s.sweep(ctx)
		case <-purge.C:
			s.purge(ctx, keep)
		}
	}
}

func (s *Service) sweep(ctx context.Context) {
	if _, err := s.Watch(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("cases watcher sweep failed", "err", err)
	}
}

func (s *Service) purge(ctx context.Context, keep time.Duration) {
	if _, err := s.Purge(ctx, keep); err != nil && ctx.Err() == nil {
		s.log.Warn("cases retention purge failed", "err", err)
	}
}
