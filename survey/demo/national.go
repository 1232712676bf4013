package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
)

// National defaults: the whole country at the grain a national rollout would have — 31
// provinces, about 16 agencies each (≈ 500), two years of traffic.
const (
	DefaultProvinces           = 31
	DefaultAgenciesPerProvince = 16
	DefaultNationalDays        = 730
)

// provinceNames are Iran's 31 provinces, in the order the national seed creates them.
var provinceNames = []string{
	"استان تهران", "استان البرز", "استان اصفهان", "استان فارس", "استان خراسان رضوی",
	"استان آذربایجان شرقی", "استان آذربایجان غربی", "استان خوزستان", "استان مازندران", "استان گیلان",
	"استان کرمان", "استان سیستان و بلوچستان", "استان کرمانشاه", "استان همدان", "استان یزد",
	"استان قم", "استان قزوین", "استان مرکزی", "استان اردبیل", "استان زنجان",
	"استان گلستان", "استان هرمزگان", "استان بوشهر", "استان کردستان", "استان لرستان",
	"استان سمنان", "استان چهارمحال و بختیاری", "استان کهگیلویه و بویراحمد", "استان ایلام",
	"استان خراسان شمالی", "استان خراسان جنوبی",
}

// nationalKinds are the kinds of agency every province has: the seven of the demo province
// and nine more, each with its own quality, volume and complaints. A province's agency of a
// kind is named after the kind, and its slug is "<kind>-<province number>".
var nationalKinds = append(append([]profile(nil), agencies...), []profile{
	{slug: "health-insurance", name: "اداره کل بیمه سلامت", quality: 3.5, volume: 1.1,
		reasons: map[string]float64{"waiting": 3, "behaviour": 1, "confusing": 2, "documents": 3, "other": 1}},
	{slug: "passport", name: "اداره گذرنامه", quality: 3.7, volume: 0.8,
		reasons: map[string]float64{"waiting": 4, "behaviour": 1, "confusing": 1, "documents": 2, "other": 1}},
	{slug: "education", name: "اداره کل آموزش و پرورش", quality: 3.3, volume: 0.7,
		reasons: map[string]float64{"waiting": 1, "behaviour": 2, "confusing": 3, "documents": 2, "other": 1}},
	{slug: "post", name: "اداره کل پست", quality: 3.95, volume: 0.9, trend: 0.2,
		reasons: map[string]float64{"waiting": 3, "behaviour": 1, "confusing": 1, "documents": 1, "other": 2}},
	{slug: "electricity", name: "شرکت توزیع نیروی برق", quality: 3.6, volume: 1.0,
		reasons: map[string]float64{"waiting": 2, "behaviour": 1, "confusing": 2, "documents": 1, "other": 3}},
	{slug: "gas", name: "شرکت گاز استان", quality: 3.8, volume: 0.8,
		reasons: map[string]float64{"waiting": 2, "behaviour": 1, "confusing": 2, "documents": 1, "other": 2}},
	{slug: "civil-registry", name: "اداره کل ثبت احوال", quality: 3.55, volume: 1.2,
		reasons: map[string]float64{"waiting": 4, "behaviour": 1, "confusing": 2, "documents": 3, "other": 1}},
	{slug: "land-affairs", name: "اداره کل امور اراضی", quality: 2.9, volume: 0.4, trend: -0.2,
		reasons: map[string]float64{"waiting": 2, "behaviour": 2, "confusing": 3, "documents": 4, "other": 1}},
	{slug: "justice", name: "اداره کل دادگستری", quality: 3.0, volume: 1.3,
		reasons: map[string]float64{"waiting": 4, "behaviour": 2, "confusing": 3, "documents": 2, "other": 1}},
}...)

// officeWords name a national agency's offices: a head office, then numbered branches.
var officeWords = []string{"ساختمان مرکزی", "شعبه ۱", "شعبه ۲", "شعبه ۳", "شعبه ۴"}

// NationalOptions tune National. Zero values mean the defaults.
type NationalOptions struct {
	Provinces           int       // 0: DefaultProvinces (at most 31)
	AgenciesPerProvince int       // 0: DefaultAgenciesPerProvince (at most len(nationalKinds))
	Days                int       // 0: DefaultNationalDays; the survey is published that long ago
	Now                 time.Time // zero: time.Now()
}

