package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/survey"
)

// Codes the HTTP layer adds for failures that only exist in HTTP (a wrong method, an oversized or
// non-JSON body). They travel in the same envelope as the domain's codes.
const (
	codeMethodNotAllowed     survey.Code = "method_not_allowed"
	codeTooLarge             survey.Code = "too_large"
	codeUnsupportedMediaType survey.Code = "unsupported_media_type"
)

// codeInfo is one row of the error table: the status a code is answered with, and the messages
// used when the error carries none (or must not show its own).
type codeInfo struct {
	status int
	en, fa string
}

// errorTable maps every error code to its HTTP status. It is the only place that does.
var errorTable = map[survey.Code]codeInfo{
	survey.ECodeInvalid:      {http.StatusUnprocessableEntity, "the request is not valid", "درخواست معتبر نیست."},
	survey.ECodeBadRequest:   {http.StatusBadRequest, "the request could not be read", "درخواست قابل خواندن نیست."},
	survey.ECodeNotFound:     {http.StatusNotFound, "not found", "پیدا نشد."},
	survey.ECodeConflict:     {http.StatusConflict, "conflicts with stored data", "با داده‌های ثبت‌شده تعارض دارد."},
	survey.ECodeIDConflict:   {http.StatusConflict, "this id was already used for a different response", "این شناسه پیش‌تر برای پاسخ دیگری به کار رفته است."},
	survey.ECodeUnauthorized: {http.StatusUnauthorized, "a valid bearer token is required", "برای این کار توکن معتبر لازم است."},
	survey.ECodeForbidden:    {http.StatusForbidden, "you may not do this", "اجازه این کار را ندارید."},
	survey.ECodeRateLimited:  {http.StatusTooManyRequests, "too many requests; retry later", "درخواست‌ها بیش از حد مجاز است؛ کمی بعد دوباره تلاش کنید."},
	survey.ECodeUnavailable:  {http.StatusServiceUnavailable, "temporarily unavailable; retry later", "سامانه موقتاً در دسترس نیست؛ کمی بعد دوباره تلاش کنید."},
	survey.ECodeSchemaBehind: {http.StatusServiceUnavailable, "the database schema is out of date", "پایگاه داده به‌روز نیست؛ مدیر سامانه باید آن را به‌روز کند."},
	survey.ECodeInternal:     {http.StatusInternalServerError, "internal error", "خطای داخلی رخ داد."},
	codeMethodNotAllowed:     {http.StatusMethodNotAllowed, "method not allowed", "این روش درخواست برای این نشانی پذیرفته نیست."},
	codeTooLarge:             {http.StatusRequestEntityTooLarge, "the request body is too large", "حجم بدنه درخواست بیش از حد مجاز است."},
	codeUnsupportedMediaType: {http.StatusUnsupportedMediaType, "the body must be application/json", "نوع محتوای درخواست باید application/json باشد."},
}

// statusCodes maps the statuses Echo itself produces (unknown route, wrong method) to codes.
var statusCodes = map[int]survey.Code{
	http.StatusBadRequest:            survey.ECodeBadRequest,
	http.StatusUnauthorized:          survey.ECodeUnauthorized,
	http.StatusForbidden:             survey.ECodeForbidden,
	http.StatusNotFound:              survey.ECodeNotFound,
	http.StatusMethodNotAllowed:      codeMethodNotAllowed,
	http.StatusRequestEntityTooLarge: codeTooLarge,
	http.StatusUnsupportedMediaType:  codeUnsupportedMediaType,
	http.StatusUnprocessableEntity:   survey.ECodeInvalid,
	http.StatusTooManyRequests:       survey.ECodeRateLimited,
	http.StatusServiceUnavailable:    survey.ECodeUnavailable,
}

// envelope is the one error body: {"error":{"code","message","message_fa","fields"}}.
type envelope struct {
	Error *survey.Error `json:"error"`
}

// newError builds an error with the table's messages for code.
func newError(code survey.Code) *survey.Error {
	info := errorTable[code]
	return &survey.Error{Code: code, Message: info.en, MessageFA: info.fa}
}

// publicError turns any error into what a client may see, and its status. Internal causes are
// kept out: a *survey.Error shows its own messages and fields (written for people) but never its
// Err; an internal error, a foreign error or a 5xx from Echo shows only the table's words.
func publicError(err error) (*survey.Error, int) {
	var se *survey.Error
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		info, ok := errorTable[se.Code]
		if !ok {
			return newError(survey.ECodeInternal), http.StatusInternalServerError
		}
		if se.Code == survey.ECodeInternal {
			return newError(survey.ECodeInternal), info.status
		}
		pub := &survey.Error{Code: se.Code, Message: se.Message, MessageFA: se.MessageFA, Fields: se.Fields}
		if pub.Message == "" {
			pub.Message = info.en
		}
		if pub.MessageFA == "" {
			pub.MessageFA = info.fa
		}
		return pub, info.status
	case errors.As(err, &mbe):
		return newError(codeTooLarge), http.StatusRequestEntityTooLarge
	case errors.As(err, &he):
		code, ok := statusCodes[he.Code]
		if !ok {
			if he.Code >= 400 && he.Code < 500 {
				code = survey.ECodeBadRequest
			} else {
				code = survey.ECodeInternal
			}
		}
		return newError(code), errorTable[code].status
	}
	return newError(survey.ECodeInternal), http.StatusInternalServerError
}

// handleError is Echo's HTTPErrorHandler: every error any handler or middleware returns ends up
// here and leaves as the envelope. Server-side failures are logged with their cause, which the
// client never sees.
func (s *Server) handleError(err error, c echo.Context) {
	pub, status := publicError(err)
	if status >= 500 {
		level := slog.LevelError
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo // the client went away; nothing is broken
		}
		s.log.Log(c.Request().Context(), level, "request failed",
			"method", methodLabel(c.Request().Method), "route", routeLabel(c), "status", status,
			"code", string(pub.Code), "err", err)
	}
	if c.Response().Committed {
		return
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="afkar"`)
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, envelope{Error: pub})
	}
	if err != nil {
		s.log.Debug("writing error response", "err", err)
	}
}
