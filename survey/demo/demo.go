// Package demo seeds a believable province so that a fresh Afkar shows something worth looking
// at: seven agencies of «استان البرز» with their offices, each with the national-practice
// satisfaction survey published, and a few weeks of synthetic responses that look like real
// traffic — agencies that differ in quality, a kiosk/web/SMS channel mix, busy Saturday mornings
// and empty Fridays in Tehran time. Every synthetic response is produced by the same
// survey.Version.Validate that guards real submissions, so demo data can never hold what intake
// would reject, and a fixed seed reproduces the same data (for screenshots and tests).
package demo

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
)

// Defaults of Options.
const (
	DefaultResponses = 3000
	DefaultDays      = 28
	// BatchSize is how many responses Seed hands to fold at once: the aggregator's batch size,
	// so a seed exercises the same transaction sizes as live traffic.
	BatchSize = 500
)

// ProvinceName is the demo governorate.
const ProvinceName = "استان البرز"

// SurveyTitle is the title of every demo survey.
const SurveyTitle = "نظرسنجی رضایت مراجعان"

// Options tune Seed. Zero values mean the defaults.
type Options struct {
	// Responses is how many synthetic responses to fold (0: DefaultResponses; negative: none).
	Responses int
	// Days spreads the responses over this many Tehran days ending today (0: DefaultDays).
	Days int
	// Now is the end of the period (zero: time.Now()).
	Now time.Time
	// Seed makes the responses reproducible: the same seed and Now give the same data.
	Seed int64
}

