package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// Digests are what staff read once a Jalali week or month instead of watching a dashboard: the
// period's headline with its interval and n, how it moved against the period before — and
// whether that movement is more than chance — the reasons unhappy citizens gave most, and a few
// of their comments. An agency's staff get their agency's digest; the governorate's PR office
// gets every agency's, ordered by movement.

// DigestScores is what digests read scores from (Scores).
type DigestScores interface {
	Score(ctx context.Context, p survey.Principal, agencyID survey.ID, q ScoreQuery) (Score, error)
}

// CommentSource streams an agency's raw responses over a period (the SQL store), for the
// comments a digest quotes.
type CommentSource interface {
	EachResponse(ctx context.Context, f survey.RollupFilter, fn func(*survey.Response) error) error
}

// DigestCatalog lists the agencies a principal may read and gives an agency's active survey
// version (for the reasons' labels): the catalog.
type DigestCatalog interface {
	Agencies(ctx context.Context, p survey.Principal) ([]survey.Agency, error)
	ActiveVersion(ctx context.Context, agencyID survey.ID) (survey.Version, error)
}

// DigestComments is how many comments a digest quotes at most.
const DigestComments = 5

// DigestReasons is how many reasons a digest lists at most.
const DigestReasons = 3

// Digest is one agency's digest for one period.
type Digest struct {
	AgencyID   survey.ID `json:"agency_id"`
	AgencyName string    `json:"agency_name"`
	Period     Period    `json:"period"`
	Previous   Period    `json:"previous"`
	// Citizens and Index are the period's headline: the number of citizens and the 0–100 index
	// with its 95% interval; PreviousCitizens and PreviousIndex the same for the period before.
	Citizens         int64    `json:"citizens"`
	Index            Estimate `json:"index"`
	PreviousCitizens int64    `json:"previous_citizens"`
	PreviousIndex    Estimate `json:"previous_index"`
	Movement         Movement `json:"movement"`
	// Reasons are the options of the survey's choice questions chosen most in the period.
	Reasons []DigestReason `json:"reasons"`
	// Comments are the period's latest comments of unhappy citizens (headline rating ≤ 2),
	// personal numbers redacted.
	Comments []DigestComment `json:"comments"`
}

// Movement is the change of the index from the previous period to this one, with a 95% interval
// of the difference (the two periods' intervals combined as independent normal errors). Clear
// says the interval excludes zero: the index moved by more than chance would. Nil when either
// period has no citizens.
type Movement struct {
	Change *float64 `json:"change"`
	Low    *float64 `json:"ci_low"`
	High   *float64 `json:"ci_high"`
	Clear  bool     `json:"clear"`
}

// DigestReason is one option chosen by unhappy citizens: how many times, and its share of the
// answers to its question.
type DigestReason struct {
	QuestionID string  `json:"question_id"`
	OptionID   string  `json:"option_id"`
	Label      string  `json:"label"`
	Count      int64   `json:"count"`
	Share      float64 `json:"share"`
}

// DigestComment is one quoted comment.
type DigestComment struct {
	ResponseID  string         `json:"response_id"`
	SubmittedAt time.Time      `json:"submitted_at"`
	Jalali      string         `json:"jalali"`
	Channel     survey.Channel `json:"channel"`
	Text        string         `json:"text"`
}

// Digests builds digests.
type Digests struct {
	scores   DigestScores
	comments CommentSource
	agencies DigestCatalog
	// Clock decides "now" when no date is given; nil is the wall clock.
	Clock survey.Clock
}

// NewDigests returns digests over scores, raw responses (nil: no comments) and the catalog.
func NewDigests(scores DigestScores, comments CommentSource, agencies DigestCatalog) *Digests {
	return &Digests{scores: scores, comments: comments, agencies: agencies}
}