func (o NationalOptions) withDefaults() NationalOptions {
	if o.Provinces <= 0 {
		o.Provinces = DefaultProvinces
	}
	o.Provinces = min(o.Provinces, len(provinceNames))
	if o.AgenciesPerProvince <= 0 {
		o.AgenciesPerProvince = DefaultAgenciesPerProvince
	}
	o.AgenciesPerProvince = min(o.AgenciesPerProvince, len(nationalKinds))
	if o.Days <= 0 {
		o.Days = DefaultNationalDays
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}

// National creates a country's catalog in cat: opts.Provinces provinces, opts.AgenciesPerProvince
// agencies in each (one of each kind), 2–5 offices per agency (a stable number per kind and
// province), and the demo survey published opts.Days ago for every agency. It returns the
// agencies in creation order; responses come from Generators. Like Seed it does not check that
// cat is empty, and agency slugs must be free.
func National(ctx context.Context, cat survey.Catalog, opts NationalOptions) ([]survey.Agency, error) {
	opts = opts.withDefaults()
	publishedAt := survey.TehranDay(opts.Now).AddDate(0, 0, -opts.Days)
	var out []survey.Agency
	for pi := 0; pi < opts.Provinces; pi++ {
		prov := survey.Province{Name: provinceNames[pi]}
		if err := cat.CreateProvince(ctx, &prov); err != nil {
			return nil, fmt.Errorf("demo: create province: %w", err)
		}
		for ki := 0; ki < opts.AgenciesPerProvince; ki++ {
			k := nationalKinds[ki]
			a := survey.Agency{ProvinceID: prov.ID, Name: k.name, Slug: fmt.Sprintf("%s-%02d", k.slug, pi+1)}
			if err := cat.CreateAgency(ctx, &a); err != nil {
				return nil, fmt.Errorf("demo: create agency %s: %w", a.Slug, err)
			}
			for oi := 0; oi < 2+int(stableHash(a.Slug)%4); oi++ {
				o := survey.Office{AgencyID: a.ID, Name: officeWords[oi]}
				if err := cat.CreateOffice(ctx, &o); err != nil {
					return nil, fmt.Errorf("demo: create office of %s: %w", a.Slug, err)
				}
			}
			s := survey.Survey{AgencyID: a.ID, Title: SurveyTitle}
			if err := cat.CreateSurvey(ctx, &s); err != nil {
				return nil, fmt.Errorf("demo: create survey of %s: %w", a.Slug, err)
			}
			v := survey.Version{SurveyID: s.ID, AgencyID: a.ID, Title: SurveyTitle, Questions: Questions(), SMS: SMS(), PublishedAt: publishedAt}
			if err := cat.PublishVersion(ctx, &v); err != nil {
				return nil, fmt.Errorf("demo: publish survey of %s: %w", a.Slug, err)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func stableHash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// nationalProfile is the profile of a national agency ("<kind>-<NN>"): its kind's, with the
// quality moved by up to ±0.35 and the volume scaled by 0.6–1.4 by a stable hash of the
// province, so that provinces differ as they do in life. ok is false for other slugs.
func nationalProfile(slug string) (profile, bool) {
	i := strings.LastIndexByte(slug, '-')
	if i < 0 {
		return profile{}, false
	}
	if _, err := strconv.Atoi(slug[i+1:]); err != nil {
		return profile{}, false
	}
	for _, k := range nationalKinds {
		if k.slug == slug[:i] {
			x := float64(stableHash(slug)%1000) / 1000
			k.slug = slug
			k.quality += 0.7*x - 0.35
			k.volume *= 0.6 + 0.8*float64(stableHash(slug[i+1:]+"/volume")%1000)/1000
			return k, true
		}
	}
	return profile{}, false
}

// Generator makes synthetic responses for one agency over one period, one at a time, with the
// same distributions as Seed and Responses (channel mix, office weights, weekly and daily
// rhythm, quality and trend). A bulk seeder runs one per agency, so that an agency's responses
// — and so its rollup cells — are made and written together. Not safe for concurrent use of
// one rng; distinct Generators are independent.
type Generator struct {
	t          target
	now, first time.Time
	days       int
	dw         []float64
}

// Generators returns a Generator for each of as that has a published survey, for the days Tehran
// days ending at now.
func Generators(ctx context.Context, cat survey.Catalog, as []survey.Agency, now time.Time, days int) ([]*Generator, error) {
	if days <= 0 {
		days = DefaultDays
	}
	ts, err := loadTargets(ctx, cat, as)
	if err != nil {
		return nil, err
	}
	now = now.UTC()
	first := survey.TehranDay(now).AddDate(0, 0, -(days - 1))
	dw := dayWeightsFrom(first, days)
	out := make([]*Generator, len(ts))
	for i := range ts {
		out[i] = &Generator{t: ts[i], now: now, first: first, days: days, dw: dw}
	}
	return out, nil
}

// Agency is the agency g makes responses for.
func (g *Generator) Agency() survey.Agency { return g.t.agency }

// Volume is the agency's relative traffic: split a total across generators in proportion to it.
func (g *Generator) Volume() float64 { return g.t.profile.volume }

// Response makes one response, validated as intake would validate it.
func (g *Generator) Response(rng *rand.Rand) (survey.Response, error) {
	_, r, err := g.t.response(rng, g.now, g.first, g.days, g.dw)
	return r, err
}

// Split divides n responses across generators in proportion to their volumes (largest
// remainders), so the counts add up to n exactly.
func Split(n int, gs []*Generator) []int {
	total := 0.0
	for _, g := range gs {
		total += g.Volume()
	}
	counts := make([]int, len(gs))
	if total <= 0 || n <= 0 {
		return counts
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(gs))
	left := n
	for i, g := range gs {
		x := float64(n) * g.Volume() / total
		counts[i] = int(x)
		left -= counts[i]
		rems[i] = rem{i, x - float64(counts[i])}
	}
	for k := 0; left > 0; k++ {
		best := k % len(rems)
		for j := range rems {
			if rems[j].r > rems[best].r {
				best = j
			}
		}
		counts[rems[best].i]++
		rems[best].r = -1
		left--
	}
	return counts
}