func (o Options) withDefaults() Options {
	if o.Responses == 0 {
		o.Responses = DefaultResponses
	}
	if o.Responses < 0 {
		o.Responses = 0
	}
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// Summary reports what Seed created.
type Summary struct {
	Province  survey.ID       `json:"province"`
	Agencies  []survey.Agency `json:"agencies"`
	Responses int             `json:"responses"`
}

// Question ids of the demo survey; dashboards and tests may refer to them.
const (
	QOverall   = "overall"
	QRespect   = "respect"
	QSpeed     = "speed"
	QClarity   = "clarity"
	QReasons   = "reasons"
	QComment   = "comment"
	CommentMax = 300
)

// Questions returns the national-practice survey: four 5-point ratings asked right after the
// service, then — only for a citizen who rated the service 2 or less — why, and an optional
// comment. Short on purpose: a kiosk survey longer than a minute is abandoned.
func Questions() []survey.Question {
	unhappy := func() *survey.Condition {
		return &survey.Condition{QuestionID: QOverall, Op: "lte", Value: 2}
	}
	return []survey.Question{
		{ID: QOverall, Type: survey.TypeRating5, Required: true,
			Title:   "به‌طور کلی از خدمتی که گرفتید چقدر راضی هستید؟",
			TitleEN: "Overall, how satisfied are you with the service you received?"},
		{ID: QRespect, Type: survey.TypeRating5,
			Title: "رفتار و احترام کارکنان", TitleEN: "Staff behaviour and respect"},
		{ID: QSpeed, Type: survey.TypeRating5,
			Title: "سرعت انجام کار", TitleEN: "Speed of service"},
		{ID: QClarity, Type: survey.TypeRating5,
			Title: "روشنی راهنمایی و اطلاع‌رسانی", TitleEN: "Clarity of guidance and information"},
		{ID: QReasons, Type: survey.TypeChoice, Multiple: true, ShowIf: unhappy(),
			Title:   "چه چیزی باعث نارضایتی شما شد؟",
			TitleEN: "What made you dissatisfied?",
			Options: []survey.Option{
				{ID: "waiting", Label: "صف و معطلی"},
				{ID: "behaviour", Label: "رفتار نامناسب"},
				{ID: "confusing", Label: "راهنمایی ناروشن"},
				{ID: "documents", Label: "مدارک زیاد"},
				{ID: "other", Label: "سایر"},
			}},
		{ID: QComment, Type: survey.TypeText, MaxLength: CommentMax, ShowIf: unhappy(),
			Title:   "اگر مایلید، بنویسید چه اتفاقی افتاد.",
			TitleEN: "If you wish, tell us what happened."},
	}
}

// SMS returns how the demo survey is asked by SMS: the default invitation question, then — for
// a citizen who rated 2 or less — the reasons (their labels are short so that the follow-up SMS
// fits two parts), and nothing more.
func SMS() *survey.SMSSettings {
	return &survey.SMSSettings{FollowUp: []string{QReasons}}
}

// profile is how an agency behaves in the demo: its service quality (mean satisfaction on the
// 1–5 scale), how that moves across the period, how busy it is, and what unhappy citizens blame.
type profile struct {
	slug    string
	name    string
	offices []string
	quality float64
	trend   float64 // change of quality from the first to the last day
	volume  float64
	reasons map[string]float64
}

// agencies are the demo agencies, in creation order. Quality differs on purpose so that the
// ranking has a top and a bottom and the «why» breakdown differs between them.
var agencies = []profile{
	{slug: "tax", name: "اداره کل امور مالیاتی", quality: 3.25, volume: 1.3,
		offices: []string{"اداره امور مالیاتی کرج", "اداره امور مالیاتی فردیس", "اداره امور مالیاتی هشتگرد"},
		reasons: map[string]float64{"waiting": 3, "behaviour": 1, "confusing": 3, "documents": 2, "other": 1}},
	{slug: "registry", name: "اداره کل ثبت اسناد و املاک", quality: 3.9, volume: 1.0,
		offices: []string{"اداره ثبت اسناد و املاک کرج", "اداره ثبت اسناد و املاک نظرآباد"},
		reasons: map[string]float64{"waiting": 2, "behaviour": 1, "confusing": 2, "documents": 4, "other": 1}},
	{slug: "social-security", name: "سازمان تأمین اجتماعی", quality: 2.75, volume: 1.6,
		offices: []string{"شعبه ۱ کرج", "شعبه ۲ کرج", "شعبه اشتهارد"},
		reasons: map[string]float64{"waiting": 5, "behaviour": 2, "confusing": 2, "documents": 2, "other": 1}},
	{slug: "roads", name: "اداره کل راه و شهرسازی", quality: 3.6, volume: 0.5, trend: -0.3,
		offices: []string{"ساختمان مرکزی کرج"},
		reasons: map[string]float64{"waiting": 2, "behaviour": 1, "confusing": 3, "documents": 2, "other": 1}},
	{slug: "water", name: "شرکت آب و فاضلاب", quality: 4.2, volume: 0.9,
		offices: []string{"امور مشترکین کرج", "امور مشترکین طالقان"},
		reasons: map[string]float64{"waiting": 3, "behaviour": 1, "confusing": 1, "documents": 1, "other": 2}},
	{slug: "welfare", name: "اداره کل بهزیستی", quality: 3.45, volume: 0.6,
		offices: []string{"اداره بهزیستی کرج", "اداره بهزیستی ساوجبلاغ"},
		reasons: map[string]float64{"waiting": 2, "behaviour": 3, "confusing": 2, "documents": 2, "other": 1}},
	{slug: "municipality", name: "شهرداری کرج", quality: 2.95, volume: 1.4, trend: 0.6,
		offices: []string{"ساختمان مرکزی شهرداری", "شهرداری منطقه ۳", "شهرداری منطقه ۷"},
		reasons: map[string]float64{"waiting": 3, "behaviour": 2, "confusing": 3, "documents": 1, "other": 1}},
}

// profileFor finds the demo profile of an agency, or invents a stable one (from its name) for
// agencies an administrator added, so Responses works on any catalog.
func profileFor(a survey.Agency) profile {
	for _, p := range agencies {
		if p.slug == a.Slug && a.Slug != "" {
			return p
		}
	}
	if p, ok := nationalProfile(a.Slug); ok {
		return p
	}
	h := fnv.New32a()
	h.Write([]byte(a.Name + "\x00" + a.Slug))
	x := float64(h.Sum32()%1000) / 1000
	return profile{slug: a.Slug, name: a.Name, quality: 2.8 + 1.4*x, volume: 1}
}

// Seed creates the demo province, its agencies, offices and published surveys in cat, then folds
// opts.Responses synthetic responses through fold in batches of BatchSize. It does not check
// that cat is empty; callers seed only an empty store.
func Seed(ctx context.Context, cat survey.Catalog, fold func(ctx context.Context, rs []survey.Response) error, opts Options) (Summary, error) {
	opts = opts.withDefaults()
	var sum Summary
	prov := survey.Province{Name: ProvinceName}
	if err := cat.CreateProvince(ctx, &prov); err != nil {
		return sum, fmt.Errorf("demo: create province: %w", err)
	}
	sum.Province = prov.ID
	publishedAt := survey.TehranDay(opts.Now).AddDate(0, 0, -opts.Days)
	for _, p := range agencies {
		a := survey.Agency{ProvinceID: prov.ID, Name: p.name, Slug: p.slug}
		if err := cat.CreateAgency(ctx, &a); err != nil {
			return sum, fmt.Errorf("demo: create agency %s: %w", p.slug, err)
		}
		for _, name := range p.offices {
			o := survey.Office{AgencyID: a.ID, Name: name}
			if err := cat.CreateOffice(ctx, &o); err != nil {
				return sum, fmt.Errorf("demo: create office of %s: %w", p.slug, err)
			}
		}
		s := survey.Survey{AgencyID: a.ID, Title: SurveyTitle}
		if err := cat.CreateSurvey(ctx, &s); err != nil {
			return sum, fmt.Errorf("demo: create survey of %s: %w", p.slug, err)
		}
		v := survey.Version{SurveyID: s.ID, AgencyID: a.ID, Title: SurveyTitle, Questions: Questions(), SMS: SMS(), PublishedAt: publishedAt}
		if err := v.Check(); err != nil {
			return sum, fmt.Errorf("demo: survey of %s: %w", p.slug, err)
		}
		if err := cat.PublishVersion(ctx, &v); err != nil {
			return sum, fmt.Errorf("demo: publish survey of %s: %w", p.slug, err)
		}
		sum.Agencies = append(sum.Agencies, a)
	}
	if opts.Responses == 0 {
		return sum, nil
	}
	targets, err := loadTargets(ctx, cat, sum.Agencies)
	if err != nil {
		return sum, err
	}
	rng := rand.New(rand.NewSource(opts.Seed))
	ss, err := generate(ctx, targets, opts.Responses, opts.Now, opts.Days, rng)
	if err != nil {
		return sum, err
	}
	rs := responsesOf(ss)
	for i := 0; i < len(rs); i += BatchSize {
		batch := rs[i:min(i+BatchSize, len(rs))]
		if err := fold(ctx, batch); err != nil {
			return sum, fmt.Errorf("demo: fold responses %d–%d: %w", i, i+len(batch), err)
		}
		sum.Responses += len(batch)
	}
	return sum, nil
}

// Responses makes n more synthetic responses for every agency in cat that has a published
// survey, submitted over the days (default DefaultDays) Tehran days ending at now and ordered by
// submission time. The optional days argument lets a caller widen or narrow the period without
// a second function. The responses are not stored: pass them to a fold or a buffer.
func Responses(ctx context.Context, cat survey.Catalog, n int, now time.Time, rng *rand.Rand, days ...int) ([]survey.Response, error) {
	d := DefaultDays
	if len(days) > 0 && days[0] > 0 {
		d = days[0]
	}
	as, err := cat.Agencies(ctx, survey.Principal{Role: survey.RoleProvinceAdmin})
	if err != nil {
		return nil, fmt.Errorf("demo: list agencies: %w", err)
	}
	targets, err := loadTargets(ctx, cat, as)
	if err != nil {
		return nil, err
	}
	ss, err := generate(ctx, targets, n, now, d, rng)
	if err != nil {
		return nil, err
	}
	return responsesOf(ss), nil
}

// target is an agency ready to receive synthetic responses.
type target struct {
	agency  survey.Agency
	version survey.Version
	offices []survey.Office
	profile profile
	smsOK   bool // false when a required question cannot be asked by SMS
}

func loadTargets(ctx context.Context, cat survey.Catalog, as []survey.Agency) ([]target, error) {
	var ts []target
	for _, a := range as {
		v, err := cat.ActiveVersion(ctx, a.ID)
		if survey.ErrorCode(err) == survey.ECodeNotFound {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("demo: survey of agency %d: %w", a.ID, err)
		}
		offices, err := cat.Offices(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("demo: offices of agency %d: %w", a.ID, err)
		}
		t := target{agency: a, version: v, offices: offices, profile: profileFor(a), smsOK: true}
		for _, q := range v.Questions {
			if q.Required && q.Type == survey.TypeNPS {
				t.smsOK = false
			}
		}
		ts = append(ts, t)
	}
	if len(ts) == 0 {
		return nil, survey.Errorf(survey.ECodeNotFound, "هیچ دستگاهی پرسشنامه منتشرشده ندارد.", "no agency has a published survey")
	}
	return ts, nil
}

// generate is the engine of Seed, Responses and Submissions: n synthetic submissions and the
// responses they validate to, ordered by submission time.
func generate(ctx context.Context, ts []target, n int, now time.Time, days int, rng *rand.Rand) ([]synthetic, error) {
	now = now.UTC()
	first := survey.TehranDay(now).AddDate(0, 0, -(days - 1))
	volumes := make([]float64, len(ts))
	for i, t := range ts {
		volumes[i] = t.profile.volume
	}
	dw := dayWeightsFrom(first, days)
	out := make([]synthetic, 0, n)
	for i := 0; i < n; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		t := &ts[pick(rng, volumes)]
		sub, r, err := t.response(rng, now, first, days, dw)
		if err != nil {
			return nil, err
		}
		out = append(out, synthetic{sub: sub, r: r})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].r, out[j].r
		if !a.SubmittedAt.Equal(b.SubmittedAt) {
			return a.SubmittedAt.Before(b.SubmittedAt)
		}
		return a.ID < b.ID
	})
	return out, nil
}