// DigestPeriod returns the last complete week or month (g) before the Tehran day holding at, and
// the one before it. Only ByWeek and ByMonth make digests.
func DigestPeriod(g Granularity, at time.Time) (current, previous Period, err error) {
	if g != ByWeek && g != ByMonth {
		return Period{}, Period{}, &survey.Error{Code: survey.ECodeInvalid, Message: "period must be week or month",
			MessageFA: "دوره باید هفته یا ماه باشد.", Fields: map[string]survey.FieldError{"period": {Code: "invalid",
				Message: "period must be week or month", MessageFA: "دوره باید «week» یا «month» باشد."}}}
	}
	running := PeriodOf(at, g)
	current = PeriodOf(running.Start.Add(-time.Hour), g)
	previous = PeriodOf(current.Start.Add(-time.Hour), g)
	return current, previous, nil
}

// Agency returns agency agencyID's digest for the last complete period g before at. Tenancy is
// the score's: an agency the principal may not read is "not found".
func (d *Digests) Agency(ctx context.Context, p survey.Principal, agencyID survey.ID, g Granularity, at time.Time) (Digest, error) {
	cur, prev, err := DigestPeriod(g, at)
	if err != nil {
		return Digest{}, err
	}
	now, err := d.scores.Score(ctx, p, agencyID, periodQuery(cur))
	if err != nil {
		return Digest{}, err
	}
	before, err := d.scores.Score(ctx, p, agencyID, periodQuery(prev))
	if err != nil {
		return Digest{}, err
	}
	out := Digest{AgencyID: now.AgencyID, AgencyName: now.AgencyName, Period: cur, Previous: prev,
		Citizens: now.Citizens, Index: now.Index, PreviousCitizens: before.Citizens, PreviousIndex: before.Index,
		Movement: movement(before.Index, now.Index), Reasons: topReasons(now.ByQuestion), Comments: []DigestComment{}}
	if v, err := d.agencies.ActiveVersion(ctx, agencyID); err == nil {
		labelReasons(out.Reasons, &v)
	} else if survey.ErrorCode(err) != survey.ECodeNotFound {
		return Digest{}, err
	}
	if d.comments != nil {
		if out.Comments, err = d.latestComments(ctx, agencyID, cur); err != nil {
			return Digest{}, err
		}
	}
	return out, nil
}

// Province returns the digest of every agency the principal may read for the last complete
// period g before at, without comments (the province reads each agency's own for those), ordered
// by movement: the clearest falls first, then the rest by change.
func (d *Digests) Province(ctx context.Context, p survey.Principal, g Granularity, at time.Time) ([]Digest, error) {
	as, err := d.agencies.Agencies(ctx, p)
	if err != nil {
		return nil, err
	}
	lite := *d
	lite.comments = nil
	out := make([]Digest, 0, len(as))
	for _, a := range as {
		dg, err := lite.Agency(ctx, p, a.ID, g, at)
		if err != nil {
			return nil, err
		}
		out = append(out, dg)
	}
	slices.SortStableFunc(out, func(a, b Digest) int {
		if a.Movement.Clear != b.Movement.Clear {
			if a.Movement.Clear {
				return -1
			}
			return 1
		}
		return cmp.Compare(changeOf(a), changeOf(b))
	})
	return out, nil
}

// changeOf orders digests by change, those without one last.
func changeOf(d Digest) float64 {
	if d.Movement.Change == nil {
		return math.Inf(1)
	}
	return *d.Movement.Change
}

// periodQuery is the score query of a period: its first and last Tehran day.
func periodQuery(p Period) ScoreQuery {
	last := p.End.Add(-time.Hour)
	return ScoreQuery{From: survey.TehranDay(p.Start).Format(survey.DayFormat), To: survey.TehranDay(last).Format(survey.DayFormat)}
}

// movement is the change from before to now with its interval.
func movement(before, now Estimate) Movement {
	if !before.Defined() || !now.Defined() || !before.HasInterval() || !now.HasInterval() {
		return Movement{}
	}
	se := func(e Estimate) float64 { return (*e.High - *e.Low) / (2 * Z95) }
	change := *now.Value - *before.Value
	half := Z95 * math.Hypot(se(before), se(now))
	lo, hi := change-half, change+half
	return Movement{Change: ptr(change), Low: ptr(lo), High: ptr(hi), Clear: lo > 0 || hi < 0}
}

