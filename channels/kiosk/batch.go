package kiosk

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// MaxItems bounds one batch: a tablet sends SyncBatch at a time, and a hundred items fit the
// request body limit.
const MaxItems = 100

// Batch is what a tablet sends: its clock when it sent the batch, and the queued answers. Items
// stay raw until each is decoded on its own, so one malformed item is rejected alone instead of
// failing the batch.
type Batch struct {
	SentAt *time.Time        `json:"sent_at"`
	Items  []json.RawMessage `json:"items"`
}

// Item is one queued answer: the client's UUID, the survey version it answers, the tablet's
// clock when the citizen finished, and the answers. The agency and office come from the device.
type Item struct {
	ID            string                   `json:"id"`
	SurveyID      survey.ID                `json:"survey_id"`
	SurveyVersion int                      `json:"survey_version"`
	SubmittedAt   *time.Time               `json:"submitted_at"`
	Answers       []survey.SubmittedAnswer `json:"answers"`
	// Contact is the citizen's optional consent to be contacted after a low rating (the app's
	// number pad): with consent and a rating of 1 or 2, the accepted item opens a follow-up case.
	Contact *Contact `json:"contact,omitempty"`
}

// Contact is a citizen's consent to be contacted for a follow-up, with the number to call.
type Contact struct {
	Phone   string `json:"phone"`
	Consent bool   `json:"consent"`
}

// ItemStatus is what became of one item.
type ItemStatus string

// Item statuses. The tablet drops an item whatever its status: accepted and duplicate are
// stored, rejected never will be. It keeps items only when the whole request fails.
const (
	Accepted  ItemStatus = "accepted"  // stored now
	Duplicate ItemStatus = "duplicate" // stored before (a resend); nothing new
	Rejected  ItemStatus = "rejected"  // invalid, or its id was used for other answers
)

// ItemResult is one item's verdict. Flag is set when the stuffing filter set the item aside
// (it is stored, but not scored); Error says why an item was rejected.
type ItemResult struct {
	ID     string        `json:"id"`
	Status ItemStatus    `json:"status"`
	Flag   survey.Flag   `json:"flag,omitempty"`
	Error  *survey.Error `json:"error,omitempty"`
	// Case is what became of the item's consent to be contacted: "opened" (a follow-up case
	// exists for it), "invalid_phone" or "failed" (the answer is stored all the same); "" none.
	Case string `json:"case,omitempty"`
}

// BatchResult answers a batch: the tablet's clock skew (ms, positive when it is behind),
// whether the items' times were corrected by it, and one result per item in item order.
type BatchResult struct {
	SkewMS    int64        `json:"skew_ms"`
	Corrected bool         `json:"corrected"`
	Results   []ItemResult `json:"results"`
}

func (b *Batch) check() error {
	fe := map[string]survey.FieldError{}
	if b.SentAt == nil || b.SentAt.IsZero() {
		fe["sent_at"] = survey.FieldError{Code: "required", Message: "sent_at is required", MessageFA: "زمان ارسال دسته لازم است."}
	}
	if len(b.Items) == 0 || len(b.Items) > MaxItems {
		fe["items"] = survey.FieldError{Code: "count", Message: fmt.Sprintf("a batch holds 1 to %d items", MaxItems),
			MessageFA: survey.FormatPersianDigits(fmt.Sprintf("هر دسته ۱ تا %d پاسخ دارد.", MaxItems))}
	}
	if len(fe) > 0 {
		return &survey.Error{Code: survey.ECodeInvalid, Message: "the batch is not valid", MessageFA: "دستهٔ پاسخ‌ها معتبر نیست.", Fields: fe}
	}
	return nil
}

// entry is one item on its way through a batch.
type entry struct {
	item      Item
	id        string // normalised id ("" when missing)
	decodeErr error  // the item could not be read: rejected before anything else
	err       error  // the rejection, when rejected
	sub       survey.Submission
	valid     bool        // passed validation and goes to intake
	first     bool        // the first readable item of the batch with its id
	flag      survey.Flag // the filter's verdict
	status    ItemStatus
}

