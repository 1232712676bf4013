package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/afkar-gov/afkar/survey"
)

// exportResponsesSQL reads one agency's raw responses for an export.
var exportResponsesSQL = query("export_responses")

// EachResponse calls fn with each raw response of f.AgencyID (and f.OfficeID when set) whose
// Tehran day is within f.FromDay…f.ToDay, flagged ones included (Flag says so), ordered by day,
// submission time and id. Rows are read one at a time from the open cursor and fn sees each
// before the next is read, so an export of a million responses holds one in memory; the
// Response passed to fn is fn's to keep. An error from fn stops the read and is returned as is.
//
// AgencyID must be set: exports are per agency and callers check the principal first.
func (s *Store) EachResponse(ctx context.Context, f survey.RollupFilter, fn func(*survey.Response) error) (err error) {
	if f.AgencyID == 0 {
		return survey.Errorf(survey.ECodeInvalid, "دستگاه مشخص نشده است.", "an export needs an agency")
	}
	rows, err := s.read(ctx).Raw(exportResponsesSQL, filterArgs(f)...).Rows()
	if err != nil {
		return s.dbError(err)
	}
	defer closeRows(rows, &err)
	var (
		agency, office, sid, device int64
		channel, answers, flag      string
	)
	for rows.Next() {
		r := &survey.Response{}
		if err := rows.Scan(&r.ID, &agency, &office, &sid, &r.SurveyVersion, &channel, &r.Source,
			&r.SubmittedAt, &r.ReceivedAt, &answers, &flag, &device); err != nil {
			return s.dbError(err)
		}
		r.AgencyID, r.OfficeID, r.SurveyID, r.Channel = survey.ID(agency), survey.ID(office), survey.ID(sid), survey.Channel(channel)
		r.DeviceID, r.Flag = survey.ID(device), survey.Flag(flag)
		r.SubmittedAt, r.ReceivedAt = r.SubmittedAt.UTC(), r.ReceivedAt.UTC()
		if err := json.Unmarshal([]byte(answers), &r.Answers); err != nil {
			return survey.Wrap(survey.ECodeInternal, err, "پاسخ ذخیره‌شده خوانا نیست.", "stored response "+r.ID+": answers")
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.dbError(err)
	}
	return nil
}
