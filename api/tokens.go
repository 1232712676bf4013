package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/staff"
)

// TokenAdmin manages API tokens (survey/staff.Tokens): tenancy and audit live there.
type TokenAdmin interface {
	List(ctx context.Context, actor survey.Principal) ([]survey.TokenInfo, error)
	Create(ctx context.Context, actor survey.Principal, nt staff.NewToken) (string, survey.TokenInfo, error)
	Revoke(ctx context.Context, actor survey.Principal, id survey.ID) (survey.TokenInfo, error)
}

// listTokens answers GET /api/v1/tokens: the tokens the caller manages, never their secrets.
func (s *Server) listTokens(c echo.Context) error {
	if s.d.Tokens == nil {
		return unavailable("token management")
	}
	p, _ := principal(c)
	out, err := s.d.Tokens.List(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// createToken answers POST /api/v1/tokens {name, role, agency_id?, office_id?, channel?}: 201
// with the token, shown this once.
func (s *Server) createToken(c echo.Context) error {
	if s.d.Tokens == nil {
		return unavailable("token management")
	}
	var nt staff.NewToken
	if err := decodeBody(c, &nt); err != nil {
		return err
	}
	p, _ := principal(c)
	token, info, err := s.d.Tokens.Create(c.Request().Context(), p, nt)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"token": token, "info": info})
}

// revokeToken answers DELETE /api/v1/tokens/{id}: the token authenticates nothing from now on
// (a replica's principal cache forgets it within seconds).
func (s *Server) revokeToken(c echo.Context) error {
	if s.d.Tokens == nil {
		return unavailable("token management")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return newError(survey.ECodeNotFound)
	}
	p, _ := principal(c)
	info, err := s.d.Tokens.Revoke(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}