// decodeEntry reads one raw item strictly. A malformed item is rejected with the decoder's
// reason; its id, when one can be read at all, is kept for the result.
func decodeEntry(raw json.RawMessage) entry {
	var e entry
	if err := survey.DecodeStrict(raw, &e.item); err != nil {
		var loose struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(raw, &loose) == nil {
			if s, ok := loose.ID.(string); ok {
				e.id = strings.ToLower(strings.TrimSpace(s))
			}
		}
		if se, ok := err.(*survey.Error); ok && se.Code == survey.ECodeBadRequest {
			// The decoder's words are about a request body; this is one item of it.
			en := "the item could not be read"
			if se.Err != nil {
				en += ": " + se.Err.Error()
			}
			err = &survey.Error{Code: survey.ECodeBadRequest, Message: en, MessageFA: "این پاسخ خوانا نیست.", Err: se.Err}
		}
		e.decodeErr = err
		return e
	}
	e.id = strings.ToLower(strings.TrimSpace(e.item.ID))
	switch {
	case e.id == "":
		e.decodeErr = fieldError("id", "required", "شناسهٔ پاسخ لازم است.", "id is required")
	case !survey.ValidUUID(e.id):
		// Refused here, before the id reaches the store's lookup of recorded presses: PostgreSQL
		// refuses a NUL in text, which failed the whole batch instead of this item.
		e.decodeErr = fieldError("id", "invalid_id", "شناسهٔ پاسخ باید UUID باشد.", "id must be a UUID")
	case e.item.SubmittedAt == nil || e.item.SubmittedAt.IsZero():
		e.decodeErr = fieldError("submitted_at", "required", "زمان ثبت پاسخ لازم است.", "submitted_at is required")
	}
	return e
}

// rejectable reports whether err means "this item will never be accepted" rather than "retry".
func rejectable(err error) bool {
	switch survey.ErrorCode(err) {
	case survey.ECodeInvalid, survey.ECodeBadRequest, survey.ECodeForbidden, survey.ECodeIDConflict, survey.ECodeNotFound:
		return true
	}
	return false
}

// publicError is the part of a rejection the tablet sees.
func publicError(err error) *survey.Error {
	var se *survey.Error
	if e, ok := err.(*survey.Error); ok {
		se = e
	} else {
		se = survey.Errorf(survey.ECodeInvalid, "این پاسخ پذیرفته نشد.", "the item was not accepted")
	}
	return &survey.Error{Code: se.Code, Message: se.Message, MessageFA: se.MessageFA, Fields: se.Fields}
}

func surveyMismatch() error {
	return fieldError("survey_id", "survey_mismatch", "این پاسخ به پرسشنامهٔ فعال این دستگاه مربوط نیست.",
		"the item does not answer the agency's active survey")
}

