package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// The score over HTTP, on the real store and scores service, both dialects: flagged responses
// are left out of every figure and counted apart in "flagged"; office_id restricts every figure
// to one office; an office that is not the agency's is 404 like an unknown one.
func TestScoreFlaggedAndOffice(t *testing.T) {
	t.Parallel()
	onEachDialect(t, testScoreFlaggedAndOffice)
}

func testScoreFlaggedAndOffice(t *testing.T, store *sqlstore.Store) {
	ctx := context.Background()
	f := seedStore(t, store)
	north := survey.Office{AgencyID: f.tax.ID, Name: "شعبه شمال"}
	foreign := survey.Office{AgencyID: f.registry.ID, Name: "دفتر ثبت"}
	for _, o := range []*survey.Office{&north, &foreign} {
		if err := store.CreateOffice(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	mk := func(office survey.ID, rating int, flag survey.Flag) survey.Response {
		r := survey.Response{ID: uuid.NewString(), AgencyID: f.tax.ID, OfficeID: office, SurveyID: f.version.SurveyID,
			SurveyVersion: f.version.Version, Channel: survey.ChannelKiosk, SubmittedAt: now, ReceivedAt: now,
			Answers: []survey.Answer{{QuestionID: "q1", Type: survey.TypeRating5, Number: &rating, Headline: true}}}
		if flag != "" {
			r.Flag, r.DeviceID = flag, 4
		}
		return r
	}
	rs := []survey.Response{
		mk(f.office.ID, 5, ""), mk(f.office.ID, 4, ""), mk(f.office.ID, 3, ""),
		mk(f.office.ID, 1, survey.FlagBurst), mk(f.office.ID, 1, survey.FlagInterval),
		mk(north.ID, 2, ""), mk(north.ID, 1, survey.FlagAfterHours),
	}
	if _, err := store.Fold(ctx, rs, analytics.Delta); err != nil {
		t.Fatal(err)
	}
	h := start(t, api.Deps{Catalog: store, Auth: store, Scores: analytics.NewScores(store, store)})
	score := func(agency survey.ID, query string) string {
		return fmt.Sprintf("/api/v1/agencies/%d/score%s", agency, query)
	}
	type flagged struct {
		Total      int64 `json:"total"`
		Interval   int64 `json:"interval"`
		Burst      int64 `json:"burst"`
		AfterHours int64 `json:"after_hours"`
	}
	var sc struct {
		OfficeID  survey.ID `json:"office_id"`
		Responses int64     `json:"responses"`
		Citizens  int64     `json:"citizens"`
		Mean      *float64  `json:"mean"`
		Flagged   *flagged  `json:"flagged"`
	}
	for _, c := range []struct {
		query     string
		office    survey.ID
		responses int64
		mean      float64
		flagged   flagged
	}{
		{"", 0, 4, 3.5, flagged{Total: 3, Interval: 1, Burst: 1, AfterHours: 1}},
		{"?office_id=" + f.office.ID.String(), f.office.ID, 3, 4, flagged{Total: 2, Interval: 1, Burst: 1}},
		{"?office_id=" + url.QueryEscape(persianDigits(north.ID.String())), north.ID, 1, 2, flagged{Total: 1, AfterHours: 1}},
	} {
		sc.Flagged, sc.OfficeID = nil, 0
		r := h.get(t, score(f.tax.ID, c.query), f.taxStaff).wantStatus(t, http.StatusOK)
		r.json(t, &sc)
		if sc.Responses != c.responses || sc.Citizens != c.responses || sc.Mean == nil || *sc.Mean != c.mean ||
			sc.Flagged == nil || *sc.Flagged != c.flagged || sc.OfficeID != c.office {
			t.Errorf("score%s: %s; want %d responses, mean %v, flagged %+v, office %d", c.query, r.body, c.responses, c.mean, c.flagged, c.office)
		}
	}

	// No flagged responses: every key is still there, 0.
	r := h.get(t, score(f.registry.ID, "?office_id="+foreign.ID.String()), f.province).wantStatus(t, http.StatusOK)
	if !strings.Contains(string(r.body), `"flagged":{"total":0,"interval":0,"burst":0,"after_hours":0}`) {
		t.Errorf("registry score: %s", r.body)
	}

	// Another agency's office, an unknown office and a non-id are one and the same 404.
	var first string
	for _, office := range []string{foreign.ID.String(), "987654", "abc", "0"} {
		e := h.get(t, score(f.tax.ID, "?office_id="+office), f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
		if e.Error.Fields["office_id"].Code != "not_found" {
			t.Errorf("office_id=%s: fields %+v", office, e.Error.Fields)
		}
		if first == "" {
			first = e.Error.Message + e.Error.MessageFA
		} else if e.Error.Message+e.Error.MessageFA != first {
			t.Errorf("office_id=%s answers differently from another agency's office", office)
		}
	}
	// Tenancy first: the registry's own office does not open the registry to tax staff.
	e := h.get(t, score(f.registry.ID, "?office_id="+foreign.ID.String()), f.taxStaff).envelope(t, http.StatusNotFound, "not_found")
	if _, ok := e.Error.Fields["office_id"]; ok {
		t.Errorf("a foreign agency answered about its office: %+v", e.Error)
	}
}

// persianDigits writes ASCII digits as Persian ones, as a Persian keyboard does.
func persianDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '۰' + (r - '0')
		}
		return r
	}, s)
}