// topReasons lists the options chosen most across the choice questions shown to unhappy
// citizens (those with a condition), or every choice question when none has one.
func topReasons(qs []QuestionScore) []DigestReason {
	var out []DigestReason
	for _, q := range qs {
		if q.Type != survey.TypeChoice || q.N == 0 {
			continue
		}
		for opt, n := range q.Histogram {
			if n > 0 {
				out = append(out, DigestReason{QuestionID: q.QuestionID, OptionID: opt, Label: opt, Count: n,
					Share: float64(n) / float64(q.N)})
			}
		}
	}
	slices.SortFunc(out, func(a, b DigestReason) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.OptionID, b.OptionID)
	})
	if len(out) > DigestReasons {
		out = out[:DigestReasons]
	}
	if out == nil {
		out = []DigestReason{}
	}
	return out
}

// labelReasons gives each reason its option's label in version v, where it has one.
func labelReasons(rs []DigestReason, v *survey.Version) {
	for i, r := range rs {
		q, _, ok := v.Question(r.QuestionID)
		if !ok {
			continue
		}
		for _, o := range q.Options {
			if o.ID == r.OptionID {
				rs[i].Label = o.Label
			}
		}
	}
}

// latestComments reads the period's raw responses and keeps the latest comments of unhappy
// citizens, redacted.
func (d *Digests) latestComments(ctx context.Context, agencyID survey.ID, p Period) ([]DigestComment, error) {
	q := periodQuery(p)
	var all []DigestComment
	err := d.comments.EachResponse(ctx, survey.RollupFilter{AgencyID: agencyID, FromDay: q.From, ToDay: q.To}, func(r *survey.Response) error {
		if r.Flag != "" || !unhappy(r) {
			return nil
		}
		for _, a := range r.Answers {
			if a.Type == survey.TypeText && strings.TrimSpace(a.Text) != "" {
				all = append(all, DigestComment{ResponseID: r.ID, SubmittedAt: r.SubmittedAt, Jalali: FormatJalali(survey.TehranDay(r.SubmittedAt)),
					Channel: r.Channel, Text: survey.RedactPersonal(a.Text)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b DigestComment) int { return b.SubmittedAt.Compare(a.SubmittedAt) })
	if len(all) > DigestComments {
		all = all[:DigestComments]
	}
	if all == nil {
		all = []DigestComment{}
	}
	return all, nil
}

// unhappy reports whether a response's headline ratings average 2 or less.
func unhappy(r *survey.Response) bool {
	sum, n := 0, 0
	for _, a := range r.Answers {
		if a.Headline && a.Type == survey.TypeRating5 && a.Number != nil {
			sum += *a.Number
			n++
		}
	}
	return n > 0 && sum <= 2*n
}

// Text is the digest as a short Persian message (an SMS or the top of an email): the period, the
// index with its interval and n, and the movement.
func (dg Digest) Text() string { return dg.text(dg.AgencyName, true) }

// text is Text with the agency named name, and without the movement when movement is false
// (shorter variants for an SMS that must fit its parts).
func (dg Digest) text(name string, movement bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "افکار — %s، %s: ", name, dg.Period.Label)
	if !dg.Index.Defined() || !dg.Index.HasInterval() {
		b.WriteString("در این دوره پاسخی نرسید.")
		return b.String()
	}
	fmt.Fprintf(&b, "شاخص %s (%s تا %s، %s نفر)", persianFixed(*dg.Index.Value, 0), persianFixed(*dg.Index.Low, 0),
		persianFixed(*dg.Index.High, 0), persianFixed(float64(dg.Citizens), 0))
	if m := dg.Movement; movement && m.Change != nil {
		switch {
		case m.Clear && *m.Change < 0:
			fmt.Fprintf(&b, "؛ کاهش روشن %s واحد نسبت به دورهٔ پیش", persianFixed(-*m.Change, 0))
		case m.Clear:
			fmt.Fprintf(&b, "؛ افزایش روشن %s واحد نسبت به دورهٔ پیش", persianFixed(*m.Change, 0))
		default:
			b.WriteString("؛ تغییر نسبت به دورهٔ پیش در حد تصادف است")
		}
	}
	b.WriteString(".")
	return b.String()
}

// shortName cuts a name to at most n letters, with an ellipsis when cut.
func shortName(name string, n int) string {
	name = strings.Join(strings.Fields(name), " ")
	r := []rune(name)
	if len(r) <= n {
		return name
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// ProvinceText is the province summary of a period's agency digests (ordered as Province orders
// them) as a short Persian message: how many agencies had citizens, how many moved clearly down
// and up, and — when named is true — the agency with the largest clear fall and rise.
func ProvinceText(label string, ds []Digest, named bool) string {
	var with, down, up int
	var worst, best *Digest
	for i := range ds {
		dg := &ds[i]
		if dg.Index.Defined() {
			with++
		}
		m := dg.Movement
		if !m.Clear || m.Change == nil {
			continue
		}
		if *m.Change < 0 {
			down++
			if worst == nil || *m.Change < *worst.Movement.Change {
				worst = dg
			}
		} else {
			up++
			if best == nil || *m.Change > *best.Movement.Change {
				best = dg
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "افکار — استان، %s: %s دستگاه با پاسخ؛ کاهش روشن: %s، افزایش روشن: %s", label,
		persianFixed(float64(with), 0), persianFixed(float64(down), 0), persianFixed(float64(up), 0))
	if named && worst != nil {
		fmt.Fprintf(&b, "؛ بیشترین کاهش: %s (%s)", shortName(worst.AgencyName, 24), persianFixed(*worst.Movement.Change, 0))
	}
	if named && best != nil {
		fmt.Fprintf(&b, "؛ بیشترین افزایش: %s (+%s)", shortName(best.AgencyName, 24), persianFixed(*best.Movement.Change, 0))
	}
	b.WriteString(".")
	return b.String()
}

// PeriodStart is when the period (week or month) holding at began: the digest sender sends the
// previous period's digest once that day's morning has come.
func (d *Digests) PeriodStart(period string, at time.Time) time.Time {
	return PeriodOf(at, Granularity(period)).Start
}

// DigestTexts is p's digest of the last complete period (week or month) before at as SMS texts,
// longest first — the sender keeps the first that fits its parts — with the period's key. An
// agency role gets its agency's digest; a province role the province summary. Comments are
// left out: an SMS has no room for them.
func (d *Digests) DigestTexts(ctx context.Context, p survey.Principal, period string, at time.Time) (string, []string, error) {
	g := Granularity(period)
	cur, _, err := DigestPeriod(g, at)
	if err != nil {
		return "", nil, err
	}
	lite := *d
	lite.comments = nil
	if p.Role.ProvinceRole() {
		ds, err := lite.Province(ctx, p, g, at)
		if err != nil {
			return "", nil, err
		}
		return cur.Key, []string{ProvinceText(cur.Label, ds, true), ProvinceText(cur.Label, ds, false)}, nil
	}
	if p.AgencyID == 0 {
		return "", nil, survey.ErrForbiddenAgency()
	}
	dg, err := lite.Agency(ctx, p, p.AgencyID, g, at)
	if err != nil {
		return "", nil, err
	}
	return cur.Key, []string{dg.Text(), dg.text(shortName(dg.AgencyName, 24), true), dg.text(shortName(dg.AgencyName, 16), false)}, nil
}

// persianFixed formats v with decimals digits after the Persian decimal separator, in Persian
// digits.
func persianFixed(v float64, decimals int) string {
	s := fmt.Sprintf("%.*f", decimals, v)
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return '۰' + (r - '0')
		case r == '.':
			return '٫'
		case r == '-':
			return '−'
		}
		return r
	}, s)
}