// synthetic is one generated submission and the response intake would make of it.
type synthetic struct {
	sub survey.Submission
	r   survey.Response
}

func responsesOf(ss []synthetic) []survey.Response {
	rs := make([]survey.Response, len(ss))
	for i, s := range ss {
		rs[i] = s.r
	}
	return rs
}

// Submissions makes n synthetic submissions for the given agencies (those with a published
// survey), as clients would send them to POST /api/v1/responses: raw answer values, the channel
// and office, the client's submitted_at. They follow the same distribution as Responses — one
// source of truth for "realistic traffic" — so a load generator can send what the demo stores.
func Submissions(ctx context.Context, cat survey.Catalog, as []survey.Agency, n int, now time.Time, days int, rng *rand.Rand) ([]survey.Submission, error) {
	if days <= 0 {
		days = DefaultDays
	}
	targets, err := loadTargets(ctx, cat, as)
	if err != nil {
		return nil, err
	}
	ss, err := generate(ctx, targets, n, now, days, rng)
	if err != nil {
		return nil, err
	}
	subs := make([]survey.Submission, len(ss))
	for i, s := range ss {
		subs[i] = s.sub
	}
	return subs, nil
}

// Channel mix: lobby kiosks carry most responses, then QR/web links, then SMS invitations.
var (
	channels       = []survey.Channel{survey.ChannelKiosk, survey.ChannelWeb, survey.ChannelSMS}
	channelWeights = []float64{0.55, 0.30, 0.15}
)

