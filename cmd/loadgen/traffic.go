package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// idPlaceholder is the id every prepared body carries until a worker writes a fresh one over it.
const idPlaceholder = "00000000-0000-7000-8000-000000000000"

// traffic is what a pass sends: prepared requests in the demo's mix, and the quiet agencies the
// visibility probes answer.
type traffic struct {
	reqs   []prepared
	probes []probeTarget
	mix    string // one line describing the mix, printed with the figures
}

// prepared is one complete HTTP/1.1 request; the 36-character id at idAt is rewritten per send.
type prepared struct {
	buf  []byte
	idAt int
}

// probeTarget is an agency that only the probes answer, so its score counts only them.
type probeTarget struct {
	agency, office survey.ID
	body           survey.Submission
}

// prepareTraffic reads the seeded catalog, adds one quiet agency per prober, creates the
// integration tokens kiosks and SMS gateways use, and turns pool demo submissions into requests.
// It returns the number of responses already stored (the demo seed), so the accounting after the
// run compares new rows with acknowledged submissions.
func prepareTraffic(ctx context.Context, o *options, env []string, dbURL string) (*traffic, counts, error) {
	store, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return nil, counts{}, err
	}
	defer store.Close()
	agencies, err := store.Agencies(ctx, survey.Principal{Role: survey.RoleProvinceAdmin})
	if err != nil {
		return nil, counts{}, err
	}
	if len(agencies) == 0 {
		return nil, counts{}, errors.New("the demo seed created no agency")
	}
	now := time.Now()
	subs, err := demo.Submissions(ctx, store, agencies, o.pool, now, o.days, rand.New(rand.NewSource(1)))
	if err != nil {
		return nil, counts{}, err
	}

	provinces, err := store.Provinces(ctx)
	if err != nil || len(provinces) == 0 {
		return nil, counts{}, fmt.Errorf("provinces: %v", err)
	}
	t := &traffic{}
	for i := 0; i < o.probers; i++ {
		pt, err := createProbeAgency(ctx, store, provinces[0].ID, i, now)
		if err != nil {
			return nil, counts{}, err
		}
		t.probes = append(t.probes, pt)
	}
	before, err := count(ctx, store)
	if err != nil {
		return nil, counts{}, err
	}

	tokens, err := integrationTokens(o.server, env, agencies)
	if err != nil {
		return nil, counts{}, err
	}
	for _, s := range subs {
		s.ID = idPlaceholder
		auth := ""
		if s.Channel != survey.ChannelWeb {
			// Kiosks and SMS gateways call with their agency's integration token; citizens on
			// the web form are anonymous. The body keeps its channel: the origin contract accepts
			// a channel that matches the token's, and today's server takes it from the body.
			auth = tokens[tokenKey{s.AgencyID, s.Channel}]
		}
		t.reqs = append(t.reqs, prepare(s, auth))
	}
	t.mix = describeMix(subs, len(agencies))
	return t, before, nil
}

// createProbeAgency adds an agency with one office and the demo survey that no load reaches.
func createProbeAgency(ctx context.Context, store *sqlstore.Store, province survey.ID, i int, now time.Time) (probeTarget, error) {
	a := survey.Agency{ProvinceID: province, Name: fmt.Sprintf("bench probe %d", i+1), Slug: fmt.Sprintf("bench-probe-%d", i+1)}
	if err := store.CreateAgency(ctx, &a); err != nil {
		return probeTarget{}, fmt.Errorf("probe agency: %w", err)
	}
	off := survey.Office{AgencyID: a.ID, Name: "probe office"}
	if err := store.CreateOffice(ctx, &off); err != nil {
		return probeTarget{}, fmt.Errorf("probe office: %w", err)
	}
	sv := survey.Survey{AgencyID: a.ID, Title: demo.SurveyTitle}
	if err := store.CreateSurvey(ctx, &sv); err != nil {
		return probeTarget{}, fmt.Errorf("probe survey: %w", err)
	}
	v := survey.Version{SurveyID: sv.ID, AgencyID: a.ID, Title: demo.SurveyTitle, Questions: demo.Questions(), PublishedAt: now.Add(-24 * time.Hour)}
	if err := store.PublishVersion(ctx, &v); err != nil {
		return probeTarget{}, fmt.Errorf("probe survey: %w", err)
	}
	body := survey.Submission{AgencyID: a.ID, OfficeID: off.ID, SurveyID: sv.ID, SurveyVersion: v.Version, Channel: survey.ChannelWeb}
	for q, n := range map[string]int{demo.QOverall: 4, demo.QRespect: 5, demo.QSpeed: 3, demo.QClarity: 4} {
		body.Answers = append(body.Answers, survey.SubmittedAnswer{QuestionID: q, Value: json.RawMessage(fmt.Sprint(n))})
	}
	sort.Slice(body.Answers, func(i, j int) bool { return body.Answers[i].QuestionID < body.Answers[j].QuestionID })
	return probeTarget{agency: a.ID, office: off.ID, body: body}, nil
}

