package api

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// ReadyTimeout bounds the whole readiness probe; a check still running then counts as failed.
const ReadyTimeout = 2 * time.Second

// healthz is liveness: the process answers. It checks nothing else, so a database outage makes
// the server unready (no traffic) without getting it restarted in a loop.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyResult is the outcome of one readiness check.
type readyResult struct {
	name string
	err  error
}

// readyz runs every readiness check concurrently under ReadyTimeout. All pass (Detail checks
// aside) → 200 {"status":"ok","checks":{name:"ok"|"failed"|"timeout"}}; otherwise 503 with the
// error envelope whose fields name each failed check. Check errors are logged, not shown: they
// may carry addresses and credentials.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), ReadyTimeout)
	defer cancel()
	results := make(chan readyResult, len(s.d.Ready))
	for _, ch := range s.d.Ready {
		go func() {
			var err error
			if ch.Ping == nil {
				err = errNoPing
			} else {
				err = ch.Ping(ctx)
			}
			results <- readyResult{ch.Name, err}
		}()
	}
	status := map[string]string{}
	failed := map[string]survey.FieldError{}
	for _, ch := range s.d.Ready {
		status[ch.Name] = "timeout"
	}
	for range s.d.Ready {
		select {
		case r := <-results:
			if r.err == nil {
				status[r.name] = "ok"
				continue
			}
			status[r.name] = "failed"
			s.log.Warn("readiness check failed", "check", r.name, "err", r.err)
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	detail := map[string]bool{}
	for _, ch := range s.d.Ready {
		detail[ch.Name] = ch.Detail
	}
	var names []string
	for name, st := range status {
		switch {
		case st == "ok" || detail[name]:
			continue
		case st == "timeout":
			s.log.Warn("readiness check timed out", "check", name, "timeout", ReadyTimeout)
			failed[name] = survey.FieldError{Code: "timeout", Message: "check timed out", MessageFA: "بررسی در زمان مقرر پاسخ نداد."}
		default:
			failed[name] = survey.FieldError{Code: "unavailable", Message: "check failed", MessageFA: "بررسی ناموفق بود."}
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return c.JSON(http.StatusOK, map[string]any{"status": "ok", "checks": status})
	}
	sort.Strings(names)
	list := strings.Join(names, ", ")
	return &survey.Error{
		Code:      survey.ECodeUnavailable,
		Message:   "not ready: " + list,
		MessageFA: "سامانه آماده نیست: " + list,
		Fields:    failed,
	}
}

var errNoPing = survey.Errorf(survey.ECodeInternal, "بررسی تعریف نشده است.", "check has no Ping function")