// Batch takes a tablet's batch: it corrects the items' times for clock skew when the skew is
// beyond the tolerance, validates each item against the survey version it names (any published
// version of the agency's active survey), decides each new press's flag under the kiosk's lock
// and records it, then hands the valid items to intake — concurrently — with their flags. Items
// already recorded keep the time and flag they were recorded with, so a resend is byte for byte
// the same response and answers duplicate. Rejected items never reach the filter.
//
// An error means nothing is settled (the store or the buffer failed): the tablet keeps the
// batch and retries, and whatever was stored meanwhile comes back as duplicate.
func (s *Service) Batch(ctx context.Context, p survey.Principal, b Batch) (BatchResult, error) {
	if err := device(p); err != nil {
		return BatchResult{}, err
	}
	if err := b.check(); err != nil {
		return BatchResult{}, err
	}
	now := s.now()
	skew, corrected := Skew(now, *b.SentAt, s.opts.SkewTolerance)
	skew = skew.Truncate(time.Millisecond)
	var shift time.Duration
	if corrected {
		shift = skew
	}

	unlock := s.locks.lock(p.KioskID)
	defer unlock()

	var activeSurvey survey.ID
	var active survey.Version
	if v, err := s.store.ActiveVersionFor(ctx, p.AgencyID, p.OfficeID, survey.ChannelKiosk); err == nil {
		activeSurvey, active = v.SurveyID, v
	} else if survey.ErrorCode(err) != survey.ECodeNotFound {
		return BatchResult{}, err
	}
	hours, err := s.store.OfficeHours(ctx, p.OfficeID)
	if err != nil {
		return BatchResult{}, err
	}
	rules := Rules{Hours: hours, MinInterval: s.opts.MinInterval, Burst: s.opts.Burst}
	origin := survey.Origin{Channel: survey.ChannelKiosk, Principal: p, DeviceID: p.KioskID}

	entries := make([]entry, len(b.Items))
	var ids []string
	seen := map[string]bool{}
	for i, raw := range b.Items {
		entries[i] = decodeEntry(raw)
		if e := &entries[i]; e.decodeErr == nil && !seen[e.id] {
			seen[e.id], e.first = true, true
			ids = append(ids, e.id)
		}
	}

	err = s.store.RecordPresses(ctx, p.KioskID, ids, func(known []survey.KioskPress,
		window func(from, to time.Time) ([]survey.KioskPress, error)) ([]survey.KioskPress, error) {
		return s.judge(ctx, origin, rules, activeSurvey, shift, entries, known, window)
	})
	if err != nil {
		return BatchResult{}, err
	}
	if err := s.submit(ctx, origin, entries); err != nil {
		return BatchResult{}, err
	}

	out := BatchResult{SkewMS: skew.Milliseconds(), Corrected: corrected, Results: make([]ItemResult, len(entries))}
	sync := survey.KioskSync{KioskID: p.KioskID, ReceivedAt: now, SentAt: b.SentAt.UTC(), SkewMS: skew.Milliseconds(),
		Corrected: corrected, Items: len(entries)}
	for i, e := range entries {
		r := ItemResult{ID: e.id, Status: e.status}
		switch e.status {
		case Accepted:
			r.Flag = e.flag
			sync.Accepted++
		case Duplicate:
			r.Flag = e.flag
			sync.Duplicates++
		default:
			r.Status, r.Error = Rejected, publicError(e.err)
			sync.Rejected++
		}
		if r.Status != Rejected && e.flag == "" {
			r.Case = s.openCase(ctx, p, active, e)
		}
		out.Results[i] = r
	}
	if err := s.store.RecordSync(ctx, sync); err != nil {
		return BatchResult{}, err
	}
	return out, nil
}

