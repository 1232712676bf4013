package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
	Name      string
	CreatedAt time.Time
}

func (tokenRow) TableName() string { return "api_tokens" }

// hashToken is what api_tokens stores: a leaked table reveals no usable token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func checkPrincipal(p survey.Principal) error {
	switch p.Role {
	case survey.RoleProvinceAdmin, survey.RoleProvinceStaff, survey.RoleIntegration:
	case survey.RoleAgencyStaff:
		if p.AgencyID == 0 {
			return survey.Errorf(survey.ECodeInvalid, "کارمند دستگاه باید دستگاه داشته باشد.", "agency staff need an agency_id")
		}
	default:
		return survey.Errorf(survey.ECodeInvalid, "نقش ناشناخته است.", "unknown role %q", p.Role)
	}
	return nil
}

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

// RegisterToken stores a token chosen elsewhere — AFKAR_ADMIN_TOKEN from the environment — for
// p. Registering the same token again updates its principal, so start-up may call it every
// time. Tokens shorter than 16 characters are refused.
func (s *Store) RegisterToken(ctx context.Context, token string, p survey.Principal) error {
	if len(token) < 16 {
		return survey.Errorf(survey.ECodeInvalid, "توکن باید دست‌کم ۱۶ نویسه باشد.", "a token needs at least 16 characters")
	}
	if err := checkPrincipal(p); err != nil {
		return err
	}
	var agency *int64
	if p.AgencyID != 0 {
		a := int64(p.AgencyID)
		agency = &a
	}
	h := hashToken(token)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&tokenRow{}).Where("token_hash = ?", h).
			Updates(map[string]any{"role": string(p.Role), "agency_id": agency, "name": p.Name})
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		return tx.Create(&tokenRow{TokenHash: h, Role: string(p.Role), AgencyID: agency, Name: p.Name}).Error
	})
	return refError(err, "agency_id", "این دستگاه وجود ندارد.", "the agency does not exist")
}

// Authenticate returns the principal of a bearer token; an empty or unknown token is an
// ECodeUnauthorized error.
func (s *Store) Authenticate(ctx context.Context, token string) (survey.Principal, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return survey.Principal{}, unauthorized()
	}
	var rows []tokenRow
	if err := s.read(ctx).Where("token_hash = ?", hashToken(token)).Limit(1).Find(&rows).Error; err != nil {
		return survey.Principal{}, s.dbError(err)
	}
	if len(rows) == 0 {
		return survey.Principal{}, unauthorized()
	}
	r := rows[0]
	p := survey.Principal{Role: survey.Role(r.Role), Name: r.Name}
	if r.AgencyID != nil {
		p.AgencyID = survey.ID(*r.AgencyID)
	}
	return p, nil
}

func unauthorized() error {
	return survey.Errorf(survey.ECodeUnauthorized, "توکن دسترسی نامعتبر است.", "invalid access token")
}
