package export

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
)

// Catalog is what exports need from the catalog: the agency (for the file name), its offices
// (names) and every published version of its surveys (question titles and option labels).
type Catalog interface {
	Agency(ctx context.Context, id survey.ID) (survey.Agency, error)
	Offices(ctx context.Context, agencyID survey.ID) ([]survey.Office, error)
	Surveys(ctx context.Context, agencyID survey.ID) ([]survey.Survey, error)
	Version(ctx context.Context, surveyID survey.ID, version int) (survey.Version, error)
}

// ResponseSource streams raw responses (sqlstore.Store.EachResponse).
type ResponseSource interface {
	EachResponse(ctx context.Context, f survey.RollupFilter, fn func(*survey.Response) error) error
}

// ScoreSource computes a score (analytics.Scores), tenancy included.
type ScoreSource interface {
	Score(ctx context.Context, p survey.Principal, agencyID survey.ID, q analytics.ScoreQuery) (analytics.Score, error)
}

// Service prepares exports: it checks tenancy and the period before a byte is written, so a
// refusal is an ordinary error response and never half a file.
type Service struct {
	catalog   Catalog
	responses ResponseSource
	scores    ScoreSource
	// Clock decides "today" when a period has no end; nil means the wall clock.
	Clock survey.Clock
}

// NewService returns a Service over the given catalog, raw responses and scores.
func NewService(catalog Catalog, responses ResponseSource, scores ScoreSource) *Service {
	return &Service{catalog: catalog, responses: responses, scores: scores}
}

// ResponseExport is a prepared response export: the caller may read it, the period is valid.
type ResponseExport struct {
	s      *Service
	agency survey.Agency
	filter survey.RollupFilter
	table  *Responses
	name   string
}

// Responses prepares the export of agency agencyID's raw responses for the Tehran days from…to
// (ParseDay forms; from empty for since the beginning, to empty for today). A principal that
// may not read the agency, and an agency that does not exist, get the same not-found error.
func (s *Service) Responses(ctx context.Context, p survey.Principal, agencyID survey.ID, from, to string) (*ResponseExport, error) {
	agency, err := s.agency(ctx, p, agencyID)
	if err != nil {
		return nil, err
	}
	f := survey.RollupFilter{AgencyID: agencyID}
	fromJ, toJ, err := s.period(from, to, &f)
	if err != nil {
		return nil, err
	}
	offices, err := s.catalog.Offices(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	surveys, err := s.catalog.Surveys(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	var versions []survey.Version
	for _, sv := range surveys {
		for n := 1; n <= sv.ActiveVersion; n++ {
			v, err := s.catalog.Version(ctx, sv.ID, n)
			if survey.ErrorCode(err) == survey.ECodeNotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			versions = append(versions, v)
		}
	}
	return &ResponseExport{s: s, agency: agency, filter: f, table: NewResponses(versions, offices),
		name: FileName(agency, "responses", fromJ, toJ)}, nil
}

// FileName is the export's file name without extension, ASCII only.
func (e *ResponseExport) FileName() string { return e.name }

// WriteTo writes the header and every response to sh, then closes it.
func (e *ResponseExport) WriteTo(ctx context.Context, sh Sheet) error {
	if err := sh.Header(e.table.Columns()); err != nil {
		return err
	}
	if err := e.s.responses.EachResponse(ctx, e.filter, func(r *survey.Response) error {
		return sh.Row(e.table.Row(r))
	}); err != nil {
		return err
	}
	return sh.Close()
}

// ScoreExport is a computed score table, ready to write.
type ScoreExport struct {
	Score analytics.Score
	name  string
}

// Score computes agency agencyID's score for the period (as the score route reads from and
// to) and prepares its table.
func (s *Service) Score(ctx context.Context, p survey.Principal, agencyID survey.ID, from, to string) (*ScoreExport, error) {
	agency, err := s.agency(ctx, p, agencyID)
	if err != nil {
		return nil, err
	}
	sc, err := s.scores.Score(ctx, p, agencyID, analytics.ScoreQuery{From: from, To: to})
	if err != nil {
		return nil, err
	}
	fromJ := ""
	if sc.FromJalali != nil {
		fromJ = *sc.FromJalali
	}
	return &ScoreExport{Score: sc, name: FileName(agency, "score", fromJ, sc.ToJalali)}, nil
}

// FileName is the export's file name without extension, ASCII only.
func (e *ScoreExport) FileName() string { return e.name }

// WriteTo writes the score table to sh, then closes it.
func (e *ScoreExport) WriteTo(sh Sheet) error {
	if err := sh.Header(scoreColumns); err != nil {
		return err
	}
	for _, r := range ScoreRows(e.Score) {
		if err := sh.Row(r); err != nil {
			return err
		}
	}
	return sh.Close()
}

func (s *Service) agency(ctx context.Context, p survey.Principal, id survey.ID) (survey.Agency, error) {
	if !p.CanReadAgency(id) {
		return survey.Agency{}, survey.ErrForbiddenAgency()
	}
	a, err := s.catalog.Agency(ctx, id)
	if survey.ErrorCode(err) == survey.ECodeNotFound {
		return survey.Agency{}, survey.ErrForbiddenAgency()
	}
	return a, err
}

// period reads from and to as the score does and sets f's days; it returns the Jalali forms.
func (s *Service) period(from, to string, f *survey.RollupFilter) (fromJ, toJ string, err error) {
	var fromDay, toDay time.Time
	if from != "" {
		if fromDay, err = analytics.ParseDayParam(from, "from"); err != nil {
			return "", "", err
		}
		f.FromDay, fromJ = fromDay.Format(survey.DayFormat), analytics.FormatJalali(fromDay)
	}
	if to != "" {
		if toDay, err = analytics.ParseDayParam(to, "to"); err != nil {
			return "", "", err
		}
	} else {
		now := time.Now()
		if s.Clock != nil {
			now = s.Clock.Now()
		}
		toDay = survey.TehranDay(now)
	}
	if from != "" && fromDay.After(toDay) {
		return "", "", &survey.Error{Code: survey.ECodeInvalid,
			Message: "from is after to", MessageFA: "تاریخ آغاز پس از تاریخ پایان است.",
			Fields: map[string]survey.FieldError{"from": {Code: "after_to",
				Message: "from must not be after to", MessageFA: "تاریخ آغاز نباید پس از تاریخ پایان باشد."}}}
	}
	f.ToDay, toJ = toDay.Format(survey.DayFormat), analytics.FormatJalali(toDay)
	return fromJ, toJ, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// FileName names an export file: agency slug (or "agency-ID"), kind, and the Jalali period,
// ASCII only so that every browser and mail client keeps it, e.g.
// "tax_responses_1404-08-01_1404-08-30". An open start reads "start".
func FileName(a survey.Agency, kind, fromJalali, toJalali string) string {
	slug := strings.Trim(unsafeName.ReplaceAllString(a.Slug, "-"), "-")
	if slug == "" {
		slug = fmt.Sprintf("agency-%d", a.ID)
	}
	if fromJalali == "" {
		fromJalali = "start"
	}
	return slug + "_" + kind + "_" + fromJalali + "_" + toJalali
}