// judge validates a batch's entries and decides the flags of its new presses; it runs inside
// the store's per-kiosk transaction (and again if that is retried, so it starts afresh) and
// returns the presses to record.
func (s *Service) judge(ctx context.Context, origin survey.Origin, rules Rules, activeSurvey survey.ID, shift time.Duration,
	entries []entry, known []survey.KioskPress, window func(from, to time.Time) ([]survey.KioskPress, error)) ([]survey.KioskPress, error) {
	recorded := make(map[string]survey.KioskPress, len(known))
	for _, kp := range known {
		recorded[kp.ResponseID] = kp
	}
	p := origin.Principal
	var presses, fresh []Press
	var lo, hi time.Time
	for i := range entries {
		e := &entries[i]
		e.valid, e.flag, e.err = false, "", e.decodeErr
		if e.decodeErr != nil {
			continue
		}
		at := e.item.SubmittedAt.Add(shift).UTC().Truncate(time.Microsecond)
		if kp, ok := recorded[e.id]; ok {
			at = kp.PressedAt.UTC()
		}
		e.sub = survey.Submission{ID: e.id, AgencyID: p.AgencyID, OfficeID: p.OfficeID, SurveyID: e.item.SurveyID,
			SurveyVersion: e.item.SurveyVersion, SubmittedAt: &at, Answers: e.item.Answers}
		if e.item.SurveyID != activeSurvey || activeSurvey == 0 {
			e.err = surveyMismatch()
			continue
		}
		r, err := s.intake.Validate(ctx, origin, &e.sub)
		if err != nil {
			if !rejectable(err) {
				return nil, err
			}
			e.err = err
			continue
		}
		e.valid = true
		press := Press{ID: r.ID, At: r.SubmittedAt}
		presses = append(presses, press)
		if _, ok := recorded[r.ID]; ok {
			continue
		}
		fresh = append(fresh, press)
		if lo.IsZero() || press.At.Before(lo) {
			lo = press.At
		}
		if press.At.After(hi) {
			hi = press.At
		}
	}
	history := make([]Press, 0, len(known))
	for _, kp := range known {
		history = append(history, Press{ID: kp.ResponseID, At: kp.PressedAt, Flag: kp.Flag})
	}
	if len(fresh) > 0 {
		reach := max(rules.MinInterval, rules.Burst.Window)
		around, err := window(lo.Add(-reach), hi.Add(rules.MinInterval))
		if err != nil {
			return nil, err
		}
		for _, kp := range around {
			if _, ok := recorded[kp.ResponseID]; !ok {
				history = append(history, Press{ID: kp.ResponseID, At: kp.PressedAt, Flag: kp.Flag})
			}
		}
	}
	flags := rules.Decide(history, presses)
	var out []survey.KioskPress
	k := 0
	inserted := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		if !e.valid {
			continue
		}
		e.flag = flags[k]
		k++
		if _, ok := recorded[e.id]; ok || inserted[e.id] {
			continue
		}
		inserted[e.id] = true
		out = append(out, survey.KioskPress{KioskID: p.KioskID, ResponseID: e.id, PressedAt: *e.sub.SubmittedAt, Flag: e.flag})
	}
	return out, nil
}

// submit hands the valid entries to intake with their flags: the first entry of each id
// concurrently (they join one group commit), then any repeats of an id within the batch, which
// intake answers as resends. A failure that is not the item's own fails the batch.
func (s *Service) submit(ctx context.Context, origin survey.Origin, entries []entry) error {
	run := func(e *entry) error {
		o := origin
		o.Flag = e.flag
		rc, err := s.intake.Submit(ctx, o, &e.sub)
		switch {
		case err == nil && rc.Resent:
			e.status = Duplicate
		case err == nil:
			e.status = Accepted
		case rejectable(err):
			e.status, e.err = Rejected, err
		default:
			return err
		}
		return nil
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i := range entries {
		e := &entries[i]
		if !e.valid {
			e.status = Rejected
			continue
		}
		if !e.first {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(e); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	for i := range entries {
		if e := &entries[i]; e.valid && !e.first {
			if err := run(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// openCase opens the follow-up case of a stored, counted item whose citizen consented after a
// rating of 1 or 2 (the active survey's first rating5 question), and says what became of it.
// The number is never logged.
func (s *Service) openCase(ctx context.Context, p survey.Principal, v survey.Version, e entry) string {
	c := e.item.Contact
	if s.opts.Cases == nil || c == nil || !c.Consent || strings.TrimSpace(c.Phone) == "" {
		return ""
	}
	q, ok := v.SMSRatingQuestion()
	if !ok {
		return ""
	}
	rating, low := 0, false
	for _, a := range e.item.Answers {
		if a.QuestionID == q.ID {
			rating, low = survey.LowRating(a.Value)
		}
	}
	if !low {
		return ""
	}
	_, _, err := s.opts.Cases.Open(ctx, survey.NewCase{AgencyID: p.AgencyID, OfficeID: p.OfficeID, ResponseID: e.id,
		Channel: survey.ChannelKiosk, Rating: rating, Phone: c.Phone})
	switch {
	case err == nil:
		return "opened"
	case survey.ErrorCode(err) == survey.ECodeInvalid:
		return "invalid_phone"
	}
	s.log.Warn("kiosk: opening a follow-up case failed", "kiosk", p.KioskID, "code", survey.ErrorCode(err))
	return "failed"
}