type tokenKey struct {
	agency  survey.ID
	channel survey.Channel
}

// integrationTokens creates one integration token per agency for each non-web channel with
// `afkar token`, as an operator would for a fleet of kiosks or an SMS gateway.
func integrationTokens(bin string, env []string, agencies []survey.Agency) (map[tokenKey]string, error) {
	tokens := map[tokenKey]string{}
	for _, a := range agencies {
		for _, ch := range []survey.Channel{survey.ChannelKiosk, survey.ChannelSMS} {
			args := []string{"token", "--role", "integration", "--agency", a.ID.String(), "--channel", string(ch), "--name", fmt.Sprintf("bench %s %s", ch, a.Slug)}
			out, err := afkarCmd(bin, env, args...)
			if err != nil {
				return nil, err
			}
			lines := strings.Fields(strings.TrimSpace(out))
			if len(lines) == 0 {
				return nil, fmt.Errorf("afkar token printed nothing")
			}
			tokens[tokenKey{a.ID, ch}] = lines[len(lines)-1]
		}
	}
	return tokens, nil
}

// prepare builds the HTTP/1.1 request for s, with an Authorization header when auth is set.
func prepare(s survey.Submission, auth string) prepared {
	body, err := json.Marshal(s)
	if err != nil {
		panic(err) // a Submission always marshals
	}
	var b strings.Builder
	b.WriteString("POST /api/v1/responses HTTP/1.1\r\nHost: afkar\r\nContent-Type: application/json\r\n")
	if auth != "" {
		b.WriteString("Authorization: Bearer " + auth + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	head := b.Len()
	b.Write(body)
	buf := []byte(b.String())
	at := strings.Index(string(body), `"id":"`+idPlaceholder)
	if at < 0 {
		panic("prepared body has no id placeholder")
	}
	return prepared{buf: buf, idAt: head + at + len(`"id":"`)}
}

// describeMix summarises the pool: what the traffic holds, so a reader can judge it.
func describeMix(subs []survey.Submission, agencies int) string {
	ch := map[survey.Channel]int{}
	offices := map[survey.ID]bool{}
	conditional, texts := 0, 0
	days := map[string]bool{}
	for _, s := range subs {
		ch[s.Channel]++
		offices[s.OfficeID] = true
		if s.SubmittedAt != nil {
			days[survey.TehranDay(*s.SubmittedAt).Format(survey.DayFormat)] = true
		}
		for _, a := range s.Answers {
			switch a.QuestionID {
			case demo.QReasons:
				conditional++
			case demo.QComment:
				texts++
			}
		}
	}
	pct := func(n int) float64 { return 100 * float64(n) / float64(len(subs)) }
	m := fmt.Sprintf("%d demo submissions cycled: %d agencies, %d offices, %d day(s); kiosk %.0f%% and sms %.0f%% by integration token, web %.0f%% anonymous; %.0f%% answer the conditional «why» choice, %.0f%% write a comment",
		len(subs), agencies, len(offices), len(days), pct(ch[survey.ChannelKiosk]), pct(ch[survey.ChannelSMS]), pct(ch[survey.ChannelWeb]), pct(conditional), pct(texts))
	return m
}

// counts are the store's totals: raw rows and the responses the rollups count.
type counts struct{ stored, counted int64 }

func count(ctx context.Context, store *sqlstore.Store) (counts, error) {
	n, err := store.ResponseCount(ctx, 0)
	if err != nil {
		return counts{}, err
	}
	tot, err := store.RollupTotals(ctx, survey.RollupFilter{})
	if err != nil {
		return counts{}, err
	}
	c := counts{stored: n}
	for _, t := range tot {
		if t.QuestionID == survey.ResponseQuestion {
			c.counted += t.N
		}
	}
	return c, nil
}

// countStore opens the database after the server stopped and counts.
func countStore(ctx context.Context, dbURL string) (counts, error) {
	store, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return counts{}, err
	}
	defer store.Close()
	return count(ctx, store)
}