// response makes one response of t: a visit time, a citizen's latent satisfaction, answers that
// follow from it, and the submission of those answers validated like any other. It returns the
// submission as sent and the response it validates to.
func (t *target) response(rng *rand.Rand, now, first time.Time, days int, dw []float64) (survey.Submission, survey.Response, error) {
	ch := channels[pick(rng, channelWeights)]
	if ch == survey.ChannelSMS && !t.smsOK {
		ch = survey.ChannelWeb
	}
	officeIdx := -1
	var officeID survey.ID
	if len(t.offices) > 0 {
		w := make([]float64, len(t.offices))
		for i := range w {
			w[i] = 1 / (1 + 0.4*float64(i)) // the main office is the busiest
		}
		officeIdx = pick(rng, w)
		officeID = t.offices[officeIdx].ID
	}
	submitted := when(rng, ch, now, first, dw)
	received := submitted.Add(delay(rng, ch)).Truncate(time.Millisecond) // as databases keep it
	if received.After(now) {
		received = now
	}

	// Satisfaction: the agency's level, moved along its trend, a little office effect, and the
	// citizen's own experience.
	progress := submitted.Sub(first).Hours() / (24 * float64(days))
	level := t.profile.quality + t.profile.trend*(progress-0.5)
	if officeIdx > 0 {
		level += []float64{0, -0.35, 0.2}[officeIdx%3]
	}
	s := level + rng.NormFloat64()*0.95

	sub := survey.Submission{
		ID:            uuidV7(submitted, rng),
		AgencyID:      t.agency.ID,
		OfficeID:      officeID,
		SurveyID:      t.version.SurveyID,
		SurveyVersion: t.version.Version,
		Channel:       ch,
		Source:        source(rng, ch, t, officeIdx),
		SubmittedAt:   &submitted,
	}
	given := map[string]survey.Answer{}
	var reasons []string
	for qi, q := range t.version.Questions {
		if c := q.ShowIf; c != nil {
			dep, ok := given[c.QuestionID]
			if !ok || !c.Met(dep) {
				continue
			}
		}
		if ch == survey.ChannelSMS && qi > 0 && !q.Required {
			continue // an SMS reply carries one rating
		}
		if q.Type == survey.TypeNPS && ch == survey.ChannelSMS {
			continue
		}
		if !q.Required && rng.Float64() > answerRate(q.Type, ch) {
			continue
		}
		a := survey.Answer{QuestionID: q.ID, Type: q.Type}
		var raw any
		switch q.Type {
		case survey.TypeRating5:
			x := s
			if len(given) > 0 {
				x += itemBias[q.ID] + rng.NormFloat64()*0.6
			}
			n := scale(x, 1, 5, q)
			a.Number, raw = &n, n
		case survey.TypeNPS:
			n := scale(1+(s-1)*1.1+rng.NormFloat64()*0.5, 1, 5, q)
			a.Number, raw = &n, n
		case survey.TypeYesNo:
			yes := rng.Float64() < (s-1)/4
			n := 0
			if yes {
				n = 1
			}
			a.Number, raw = &n, yes
		case survey.TypeChoice:
			a.Choices = choose(rng, q, t.profile.reasons)
			reasons = a.Choices
			if q.Multiple {
				raw = a.Choices
			} else {
				raw = a.Choices[0]
			}
		case survey.TypeText:
			text := comment(rng, reasons)
			if max := q.TextMax(); utf8.RuneCountInString(text) > max {
				text = string([]rune(text)[:max])
			}
			sub.Answers = append(sub.Answers, survey.SubmittedAnswer{QuestionID: q.ID, Text: &text})
			given[q.ID] = survey.Answer{QuestionID: q.ID, Type: q.Type, Text: text}
			continue
		default:
			continue
		}
		b, err := json.Marshal(raw)
		if err != nil {
			return sub, survey.Response{}, err
		}
		sub.Answers = append(sub.Answers, survey.SubmittedAnswer{QuestionID: q.ID, Value: b})
		given[q.ID] = a
	}
	r, err := t.version.Validate(&sub, received)
	if err != nil {
		return sub, r, fmt.Errorf("demo: synthetic response for agency %d does not validate (a demo bug): %w", t.agency.ID, err)
	}
	return sub, r, nil
}

