// Package inmem is the one in-memory implementation of what Afkar's storage does — the catalog,
// bearer tokens, the exactly-once fold into rollups, the report totals and dead letters — for
// tests of the layers above storage (API handlers, intake, scores, the demo seeder). It follows
// the same contract as survey/sqlstore (the conformance of both is checked against the same
// expectations), so a test that passes on it says something about the real thing, and no test
// package needs a fake of its own.
package inmem

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// Store is safe for concurrent use. The zero value is not usable; call New.
type Store struct {
	mu        sync.Mutex
	provinces []survey.Province
	agencies  map[survey.ID]survey.Agency
	offices   map[survey.ID]survey.Office
	surveys   map[survey.ID]survey.Survey
	versions  map[versionKey]survey.Version
	tokens    map[string]survey.Principal
	responses map[string]survey.Response
	rollups   survey.RollupSum
	dead      []DeadLetter
	nextID    map[string]survey.ID // per table, as SQL sequences number each table from 1
	// Now stamps published versions; nil means time.Now.
	Now func() time.Time
}

var _ survey.Catalog = (*Store)(nil)

type versionKey struct {
	survey  survey.ID
	version int
}

// DeadLetter is an entry set aside by Quarantine.
type DeadLetter struct {
	Source, Reason string
	Raw            []byte
}

// New returns an empty store.
func New() *Store {
	return &Store{
		agencies:  map[survey.ID]survey.Agency{},
		offices:   map[survey.ID]survey.Office{},
		surveys:   map[survey.ID]survey.Survey{},
		versions:  map[versionKey]survey.Version{},
		tokens:    map[string]survey.Principal{},
		responses: map[string]survey.Response{},
		nextID:    map[string]survey.ID{},
	}
}

func (s *Store) id(table string) survey.ID {
	s.nextID[table]++
	return s.nextID[table]
}

func notFound(fa, en string) error {
	return &survey.Error{Code: survey.ECodeNotFound, Message: en, MessageFA: fa}
}

func required(field string) error {
	return &survey.Error{Code: survey.ECodeInvalid, Message: field + " is required", MessageFA: "این فیلد لازم است.",
		Fields: map[string]survey.FieldError{field: {Code: "required", Message: field + " is required", MessageFA: "این فیلد لازم است."}}}
}

