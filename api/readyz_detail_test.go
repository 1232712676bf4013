package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/afkar-gov/afkar/api"
)

// A Detail check (the database, whose outage the server rides out on its buffer and caches) is
// reported in "checks" but does not make /readyz fail.
func TestReadyzDetailCheck(t *testing.T) {
	t.Parallel()
	h := start(t, api.Deps{Ready: []api.Check{
		{Name: "intake", Ping: func(context.Context) error { return nil }},
		{Name: "database", Detail: true, Ping: func(context.Context) error { return errors.New("connection refused") }},
	}})
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	h.get(t, "/readyz", "").wantStatus(t, http.StatusOK).json(t, &body)
	if body.Status != "ok" || body.Checks["intake"] != "ok" || body.Checks["database"] != "failed" {
		t.Fatalf("readyz body %+v; want ok with the database reported failed", body)
	}
}
