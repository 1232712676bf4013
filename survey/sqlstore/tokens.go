package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/afkar-gov/afkar/survey"
)

// TokenPrefix starts every token CreateToken makes, so that secret scanners and people can tell
// an Afkar token from other strings.
const TokenPrefix = "afk_"

type tokenRow struct {
	ID        int64 `gorm:"primaryKey"`
	TokenHash string
	Role      string
	AgencyID  *int64
	OfficeID  *int64
	Channel   string
	Name      string
	Bootstrap bool
	CreatedAt time.Time
}

func (tokenRow) TableName() string { return "api_tokens" }

// hashToken is what api_tokens stores: a leaked table reveals no usable token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// BootstrapName is the name of the bootstrap admin's token row.
const BootstrapName = "bootstrap admin (AFKAR_ADMIN_TOKEN)"

// CreateToken makes a new bearer token for p (32 random bytes, base64url, after TokenPrefix),
// stores only its SHA-256, and returns the token. It cannot be shown again.
func (s *Store) CreateToken(ctx context.Context, p survey.Principal) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", internal(err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	if err := s.RegisterToken(ctx, token, p); err != nil {
		return "", err
	}
	return token, nil
}

// RegisterToken stores a token chosen elsewhere (CreateToken's random one, or a configured one)
// for p, which must pass p.Check; an integration's office must belong to its agency.
// Registering the same token again updates its principal, so a caller may register it on every
// start. Tokens shorter than 16 characters are refused.
func (s *Store) RegisterToken(ctx context.Context, token string, p survey.Principal) error {
	return s.registerToken(ctx, token, p, false)
}

// RegisterBootstrapToken makes token the bootstrap province admin's (AFKAR_ADMIN_TOKEN), a token
// row like any other, which `afkar serve` registers at every start. It replaces the previous
// bootstrap token in the same transaction, so rotating AFKAR_ADMIN_TOKEN (or a token generated
// for one process) revokes the old one instead of leaving it valid forever.
func (s *Store) RegisterBootstrapToken(ctx context.Context, token string) error {
	return s.registerToken(ctx, token, survey.Principal{Role: survey.RoleProvinceAdmin, Name: BootstrapName}, true)
}

func (s *Store) registerToken(ctx context.Context, token string, p survey.Principal, bootstrap bool) error {
	if len(token) < 16 {
		return survey.Errorf(survey.ECodeInvalid, "توکن باید دست‌کم ۱۶ نویسه باشد.", "a token needs at least 16 characters")
	}
	if err := p.Check(); err != nil {
		return err
	}
	if p.OfficeID != 0 {
		offices, err := s.Offices(ctx, p.AgencyID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(offices, func(o survey.Office) bool { return o.ID == p.OfficeID }) {
			const en, fa = "the office does not belong to the token's agency", "این دفتر متعلق به دستگاه توکن نیست."
			return &survey.Error{Code: survey.ECodeInvalid, Message: en, MessageFA: fa,
				Fields: map[string]survey.FieldError{"office_id": {Code: "unknown_office", Message: en, MessageFA: fa}}}
		}
	}
	row := tokenRow{TokenHash: hashToken(token), Role: string(p.Role), AgencyID: optionalID(p.AgencyID),
		OfficeID: optionalID(p.OfficeID), Channel: string(p.Channel), Name: p.Name, Bootstrap: bootstrap}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if bootstrap {
			if err := tx.Where("bootstrap AND token_hash <> ?", row.TokenHash).Delete(&tokenRow{}).Error; err != nil {
				return err
			}
		}
		res := tx.Model(&tokenRow{}).Where("token_hash = ?", row.TokenHash).
			Updates(map[string]any{"role": row.Role, "agency_id": row.AgencyID, "office_id": row.OfficeID,
				"channel": row.Channel, "name": row.Name, "bootstrap": row.Bootstrap})
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		return tx.Create(&row).Error
	})
	return refError(err, "agency_id", "این دستگاه وجود ندارد.", "the agency does not exist")
}