// CreateProvince stores p and sets p.ID.
func (s *Store) CreateProvince(_ context.Context, p *survey.Province) error {
	if strings.TrimSpace(p.Name) == "" {
		return required("name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.ID = s.id("provinces")
	s.provinces = append(s.provinces, *p)
	return nil
}

// CreateAgency stores a and sets a.ID; the province must exist.
func (s *Store) CreateAgency(_ context.Context, a *survey.Agency) error {
	if strings.TrimSpace(a.Name) == "" {
		return required("name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, p := range s.provinces {
		found = found || p.ID == a.ProvinceID
	}
	if !found {
		return survey.Errorf(survey.ECodeInvalid, "این استان وجود ندارد.", "the province does not exist")
	}
	for _, x := range s.agencies {
		if a.Slug != "" && x.Slug == a.Slug {
			return survey.Errorf(survey.ECodeConflict, "دستگاهی با این نشانک هست.", "an agency with this slug exists")
		}
	}
	a.ID = s.id("agencies")
	s.agencies[a.ID] = *a
	return nil
}

// CreateOffice stores o and sets o.ID; the agency must exist.
func (s *Store) CreateOffice(_ context.Context, o *survey.Office) error {
	if strings.TrimSpace(o.Name) == "" {
		return required("name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.agencies[o.AgencyID]; !ok {
		return survey.Errorf(survey.ECodeInvalid, "این دستگاه وجود ندارد.", "the agency does not exist")
	}
	o.ID = s.id("offices")
	s.offices[o.ID] = *o
	return nil
}

// CreateSurvey stores sv with no published version and sets sv.ID; the agency must exist.
func (s *Store) CreateSurvey(_ context.Context, sv *survey.Survey) error {
	if strings.TrimSpace(sv.Title) == "" {
		return required("title")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.agencies[sv.AgencyID]; !ok {
		return survey.Errorf(survey.ECodeInvalid, "این دستگاه وجود ندارد.", "the agency does not exist")
	}
	sv.ID, sv.ActiveVersion = s.id("surveys"), 0
	s.surveys[sv.ID] = *sv
	return nil
}

// PublishVersion checks v, numbers it after the survey's last version, stores it and makes it
// the survey's active version, as the SQL store does.
func (s *Store) PublishVersion(_ context.Context, v *survey.Version) error {
	if err := v.Check(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.surveys[v.SurveyID]
	if !ok {
		return notFound("این پرسشنامه پیدا نشد.", "survey not found")
	}
	if v.AgencyID != 0 && v.AgencyID != sv.AgencyID {
		return survey.Errorf(survey.ECodeInvalid, "این پرسشنامه متعلق به این دستگاه نیست.", "the survey does not belong to this agency")
	}
	out := *v
	out.AgencyID = sv.AgencyID
	out.Version = sv.ActiveVersion + 1
	for k := range s.versions {
		if k.survey == sv.ID && k.version >= out.Version {
			out.Version = k.version + 1
		}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	out.PublishedAt = now().UTC().Truncate(time.Microsecond)
	if strings.TrimSpace(out.Title) == "" {
		out.Title = sv.Title
	}
	out.Questions = append([]survey.Question(nil), v.Questions...)
	if v.SMS != nil { // a copy, as the SQL store's JSON is: a published version never changes
		st := *v.SMS
		st.FollowUp = append([]string(nil), v.SMS.FollowUp...)
		out.SMS = &st
	}
	s.versions[versionKey{sv.ID, out.Version}] = out
	sv.ActiveVersion = out.Version
	s.surveys[sv.ID] = sv
	*v = out
	return nil
}

// PutAgency stores a with the id it carries, for fixtures that need fixed ids; later
// CreateAgency calls number after it.
func (s *Store) PutAgency(a survey.Agency) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agencies[a.ID] = a
	s.nextID["agencies"] = max(s.nextID["agencies"], a.ID)
}

// PutOffice stores o with the id it carries, for fixtures that need fixed ids.
func (s *Store) PutOffice(o survey.Office) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offices[o.ID] = o
	s.nextID["offices"] = max(s.nextID["offices"], o.ID)
}

// PutVersion stores a published version exactly as given (its survey is created when missing)
// and makes it the survey's active version when it is the newest, for fixtures that need fixed
// survey ids and version numbers.
func (s *Store) PutVersion(v survey.Version) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.surveys[v.SurveyID]
	if !ok {
		sv = survey.Survey{ID: v.SurveyID, AgencyID: v.AgencyID, Title: v.Title}
	}
	if v.Version > sv.ActiveVersion {
		sv.ActiveVersion = v.Version
	}
	s.surveys[sv.ID] = sv
	s.nextID["surveys"] = max(s.nextID["surveys"], sv.ID)
	s.versions[versionKey{v.SurveyID, v.Version}] = v
}

// Provinces lists every province by id.
func (s *Store) Provinces(context.Context) ([]survey.Province, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]survey.Province{}, s.provinces...), nil
}

// Agencies lists the agencies p may read, by id.
func (s *Store) Agencies(_ context.Context, p survey.Principal) ([]survey.Agency, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []survey.Agency{}
	for id, a := range s.agencies {
		if p.CanReadAgency(id) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Agency returns one agency, or a not-found error.
func (s *Store) Agency(_ context.Context, id survey.ID) (survey.Agency, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.agencies[id]
	if !ok {
		return a, notFound("این دستگاه پیدا نشد.", "agency not found")
	}
	return a, nil
}

// Offices lists an agency's offices by id; an unknown agency is not found.
func (s *Store) Offices(_ context.Context, agencyID survey.ID) ([]survey.Office, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.agencies[agencyID]; !ok {
		return nil, notFound("این دستگاه پیدا نشد.", "agency not found")
	}
	out := []survey.Office{}
	for _, o := range s.offices {
		if o.AgencyID == agencyID {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Surveys lists an agency's surveys by id; an unknown agency is not found.
func (s *Store) Surveys(_ context.Context, agencyID survey.ID) ([]survey.Survey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.agencies[agencyID]; !ok {
		return nil, notFound("این دستگاه پیدا نشد.", "agency not found")
	}
	out := []survey.Survey{}
	for _, sv := range s.surveys {
		if sv.AgencyID == agencyID {
			out = append(out, sv)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ActiveVersionFor is ActiveVersion: the in-memory store keeps no survey assignments, so every
// office and channel of an agency offers its active survey.
func (s *Store) ActiveVersionFor(ctx context.Context, agencyID, _ survey.ID, _ survey.Channel) (survey.Version, error) {
	return s.ActiveVersion(ctx, agencyID)
}

// ActiveVersion returns the most recently published active version of the agency's surveys.
func (s *Store) ActiveVersion(_ context.Context, agencyID survey.ID) (survey.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best survey.Version
	found := false
	for _, sv := range s.surveys {
		if sv.AgencyID != agencyID || sv.ActiveVersion == 0 {
			continue
		}
		v := s.versions[versionKey{sv.ID, sv.ActiveVersion}]
		if !found || v.PublishedAt.After(best.PublishedAt) || (v.PublishedAt.Equal(best.PublishedAt) && v.SurveyID > best.SurveyID) {
			best, found = v, true
		}
	}
	if !found {
		return best, notFound("این دستگاه پرسشنامهٔ فعالی ندارد.", "the agency has no active survey")
	}
	return best, nil
}

// Version returns one published version, or a not-found error.
func (s *Store) Version(_ context.Context, surveyID survey.ID, version int) (survey.Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.versions[versionKey{surveyID, version}]
	if !ok {
		return v, notFound("این نسخه از پرسشنامه پیدا نشد.", "survey version not found")
	}
	return v, nil
}

// AddToken makes token authenticate as p.
func (s *Store) AddToken(token string, p survey.Principal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = p
}

// Authenticate returns the principal of a token added with AddToken; anything else is
// ECodeUnauthorized.
func (s *Store) Authenticate(_ context.Context, token string) (survey.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.tokens[token]
	if !ok {
		return p, survey.Errorf(survey.ECodeUnauthorized, "توکن دسترسی نامعتبر است.", "invalid access token")
	}
	return p, nil
}

// Fold is FoldResponses reporting only how many responses were new.
func (s *Store) Fold(ctx context.Context, rs []survey.Response, delta func([]survey.Response) survey.RollupDelta) (int, error) {
	res, err := s.FoldResponses(ctx, rs, delta)
	return res.Inserted, err
}

// FoldResponses stores the responses not stored yet (by id) and adds delta(those) to the
// rollups, like the SQL store's one-transaction fold. A response whose id is stored (or earlier
// in rs) with a different content hash is not stored and its position is reported in
// Conflicts; an empty hash on either side never conflicts.
func (s *Store) FoldResponses(_ context.Context, rs []survey.Response, delta func([]survey.Response) survey.RollupDelta) (survey.FoldResult, error) {
	var res survey.FoldResult
	for _, r := range rs {
		if id := strings.ToLower(strings.TrimSpace(r.ID)); !survey.ValidUUID(id) {
			return res, survey.Errorf(survey.ECodeInvalid, "شناسهٔ پاسخ باید UUID باشد: %s", "response ids must be UUIDs: %s", r.ID)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var fresh []survey.Response
	for i, r := range rs {
		id := strings.ToLower(strings.TrimSpace(r.ID))
		if old, seen := s.responses[id]; seen {
			if old.Hash != "" && r.Hash != "" && old.Hash != r.Hash {
				res.Conflicts = append(res.Conflicts, i)
			}
			continue
		}
		r.ID = id
		s.responses[id] = r
		fresh = append(fresh, r)
	}
	if len(fresh) > 0 {
		s.rollups.Add(delta(fresh))
	}
	res.Inserted = len(fresh)
	return res, nil
}

// Quarantine keeps an entry that could not be processed.
func (s *Store) Quarantine(_ context.Context, source string, raw []byte, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = append(s.dead, DeadLetter{Source: source, Reason: reason, Raw: append([]byte(nil), raw...)})
	return nil
}

// DeadLetters returns what Quarantine kept, oldest first.
func (s *Store) DeadLetters() []DeadLetter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DeadLetter(nil), s.dead...)
}

// ResponseCount counts stored responses of one agency, or of all when agencyID is 0.
func (s *Store) ResponseCount(_ context.Context, agencyID survey.ID) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, r := range s.responses {
		if agencyID == 0 || r.AgencyID == agencyID {
			n++
		}
	}
	return n, nil
}

// Responses returns the stored responses in id order.
func (s *Store) Responses() []survey.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]survey.Response, 0, len(s.responses))
	for _, r := range s.responses {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Rollups returns every rollup and histogram cell in key order.
func (s *Store) Rollups() survey.RollupDelta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rollups.Delta()
}

// selected reports whether a cell's key passes a report filter (zero fields mean any).
func selected(k survey.RollupKey, f survey.RollupFilter) bool {
	return (f.AgencyID == 0 || k.AgencyID == f.AgencyID) && (f.OfficeID == 0 || k.OfficeID == f.OfficeID) &&
		(f.FromDay == "" || k.Day >= f.FromDay) && (f.ToDay == "" || k.Day <= f.ToDay)
}

// RollupTotals sums the selected rollups per question, type and channel, ordered by question,
// channel, type — the contract of the SQL store's named query rollup_totals.
func (s *Store) RollupTotals(_ context.Context, f survey.RollupFilter) ([]survey.RollupTotal, error) {
	type key struct {
		q  string
		t  survey.QuestionType
		ch survey.Channel
	}
	sums := map[key]*survey.RollupTotal{}
	for _, r := range s.Rollups().Rollups {
		if !selected(r.RollupKey, f) {
			continue
		}
		k := key{r.QuestionID, r.Type, r.Channel}
		t := sums[k]
		if t == nil {
			t = &survey.RollupTotal{QuestionID: r.QuestionID, Type: r.Type, Channel: r.Channel}
			sums[k] = t
		}
		t.N += r.N
		t.Sum += r.Sum
		t.SumSq += r.SumSq
	}
	out := make([]survey.RollupTotal, 0, len(sums))
	for _, t := range sums {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.QuestionID != b.QuestionID {
			return a.QuestionID < b.QuestionID
		}
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.Type < b.Type
	})
	return out, nil
}

// HistogramTotals sums the selected histogram cells per question, channel and value, ordered
// so — the contract of the named query histogram_totals.
func (s *Store) HistogramTotals(_ context.Context, f survey.RollupFilter) ([]survey.HistogramTotal, error) {
	type key struct {
		q  string
		ch survey.Channel
		v  string
	}
	sums := map[key]int64{}
	for _, h := range s.Rollups().Histogram {
		if selected(h.RollupKey, f) {
			sums[key{h.QuestionID, h.Channel, h.Value}] += h.N
		}
	}
	out := make([]survey.HistogramTotal, 0, len(sums))
	for k, n := range sums {
		out = append(out, survey.HistogramTotal{QuestionID: k.q, Channel: k.ch, Value: k.v, N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.QuestionID != b.QuestionID {
			return a.QuestionID < b.QuestionID
		}
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.Value < b.Value
	})
	return out, nil
}