// itemBias shifts the secondary ratings from the overall one: staff are usually rated kinder
// than the wait, and guidance a little below the overall impression.
var itemBias = map[string]float64{QRespect: 0.3, QSpeed: -0.4, QClarity: -0.15}

// answerRate is how often an optional question is answered when shown.
func answerRate(t survey.QuestionType, ch survey.Channel) float64 {
	switch t {
	case survey.TypeText:
		if ch == survey.ChannelKiosk {
			return 0.2 // typing on a kiosk is a chore
		}
		return 0.45
	case survey.TypeChoice:
		return 0.85
	}
	if ch == survey.ChannelKiosk {
		return 0.93
	}
	return 0.85
}

// scale rounds x on the [lo, hi] scale to the question's own bounds.
func scale(x, lo, hi float64, q survey.Question) int {
	qlo, qhi := q.Bounds()
	x = math.Max(lo, math.Min(hi, x))
	v := float64(qlo) + (x-lo)/(hi-lo)*float64(qhi-qlo)
	return int(math.Round(v))
}

// choose picks options: one for a single choice, usually one or two for a multiple choice,
// weighted by the agency's typical complaints where the option ids match them.
func choose(rng *rand.Rand, q survey.Question, weights map[string]float64) []string {
	w := make([]float64, len(q.Options))
	for i, o := range q.Options {
		w[i] = 1
		if x, ok := weights[o.ID]; ok {
			w[i] = x
		}
	}
	k := 1
	if q.Multiple {
		switch x := rng.Float64(); {
		case x < 0.25:
			k = 3
		case x < 0.6:
			k = 2
		}
	}
	var ids []string
	for len(ids) < k && len(ids) < len(q.Options) {
		i := pick(rng, w)
		ids = append(ids, q.Options[i].ID)
		w[i] = 0
	}
	// Keep the questionnaire's option order, as a form would send them.
	sort.Slice(ids, func(a, b int) bool { return optionIndex(q, ids[a]) < optionIndex(q, ids[b]) })
	return ids
}