func optionalID(id survey.ID) *int64 {
	if id == 0 {
		return nil
	}
	n := int64(id)
	return &n
}

// Authenticate returns the principal of a bearer token; an empty or unknown token is an
// ECodeUnauthorized error.
func (s *Store) Authenticate(ctx context.Context, token string) (survey.Principal, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return survey.Principal{}, unauthorized()
	}
	var rows []tokenRow
	if err := s.read(ctx).Where("token_hash = ? AND revoked_at IS NULL", hashToken(token)).Limit(1).Find(&rows).Error; err != nil {
		return survey.Principal{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.Principal{}, unauthorized()
	}
	r := rows[0]
	// Last use, to the minute: at most one write a minute per token, and a failed write (the
	// database busy or away) never refuses the token.
	now := time.Now().UTC()
	_ = s.db.WithContext(ctx).Exec("UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
		now, r.ID, now.Add(-time.Minute)).Error
	p := survey.Principal{Role: survey.Role(r.Role), Channel: survey.Channel(r.Channel), Name: r.Name, TokenID: survey.ID(r.ID)}
	if r.AgencyID != nil {
		p.AgencyID = survey.ID(*r.AgencyID)
	}
	if r.OfficeID != nil {
		p.OfficeID = survey.ID(*r.OfficeID)
	}
	return p, nil
}

func unauthorized() error {
	return survey.Errorf(survey.ECodeUnauthorized, "توکن دسترسی نامعتبر است.", "invalid access token")
}

// Tokens lists the API tokens of agency (0: every token), newest first, never their hashes.
func (s *Store) Tokens(ctx context.Context, agency survey.ID) ([]survey.TokenInfo, error) {
	var rows []struct {
		ID         int64
		Role       string
		AgencyID   *int64
		OfficeID   *int64
		Channel    string
		Name       string
		Bootstrap  bool
		CreatedAt  time.Time
		RevokedAt  *time.Time
		LastUsedAt *time.Time
	}
	where, args := "", []any{}
	if agency != 0 {
		where, args = "WHERE agency_id = ?", append(args, int64(agency))
	}
	err := s.read(ctx).Raw(`SELECT id, role, agency_id, office_id, channel, name, bootstrap, created_at, revoked_at, last_used_at
 FROM api_tokens `+where+` ORDER BY id DESC`, args...).Scan(&rows).Error
	if err != nil {
		return nil, s.dbError(err)
	}
	out := make([]survey.TokenInfo, len(rows))
	for i, r := range rows {
		t := survey.TokenInfo{ID: survey.ID(r.ID), Name: r.Name, Role: survey.Role(r.Role), Channel: survey.Channel(r.Channel),
			Bootstrap: r.Bootstrap, CreatedAt: r.CreatedAt.UTC(), RevokedAt: utcPtr(r.RevokedAt), LastUsedAt: utcPtr(r.LastUsedAt)}
		if r.AgencyID != nil {
			t.AgencyID = survey.ID(*r.AgencyID)
		}
		if r.OfficeID != nil {
			t.OfficeID = survey.ID(*r.OfficeID)
		}
		out[i] = t
	}
	return out, nil
}

// RevokeToken revokes token id at now; revoking a revoked token changes nothing. Unknown ids are
// not found.
func (s *Store) RevokeToken(ctx context.Context, id survey.ID, now time.Time) error {
	return s.write(ctx, func(db *gorm.DB) error {
		r := db.Exec("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", utc(now), int64(id))
		if r.Error != nil {
			return r.Error
		}
		var n int64
		if err := db.Raw("SELECT COUNT(*) FROM api_tokens WHERE id = ?", int64(id)).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return survey.Errorf(survey.ECodeNotFound, "این توکن پیدا نشد.", "token not found")
		}
		return nil
	})
}
