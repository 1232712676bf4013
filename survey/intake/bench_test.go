package intake_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/intake"
)

// benchCatalog serves one version of the shape the load generator answers: three ratings.
type benchCatalog struct{ v survey.Version }

func (c benchCatalog) Version(context.Context, survey.ID, int) (survey.Version, error) {
	return c.v, nil
}
func (c benchCatalog) Offices(context.Context, survey.ID) ([]survey.Office, error) {
	return []survey.Office{{ID: 5, AgencyID: 1}}, nil
}

// discard is a buffer that stores nothing, so the benchmark measures intake's own work.
type discard struct{}

func (discard) Append(context.Context, []survey.Response) error { return nil }

// BenchmarkSubmit is intake's hot path without I/O: origin and scope checks, validation with
// the string checks and the content hash, the recent-id memory, and the group commit queue.
// Compare the server-id and client-id cases for the cost of the resend check.
func BenchmarkSubmit(b *testing.B) {
	v := survey.Version{SurveyID: 1, AgencyID: 1, Version: 1, Questions: []survey.Question{
		{ID: "overall", Type: survey.TypeRating5, Required: true},
		{ID: "respect", Type: survey.TypeRating5},
		{ID: "speed", Type: survey.TypeRating5},
	}}
	answers := []survey.SubmittedAnswer{
		{QuestionID: "overall", Value: json.RawMessage("4")},
		{QuestionID: "respect", Value: json.RawMessage("5")},
		{QuestionID: "speed", Value: json.RawMessage("3")},
	}
	for _, clientIDs := range []bool{false, true} {
		name := "server-id"
		if clientIDs {
			name = "client-id"
		}
		b.Run(name, func(b *testing.B) {
			in := intake.New(benchCatalog{v}, discard{}, nil, intake.Options{})
			defer in.Close()
			origin := survey.Origin{Channel: survey.ChannelWeb}
			var mu sync.Mutex
			ids := make([]string, 0, b.N)
			for i := 0; i < b.N && clientIDs; i++ {
				ids = append(ids, uuid.Must(uuid.NewV7()).String())
			}
			next := 0
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s := survey.Submission{AgencyID: 1, OfficeID: 5, SurveyID: 1, SurveyVersion: 1, Answers: answers}
					if clientIDs {
						mu.Lock()
						s.ID = ids[next]
						next++
						mu.Unlock()
					}
					if _, err := in.Submit(context.Background(), origin, &s); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
