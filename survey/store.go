package survey

import "context"

// Catalog stores who is surveyed and what is asked. The SQL store implements it; intake, the API
// and the demo seeder call it.
type Catalog interface {
	CreateProvince(ctx context.Context, p *Province) error
	CreateAgency(ctx context.Context, a *Agency) error
	CreateOffice(ctx context.Context, o *Office) error
	CreateSurvey(ctx context.Context, s *Survey) error
	// PublishVersion checks v, gives it the survey's next version number, stores it immutably
	// and makes it the survey's active version.
	PublishVersion(ctx context.Context, v *Version) error

	Provinces(ctx context.Context) ([]Province, error)
	// Agencies lists the agencies p may see, ordered by id.
	Agencies(ctx context.Context, p Principal) ([]Agency, error)
	Agency(ctx context.Context, id ID) (Agency, error)
	Offices(ctx context.Context, agencyID ID) ([]Office, error)
	Surveys(ctx context.Context, agencyID ID) ([]Survey, error)
	// ActiveVersion returns the agency's survey offered to citizens now: the most recently
	// published active version of the agency's surveys.
	ActiveVersion(ctx context.Context, agencyID ID) (Version, error)
	// Version returns one published version; versions never change once published.
	Version(ctx context.Context, surveyID ID, version int) (Version, error)
}

// FoldResult is what one fold of responses into the rollups did. Inserted counts the responses
// stored for the first time (and so added to the rollups). Conflicts lists, by position in the
// folded slice, the responses that were not stored because a response with the same id but
// different content was stored first — two different bodies sent with one id, which intake
// answers with 409 id_conflict when it sees both but which can slip past it (two replicas, or
// the second sent before the first was folded). The first stays counted; the aggregator sets the
// later ones aside as dead letters (reason id_conflict) instead of dropping them silently.
// Resends of the same content are neither inserted nor conflicts.
type FoldResult struct {
	Inserted  int
	Conflicts []int
}