func optionIndex(q survey.Question, id string) int {
	for i, o := range q.Options {
		if o.ID == id {
			return i
		}
	}
	return -1
}

// comments are what unhappy citizens write, by the reason they chose.
var comments = map[string][]string{
	"waiting": {
		"بیش از یک ساعت در صف منتظر ماندم.",
		"نوبت‌دهی نظم نداشت و چند نفر خارج از نوبت کارشان انجام شد.",
		"فقط یک باجه باز بود و بقیه خالی بودند.",
	},
	"behaviour": {
		"کارمند باجه با بی‌حوصلگی جواب داد.",
		"برخورد نگهبان ورودی مناسب نبود.",
	},
	"confusing": {
		"کسی نمی‌دانست باید به کدام اتاق بروم.",
		"مراحل کار نه روی تابلو نوشته شده بود نه در سایت.",
	},
	"documents": {
		"مدارکی خواستند که قبلاً تحویل داده بودم.",
		"برای یک امضا سه بار مراجعه کردم.",
	},
	"other": {
		"سامانه قطع بود و گفتند فردا بیایید.",
		"فضای انتظار گرم بود و جای نشستن نداشت.",
	},
}

var generalComments = []string{
	"کارم انجام نشد و کسی هم توضیح نداد چرا.",
	"لطفاً ساعت کاری را بیشتر کنید.",
}

func comment(rng *rand.Rand, reasons []string) string {
	pool := generalComments
	if len(reasons) > 0 {
		if c, ok := comments[reasons[rng.Intn(len(reasons))]]; ok {
			pool = c
		}
	}
	return pool[rng.Intn(len(pool))]
}

// source names the device or link a response came through, as intake would record it.
func source(rng *rand.Rand, ch survey.Channel, t *target, officeIdx int) string {
	handle := t.agency.Slug
	if handle == "" {
		handle = t.agency.ID.String()
	}
	switch ch {
	case survey.ChannelKiosk:
		return fmt.Sprintf("kiosk-%s-%d", handle, officeIdx+1)
	case survey.ChannelWeb:
		if rng.Float64() < 0.7 {
			return "qr-poster"
		}
		return "web-link"
	}
	return "sms-invite"
}

