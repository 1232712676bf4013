package survey

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error class. Clients branch on codes, people read the messages; the
// HTTP layer maps each code to one status in one table.
type Code string

// Error codes.
const (
	ECodeInvalid      Code = "invalid"       // input broke a rule (422)
	ECodeBadRequest   Code = "bad_request"   // input could not be read at all (400)
	ECodeNotFound     Code = "not_found"     // no such thing, or not visible to the caller (404)
	ECodeConflict     Code = "conflict"      // clashes with what is stored (409)
	ECodeIDConflict   Code = "id_conflict"   // a response id already accepted with other content (409)
	ECodeUnauthorized Code = "unauthorized"  // no or unknown credentials (401)
	ECodeForbidden    Code = "forbidden"     // known caller, not allowed (403)
	ECodeRateLimited  Code = "rate_limited"  // too many requests (429)
	ECodeUnavailable  Code = "unavailable"   // a dependency is down; retry later (503)
	ECodeInternal     Code = "internal"      // a bug or an unexpected failure (500)
	ECodeSchemaBehind Code = "schema_behind" // the database needs `afkar migrate`
)

// Error is Afkar's one error type. Message is English, MessageFA Persian; Fields holds per-field
// problems of a rejected input keyed by a path such as "answers[2].value". Err keeps the cause
// for logs and errors.Is, and is never shown to clients.
type Error struct {
	Code      Code                  `json:"code"`
	Message   string                `json:"message"`
	MessageFA string                `json:"message_fa"`
	Fields    map[string]FieldError `json:"fields,omitempty"`
	Err       error                 `json:"-"`
}

// FieldError is one problem with one input field.
type FieldError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageFA string `json:"message_fa"`
}

// Error implements error with the code and the English message, for logs; clients get the JSON form.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap exposes the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with both messages.
func Errorf(code Code, fa, en string, args ...any) *Error {
	faArgs := make([]any, len(args))
	for i, a := range args {
		switch a.(type) {
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
			faArgs[i] = persianNumber{a}
		default:
			faArgs[i] = a
		}
	}
	return &Error{Code: code, Message: fmt.Sprintf(en, args...), MessageFA: fmt.Sprintf(fa, faArgs...)}
}

// persianNumber prints a number argument of a Persian message in Persian digits, as a reader expects
// («۳ از ۵»), while strings such as ids keep their ASCII digits so they can be copied.
type persianNumber struct{ n any }

// Format implements fmt.Formatter.
func (p persianNumber) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, FormatPersianDigits(fmt.Sprintf(fmt.FormatString(f, verb), p.n)))
}

// Wrap builds an Error that keeps err as its cause.
func Wrap(code Code, err error, fa, en string) *Error {
	return &Error{Code: code, Message: en, MessageFA: fa, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, ECodeInternal for any other
// error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ECodeInternal
}

// ErrNotFound is returned by stores for a missing row; compare with errors.Is or ErrorCode.
var ErrNotFound = &Error{Code: ECodeNotFound, Message: "not found", MessageFA: "پیدا نشد"}

// Is makes errors.Is(err, ErrNotFound) true for any not-found Error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t == ErrNotFound && e.Code == ECodeNotFound
}
