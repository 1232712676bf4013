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

// Role is what a staff member or integration may do. Tenancy rests on it: every read of agency
// data is checked against the caller's principal below the HTTP handlers.
type Role string

// Roles, from widest to narrowest.
const (
	RoleProvinceAdmin Role = "province_admin" // the governorate PR office's administrators
	RoleProvinceStaff Role = "province_staff" // governorate PR office: reads every agency
	RoleAgencyStaff   Role = "agency_staff"   // an agency's PR staff: reads only that agency
	RoleIntegration   Role = "integration"    // a machine client (kiosk fleet, SMS gateway)
)

// Principal is an authenticated caller.
type Principal struct {
	Role     Role   `json:"role"`
	AgencyID ID     `json:"agency_id,omitempty"`
	Name     string `json:"name,omitempty"`
}

// CanReadAgency reports whether p may read agency id's scores and responses.
func (p Principal) CanReadAgency(id ID) bool {
	switch p.Role {
	case RoleProvinceAdmin, RoleProvinceStaff:
		return true
	case RoleAgencyStaff:
		return p.AgencyID != 0 && p.AgencyID == id
	}
	return false
}

// IsStaff reports whether p is a person working for the province or an agency.
func (p Principal) IsStaff() bool {
	return p.Role == RoleProvinceAdmin || p.Role == RoleProvinceStaff || p.Role == RoleAgencyStaff
}

// ErrForbiddenAgency is returned when a principal asks for an agency it may not read. It is a
// not-found error on purpose: callers must not learn which agencies exist elsewhere.
func ErrForbiddenAgency() error {
	return Errorf(ECodeNotFound, "این دستگاه پیدا نشد.", "agency not found")
}