// Weekly rhythm in Tehran: Saturday is the busiest day, Thursday is half a day in most offices,
// Friday is the weekend. Indexed by time.Weekday (Sunday = 0).
var dayWeights = [7]float64{
	time.Sunday: 1.1, time.Monday: 1.05, time.Tuesday: 1.0, time.Wednesday: 0.95,
	time.Thursday: 0.4, time.Friday: 0.02, time.Saturday: 1.15,
}

// Office hours 8:00–14:00 with the mid-morning peak; Thursdays close at 12:00.
var hourWeights = []float64{1.0, 1.6, 1.8, 1.6, 1.2, 0.8} // 8, 9, 10, 11, 12, 13 o'clock

// dayWeightsFrom weighs each of days Tehran days from first by its weekday (dayWeights), once
// per period rather than once per response: a national seed spans 730 days.
func dayWeightsFrom(first time.Time, days int) []float64 {
	dw := make([]float64, days)
	for i := range dw {
		dw[i] = dayWeights[first.AddDate(0, 0, i).Weekday()]
	}
	return dw
}

// when picks the moment a citizen answered: a visit during office hours on a working day of the
// period (dw weighs its days, from first), and for web and SMS a while after the visit.
func when(rng *rand.Rand, ch survey.Channel, now, first time.Time, dw []float64) time.Time {
	for attempt := 0; attempt < 64; attempt++ {
		day := first.AddDate(0, 0, pick(rng, dw))
		hours := hourWeights
		if day.Weekday() == time.Thursday {
			hours = hourWeights[:4]
		}
		h := 8 + pick(rng, hours)
		at := time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, survey.Tehran).
			Add(time.Duration(rng.Int63n(int64(time.Hour))))
		switch ch {
		case survey.ChannelWeb:
			if rng.Float64() < 0.25 {
				// answered at home in the evening from the QR poster's link
				at = time.Date(day.Year(), day.Month(), day.Day(), 17, 0, 0, 0, survey.Tehran).
					Add(time.Duration(rng.Int63n(int64(5 * time.Hour))))
			} else {
				at = at.Add(time.Duration(rng.Int63n(int64(90 * time.Minute))))
			}
		case survey.ChannelSMS:
			// the invitation goes out after the visit; the reply comes within a few hours
			at = at.Add(10*time.Minute + time.Duration(rng.Int63n(int64(3*time.Hour))))
		}
		at = at.UTC().Truncate(time.Millisecond)
		if !at.After(now) {
			return at
		}
	}
	// The period is only today and its office hours have not begun: answer just now.
	return now.Add(-time.Duration(rng.Int63n(int64(time.Hour)))).Truncate(time.Millisecond)
}

// delay is how long a response takes from the citizen to the server: seconds online, hours for
// a kiosk that lost its network and synced later.
func delay(rng *rand.Rand, ch survey.Channel) time.Duration {
	if ch == survey.ChannelKiosk && rng.Float64() < 0.05 {
		return 10*time.Minute + time.Duration(rng.Int63n(int64(6*time.Hour)))
	}
	return time.Second + time.Duration(rng.Int63n(int64(5*time.Second)))
}

// uuidV7 makes a version 7 UUID whose timestamp is t (so ids sort like submissions) and whose
// random bits come from rng (so a seed reproduces the ids).
func uuidV7(t time.Time, rng *rand.Rand) string {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	binary.BigEndian.PutUint16(u[6:8], uint16(rng.Uint32()))
	binary.BigEndian.PutUint64(u[8:], rng.Uint64())
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.String()
}

// pick returns an index with probability proportional to its weight.
func pick(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	for i := len(weights) - 1; i >= 0; i-- {
		if weights[i] > 0 {
			return i
		}
	}
	return 0
}
