package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/analytics/export"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/cases"
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/authoring"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/sqlstore/sqltest"
	"github.com/afkar-gov/afkar/survey/staff"
)

// The role × route matrix: every route the server registers (echo's Routes()) is called by
// every kind of caller — no credentials, an expired session, an unknown or revoked token, a
// revoked kiosk, each person's role by session, an integration token, a paired kiosk — on a
// resource of the caller's own agency and of another, and the outcome (401, 403, 404, or let
// through) must be the one the table below gives. A route missing from the table fails the
// test, so a new route cannot ship unclassified.
//
// "Let through" (A) means authorization passed: 2xx or 3xx, or a refusal of the request
// itself (400, 409, 410, 422) that only a caller past the checks can get.

type outcome string

const (
	oU outcome = "401"
	oF outcome = "403"
	oN outcome = "404"
	oA outcome = "A"
)

func classify(status int) outcome {
	switch {
	case status == http.StatusUnauthorized:
		return oU
	case status == http.StatusForbidden:
		return oF
	case status == http.StatusNotFound:
		return oN
	case status < 400, status == http.StatusBadRequest, status == http.StatusConflict, status == http.StatusGone,
		status == http.StatusUnprocessableEntity:
		return oA
	}
	return outcome(fmt.Sprint(status))
}

// caller is one kind of credential in the matrix.
type caller struct {
	name   string
	role   survey.Role // "" for the unauthenticated kinds and machines
	kind   string      // none, expired, unknown, revoked_device, session, integration, device
	bearer string
	cookie string
	csrf   string
}

// rule gives the expected outcome for a caller on the caller's own agency's resource (own) or
// another agency's.
type rule func(c caller, own bool) outcome

// persons' reading: staff of any role; agency roles only their own agency (others: 404).
func staffRead(c caller, own bool) outcome {
	switch c.kind {
	case "none", "expired", "unknown", "revoked_device", "device":
		return oU
	case "integration":
		return oF
	}
	if c.role.ProvinceRole() || own {
		return oA
	}
	return oN
}

// staffList: a staff list route without an id (the list is filtered by tenancy).
func staffList(c caller, _ bool) outcome { return staffRead(c, true) }

// agencyManage: admins of the agency or of the province; other staff read-only (403 on their
// own agency, 404 on another's).
func agencyManage(c caller, own bool) outcome {
	if o := staffRead(c, own); o != oA {
		return o
	}
	if c.role == survey.RoleProvinceAdmin || c.role == survey.RoleAgencyAdmin {
		return oA
	}
	if !own && !c.role.ProvinceRole() {
		return oN
	}
	return oF
}

// usersAdmin: the users API and the audit log — province admins, and agency admins on their
// own agency's users (another agency's: 404); everyone else 403.
func usersAdmin(c caller, own bool) outcome {
	if o := staffRead(c, own); o != oA && o != oN {
		return o
	}
	switch {
	case c.role == survey.RoleProvinceAdmin:
		return oA
	case c.role == survey.RoleAgencyAdmin && own:
		return oA
	case c.role == survey.RoleAgencyAdmin:
		return oN
	}
	return oF
}

// usersCollection: list and create (no id): admins pass (creation of an own-agency user).
func usersCollection(c caller, _ bool) outcome {
	if o := staffRead(c, true); o != oA {
		return o
	}
	if c.role == survey.RoleProvinceAdmin || c.role == survey.RoleAgencyAdmin {
		return oA
	}
	return oF
}

// tokensCreate: a province admin makes any agency's token; an agency admin only its own
// agency's (403 for another's); other staff 403.
func tokensCreate(c caller, own bool) outcome {
	if o := staffRead(c, true); o != oA {
		return o
	}
	if c.role == survey.RoleProvinceAdmin || (c.role == survey.RoleAgencyAdmin && own) {
		return oA
	}
	return oF
}

// tokensRevoke: staff who pass the gates learn only "not found" for a token id that is not one.
func tokensRevoke(c caller, _ bool) outcome {
	if o := staffRead(c, true); o != oA {
		return o
	}
	return oN
}

// anyPrincipal: any valid bearer token or session (a kiosk's device token is not one here).
func anyPrincipal(c caller, _ bool) outcome {
	switch c.kind {
	case "none", "expired", "unknown", "revoked_device", "device":
		return oU
	}
	return oA
}

// ownPassword: a person's session; staff tokens have no password (403).
func ownPassword(c caller, _ bool) outcome {
	if o := staffRead(c, true); o != oA {
		return o
	}
	if c.kind != "session" {
		return oF
	}
	return oA
}

// public: open to anyone; a route behind identify refuses a bearer token it does not know.
func public(identify bool) rule {
	return func(c caller, _ bool) outcome {
		if identify && (c.kind == "unknown" || c.kind == "revoked_device" || c.kind == "device") {
			return oU
		}
		return oA
	}
}

// commentModeration: staff pass the route's gates; the comment (here an unknown one) decides.
func commentModeration(c caller, _ bool) outcome {
	if o := staffRead(c, true); o != oA {
		return o
	}
	return oN
}

// dashboardPage: an HTML dashboard; a caller without a session is sent to /login (a redirect),
// a session reads what its role may (another agency: 404).
func dashboardPage(c caller, own bool) outcome {
	switch {
	case c.kind == "unknown" || c.kind == "revoked_device" || c.kind == "device":
		return oU
	case c.kind != "session":
		return oA
	case c.role.ProvinceRole() || own:
		return oA
	}
	return oN
}

// dashboardForm: the dashboard's moderation form; without a session a redirect to /login, with
// one the (unknown) comment is not found.
func dashboardForm(c caller, _ bool) outcome {
	switch {
	case c.kind == "unknown" || c.kind == "revoked_device" || c.kind == "device":
		return oU
	case c.kind != "session":
		return oA
	}
	return oN
}

// dashboardManage: a management form of the staff pages; without a session a redirect to
// /login, with one the rights of agencyManage (readers 403, another agency 404).
var dashboardManage = sessionForm(agencyManage)

// accountTokens: the account page's token forms. Without a session a redirect to /login; a
// session of a role that manages no tokens is refused (403); an admin's gets admin (the form's
// own verdict).
func accountTokens(admin outcome) rule {
	return func(c caller, _ bool) outcome {
		switch {
		case c.kind == "unknown" || c.kind == "revoked_device" || c.kind == "device":
			return oU
		case c.kind != "session":
			return oA
		case c.role == survey.RoleProvinceAdmin || c.role == survey.RoleAgencyAdmin:
			return admin
		}
		return oF
	}
}

// sessionForm: an HTML form route of people: without a session a redirect to /login (let
// through), a bearer token identify does not know 401, a session as r says.
func sessionForm(r rule) rule {
	return func(c caller, own bool) outcome {
		switch {
		case c.kind == "unknown" || c.kind == "revoked_device" || c.kind == "device":
			return oU
		case c.kind != "session":
			return oA
		}
		return r(c, own)
	}
}

// always: the same outcome for everyone (a path secret or form token decides, not the caller).
func always(o outcome) rule { return func(caller, bool) outcome { return o } }

// deviceOnly: a paired kiosk's device token; anything else 401.
func deviceOnly(c caller, _ bool) outcome {
	if c.kind == "device" {
		return oA
	}
	return oU
}

// invitations: an agency's SMS integration token or its admins invite; other staff and
// integrations of another channel are refused by the SMS channel (403), unauthenticated
// callers 401.
func invitations(c caller, _ bool) outcome {
	switch c.kind {
	case "none", "expired", "unknown", "revoked_device", "device":
		return oU
	}
	if c.role == survey.RoleProvinceAdmin || c.role == survey.RoleAgencyAdmin {
		return oA
	}
	return oF
}

// submissions: anonymous callers (an expired session is one) and integrations submit; staff,
// by session or token, are refused (403); an unknown bearer token 401.
func submissions(c caller, _ bool) outcome {
	switch c.kind {
	case "unknown", "revoked_device", "device":
		return oU
	case "session", "token":
		return oF
	}
	return oA
}

// matrixRoute says how to call a route: its rule, whether its :id names an agency-scoped
// resource (then it is called for the own and the other agency), and a body.
type matrixRoute struct {
	rule   rule
	scoped bool
	body   string
}

// routeTable classifies every route. Keys are "METHOD path-template".
var routeTable = map[string]matrixRoute{
	"GET /api/docs":                   {rule: always(oA)},
	"HEAD /api/docs":                  {rule: always(oA)},
	"GET /api/openapi.yaml":           {rule: always(oA)},
	"HEAD /api/openapi.yaml":          {rule: always(oA)},
	"GET /healthz":                    {rule: always(oA)},
	"GET /readyz":                     {rule: always(oA)},
	"GET /metrics":                    {rule: always(oA)},
	"GET /":                           {rule: always(oA)},
	"HEAD /":                          {rule: always(oA)},
	"GET /static/*":                   {rule: always(oN)}, // no such asset; the route itself is public
	"HEAD /static/*":                  {rule: always(oN)},
	"GET /kiosk":                      {rule: always(oA)},
	"HEAD /kiosk":                     {rule: always(oA)},
	"GET /kiosk/*":                    {rule: always(oA)},
	"HEAD /kiosk/*":                   {rule: always(oA)},
	"GET /api/v1/agencies/:id/survey": {rule: always(oA)},
	"GET /s/:token":                   {rule: always(oN)}, // a Persian "invalid link" page; the link is the credential
	"HEAD /s/:token":                  {rule: always(oN)},
	"POST /s/:token":                  {rule: always(oN)},
	"GET /p/:token":                   {rule: always(oN)},
	"HEAD /p/:token":                  {rule: always(oN)},
	"POST /p/:token":                  {rule: always(oN)},
	"POST /api/v1/responses":          {rule: submissions, body: `{"agency_id":%d}`},
	"GET /api/v1/me":                  {rule: anyPrincipal},
	"GET /login":                      {rule: always(oA)},
	"HEAD /login":                     {rule: always(oA)},
	"POST /login":                     {rule: always(oF)}, // without the login form's cookie and token
	"POST /logout":                    {rule: public(true)},
	"GET /dashboard":                  {rule: public(true)}, // the page, or a redirect to /login
	"HEAD /dashboard":                 {rule: public(true)},
	"POST /api/v1/kiosk/pair":         {rule: always(oA), body: `{"code":"ZZZZ-ZZZZ"}`}, // the code is the credential (422)
	"GET /api/v1/kiosk/config":        {rule: deviceOnly},
	"POST /api/v1/kiosk/responses":    {rule: deviceOnly, body: `{"sent_at":"2026-12-01T06:30:00Z","items":[]}`},
	"POST /api/v1/kiosk/heartbeat":    {rule: deviceOnly, body: `{}`},
	"POST /api/v1/invitations":        {rule: invitations, body: `{}`},
	"POST /api/v1/invitations.csv":    {rule: invitations, body: "phone,office_id,visited_at\n09121234567,%d,2026-12-01T06:00:00Z\n"},
	"POST /api/v1/sms/kavenegar/inbound/:secret": {rule: always(oN)}, // a wrong path secret
	"POST /api/v1/sms/kavenegar/status/:secret":  {rule: always(oN)},
	"GET /dev/sms":                            {rule: always(oA)},
	"HEAD /dev/sms":                           {rule: always(oA)},
	"POST /dev/sms":                           {rule: always(oA)},
	"GET /api/v1/agencies":                    {rule: staffList},
	"GET /api/v1/agencies/:id/score":          {rule: staffRead, scoped: true},
	"GET /api/v1/agencies/:id/funnel":         {rule: staffRead, scoped: true},
	"GET /api/v1/agencies/:id/digest":         {rule: staffRead, scoped: true},
	"GET /api/v1/digest":                      {rule: staffList},
	"GET /api/v1/agencies/:id/sms/inbound":    {rule: staffRead, scoped: true},
	"GET /api/v1/agencies/:id/responses.csv":  {rule: staffRead, scoped: true},
	"GET /api/v1/agencies/:id/responses.xlsx": {rule: staffRead, scoped: true},
	"GET /api/v1/agencies/:id/score.csv":      {rule: staffRead, scoped: true},
	"GET /api/v1/agencies/:id/score.xlsx":     {rule: staffRead, scoped: true},
	"GET /agencies/:id/report":                {rule: staffRead, scoped: true},
	"HEAD /agencies/:id/report":               {rule: staffRead, scoped: true},
	"GET /api/v1/kiosks":                      {rule: staffList},
	"POST /api/v1/kiosks":                     {rule: agencyManage, scoped: true},
	"POST /api/v1/kiosks/:id/pairing":         {rule: agencyManage, scoped: true},
	"GET /api/v1/kiosks/:id/pairing":          {rule: agencyManage, scoped: true},
	"GET /api/v1/kiosks/:id/pairing.png":      {rule: agencyManage, scoped: true},
	"DELETE /api/v1/kiosks/:id/token":         {rule: agencyManage, scoped: true},
	"GET /api/v1/kiosks/:id/stats":            {rule: staffRead, scoped: true},
	"GET /api/v1/offices/:id/hours":           {rule: staffRead, scoped: true},
	"PUT /api/v1/offices/:id/hours":           {rule: agencyManage, scoped: true, body: `{"always_open":true}`},
	"GET /api/v1/offices/:id/poster":          {rule: agencyManage, scoped: true},
	"POST /api/v1/offices/:id/poster":         {rule: agencyManage, scoped: true},
	"GET /api/v1/offices/:id/poster.png":      {rule: agencyManage, scoped: true},
	"GET /api/v1/offices/:id/poster.svg":      {rule: agencyManage, scoped: true},
	"GET /api/v1/offices/:id/poster.html":     {rule: agencyManage, scoped: true},
	"POST /api/v1/me/password":                {rule: ownPassword, body: `{"old_password":"not it","new_password":"whatever long enough"}`},
	"GET /api/v1/me/alert-phone":              {rule: ownPassword},
	"PUT /api/v1/me/alert-phone":              {rule: ownPassword, body: `{"phone":"09121234567"}`},
	"GET /api/v1/users":                       {rule: usersCollection},
	"POST /api/v1/users":                      {rule: usersCollection, body: `{"login":"%s","name":"تازه","role":"agency_staff","agency_id":%d}`},
	"PATCH /api/v1/users/:id":                 {rule: usersAdmin, scoped: true, body: `{"name":"نام تازه"}`},
	"POST /api/v1/users/:id/password":         {rule: usersAdmin, scoped: true},
	"GET /api/v1/audit":                       {rule: usersCollection},
	"GET /api/v1/tokens":                      {rule: usersCollection},
	"POST /api/v1/tokens":                     {rule: tokensCreate, scoped: true, body: `{"name":"ماتریس","role":"integration","channel":"sms","agency_id":%d}`},
	"DELETE /api/v1/tokens/:id":               {rule: tokensRevoke},
	"GET /api/v1/agencies/:id/cases":          {rule: staffRead, scoped: true},
	"GET /api/v1/agencies/:id/cases/stats":    {rule: staffRead, scoped: true},
	"GET /api/v1/cases/:id":                   {rule: staffRead, scoped: true},
	"POST /api/v1/cases/:id/reveal":           {rule: caseReveal, scoped: true},
	"POST /api/v1/cases/:id/assign":           {rule: agencyManage, scoped: true, body: `{"user_id":0}`}, // 422 past the checks
	"POST /api/v1/cases/:id/ack":              {rule: agencyManage, scoped: true},
	"POST /api/v1/cases/:id/resolve":          {rule: agencyManage, scoped: true, body: `{"outcome":""}`}, // 422 past the checks
	"GET /api/v1/templates":                   {rule: staffList},
	"GET /api/v1/agencies/:id/surveys":        {rule: staffRead, scoped: true},
	"POST /api/v1/agencies/:id/surveys":       {rule: agencyManage, scoped: true, body: `{"title":"پرسشنامه ماتریس"}`},
	"GET /api/v1/agencies/:id/offices":        {rule: staffRead, scoped: true},
	"POST /api/v1/agencies/:id/offices":       {rule: agencyManage, scoped: true, body: `{"name":"دفتر ماتریس"}`},
	"PATCH /api/v1/offices/:id":               {rule: agencyManage, scoped: true, body: `{"name":"دفتر مرکزی"}`},
	"GET /api/v1/agencies/:id/assignments":    {rule: staffRead, scoped: true},
	"PUT /api/v1/agencies/:id/assignments":    {rule: agencyManage, scoped: true, body: `{"survey_id":0}`},
	"GET /api/v1/surveys/:id/draft":           {rule: staffRead, scoped: true},
	"PUT /api/v1/surveys/:id/draft":           {rule: agencyManage, scoped: true, body: `{"title":"پیش‌نویس ماتریس","questions":[]}`},
	"POST /api/v1/surveys/:id/publish":        {rule: agencyManage, scoped: true},
	"GET /api/v1/surveys/:id/versions":        {rule: staffRead, scoped: true},
	"GET /surveys/:id/preview":                {rule: staffRead, scoped: true},
	"HEAD /surveys/:id/preview":               {rule: staffRead, scoped: true},
	"GET /api/v1/alerts":                      {rule: staffList},
	"GET /api/v1/agencies/:id/alert-rules":    {rule: staffRead, scoped: true},
	"PUT /api/v1/agencies/:id/alert-rules":    {rule: agencyManage, scoped: true, body: `{"unhappy_share":0.3,"min_n":20}`},
	"POST /api/v1/alerts/:id/ack":             {rule: alertAck, body: `{"comment":"x"}`},
	"GET /api/v1/agencies/:id/trend":          {rule: staffRead, scoped: true},
	"GET /api/v1/agencies/:id/comments":       {rule: staffRead, scoped: true},
	"GET /api/v1/province/agencies":           {rule: staffList},
	// No such comment: staff who pass the gates learn only "not found".
	"POST /api/v1/comments/:response_id/:question_id/moderation": {rule: commentModeration, body: `{"state":"hidden"}`},
	"GET /dashboard/agencies/:id":                                {rule: dashboardPage, scoped: true},
	"HEAD /dashboard/agencies/:id":                               {rule: dashboardPage, scoped: true},
	"GET /dashboard/digest":                                      {rule: public(true)}, // the page, or a redirect to /login
	"HEAD /dashboard/digest":                                     {rule: public(true)},
	"GET /dashboard/agencies/:id/alert-rules":                    {rule: dashboardPage, scoped: true},
	"HEAD /dashboard/agencies/:id/alert-rules":                   {rule: dashboardPage, scoped: true},
	"POST /dashboard/agencies/:id/alert-rules":                   {rule: dashboardManage, scoped: true, body: "score_below=3"},
	"POST /dashboard/comments/:response_id/:question_id":         {rule: dashboardForm, body: "state=hidden"},
	"GET /dashboard/agencies/:id/surveys":                        {rule: dashboardPage, scoped: true},
	"HEAD /dashboard/agencies/:id/surveys":                       {rule: dashboardPage, scoped: true},
	"POST /dashboard/agencies/:id/surveys":                       {rule: dashboardManage, scoped: true},
	"GET /dashboard/surveys/:id/edit":                            {rule: dashboardPage, scoped: true},
	"HEAD /dashboard/surveys/:id/edit":                           {rule: dashboardPage, scoped: true},
	"POST /dashboard/surveys/:id/edit":                           {rule: dashboardManage, scoped: true},
	"GET /dashboard/agencies/:id/offices":                        {rule: dashboardPage, scoped: true},
	"HEAD /dashboard/agencies/:id/offices":                       {rule: dashboardPage, scoped: true},
	"POST /dashboard/agencies/:id/offices":                       {rule: dashboardManage, scoped: true}, // no name: 422 past the checks
	"POST /dashboard/agencies/:id/assignments":                   {rule: dashboardManage, scoped: true},
	"POST /dashboard/offices/:id":                                {rule: dashboardManage, scoped: true}, // no name: 422 past the checks
	"POST /dashboard/offices/:id/hours":                          {rule: dashboardManage, scoped: true},
	"GET /dashboard/account":                                     {rule: public(true)}, // the page, or a redirect to /login
	"HEAD /dashboard/account":                                    {rule: public(true)},
	"POST /dashboard/account/password":                           {rule: public(true)}, // a redirect to /login, or the form refused (422)
	"POST /dashboard/account/alert-phone":                        {rule: public(true)},
	"POST /dashboard/account/tokens":                             {rule: accountTokens(oA)}, // an empty form: 422 for admins
	"POST /dashboard/account/tokens/:id/revoke":                  {rule: accountTokens(oN)}, // an id that is no token
	"GET /dashboard/users":                                       {rule: accountTokens(oA)}, // admins: the page; other sessions: 403
	"HEAD /dashboard/users":                                      {rule: accountTokens(oA)},
	"POST /dashboard/users":                                      {rule: accountTokens(oA)}, // an empty form: 422 for admins
	"POST /dashboard/users/:id/password":                         {rule: sessionForm(usersAdmin), scoped: true},
	"POST /dashboard/users/:id/access":                           {rule: sessionForm(usersAdmin), scoped: true, body: "disabled=0"}, // enabling an enabled account: 303
	"POST /dashboard/alerts/:id/ack":                             {rule: dashboardForm, body: "comment=x"},                          // no alert 999999: 404
	"GET /dashboard/agencies/:id/cases":                          {rule: dashboardPage, scoped: true},
	"HEAD /dashboard/agencies/:id/cases":                         {rule: dashboardPage, scoped: true},
	"POST /dashboard/cases/:id/ack":                              {rule: dashboardCaseForm(agencyManage), scoped: true},
	"POST /dashboard/cases/:id/assign":                           {rule: dashboardCaseForm(agencyManage), scoped: true}, // a province admin: 422 → back with a message
	"POST /dashboard/cases/:id/resolve":                          {rule: dashboardCaseForm(agencyManage), scoped: true, body: "outcome="},
	"POST /dashboard/cases/:id/reveal":                           {rule: dashboardCaseForm(caseReveal), scoped: true},
	"GET /dashboard/audit":                                       {rule: dashboardCaseForm(usersCollection)},
	"HEAD /dashboard/audit":                                      {rule: dashboardCaseForm(usersCollection)},
	"GET /api/v1/agencies/:id/offices/scores":                    {rule: staffRead, scoped: true},
}

// dashboardCaseForm: a page or form of the dashboards that acts (cases, the audit log): without
// a session a redirect to /login; with one, what the JSON route's rule says for that role.
func dashboardCaseForm(r rule) rule { return sessionForm(r) }

// caseReveal: the full number of a case only to an admin of the case's own agency; a province
// admin reads the case but may not reveal it (403); other agencies' staff 404.
func caseReveal(c caller, own bool) outcome {
	if o := staffRead(c, own); o != oA {
		return o
	}
	if c.role == survey.RoleAgencyAdmin && own {
		return oA
	}
	return oF
}

// alertAck: staff reach the alert desk, which finds no alert ":id" (404); others as staffRead.
// Who may acknowledge a real alert is TestAlertsAPI's business.
func alertAck(c caller, _ bool) outcome {
	if o := staffRead(c, true); o != oA {
		return o
	}
	return oN
}

// matrixEnv holds what the paths need: ids of the own (tax) and other (registry) agency's
// resources.
type matrixEnv struct {
	agency, kiosk, office, user, survey, kase [2]survey.ID
}

func (m matrixEnv) path(template string, own bool) string {
	i := 1
	if own {
		i = 0
	}
	p := template
	switch {
	case strings.HasPrefix(p, "/api/v1/agencies/:id"), strings.HasPrefix(p, "/agencies/:id"):
		p = strings.Replace(p, ":id", m.agency[i].String(), 1)
	case strings.HasPrefix(p, "/dashboard/agencies/:id"):
		p = strings.Replace(p, ":id", m.agency[i].String(), 1)
	case strings.HasPrefix(p, "/api/v1/kiosks/:id"):
		p = strings.Replace(p, ":id", m.kiosk[i].String(), 1)
	case strings.HasPrefix(p, "/api/v1/offices/:id"), strings.HasPrefix(p, "/dashboard/offices/:id"):
		p = strings.Replace(p, ":id", m.office[i].String(), 1)
	case strings.HasPrefix(p, "/api/v1/users/:id"), strings.HasPrefix(p, "/dashboard/users/:id"):
		p = strings.Replace(p, ":id", m.user[i].String(), 1)
	case strings.HasPrefix(p, "/api/v1/cases/:id"), strings.HasPrefix(p, "/dashboard/cases/:id"):
		p = strings.Replace(p, ":id", m.kase[i].String(), 1)
	case strings.HasPrefix(p, "/api/v1/surveys/:id"), strings.HasPrefix(p, "/surveys/:id"), strings.HasPrefix(p, "/dashboard/surveys/:id"):
		p = strings.Replace(p, ":id", m.survey[i].String(), 1)
	}
	p = strings.Replace(p, "/dashboard/account/tokens/:id/", "/dashboard/account/tokens/987654321/", 1)
	p = strings.Replace(p, "/dashboard/alerts/:id", "/dashboard/alerts/999999", 1)
	p = strings.Replace(p, ":token", "not-a-link-token", 1)
	p = strings.Replace(p, ":response_id", "00000000-0000-4000-8000-00000000dead", 1)
	p = strings.Replace(p, ":question_id", "q3", 1)
	p = strings.Replace(p, ":secret", "wrong-secret", 1)
	p = strings.Replace(p, "/static/*", "/static/missing.css", 1)
	p = strings.Replace(p, "/kiosk/*", "/kiosk/", 1)
	return p
}

func TestRoleRouteMatrix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := sqltest.Open(t, sqltest.Dialects[0])
	ke := newKioskEnv(t, store, -1)
	// Two paired kiosks of the tax office (one revoked), one kiosk of the registry.
	_, device := ke.newPairedKiosk(t, nil)
	revokedKiosk, revokedDevice := ke.newPairedKiosk(t, nil)
	ke.send(t, http.MethodDelete, fmt.Sprintf("/api/v1/kiosks/%d/token", revokedKiosk.ID), ke.taxAdmin, nil).wantStatus(t, http.StatusNoContent)

	log := slog.New(slog.DiscardHandler)
	privacy, err := sms.NewPrivacy([]byte(strings.Repeat("s", 40)))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := weblink.NewKeys(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	in := intake.New(store, store.Inbox(), nil, intake.Options{Stored: store, Clock: ke.clock, Logger: log})
	t.Cleanup(in.Close)
	inbox := sms.NewInbox(store, in, privacy, sms.InboxOptions{Clock: ke.clock, Logger: log})
	accounts := staff.New(store, staff.Options{Secret: testSecret, Clock: ke.clock})
	scores := analytics.NewScores(store, store)
	followUps := cases.New(store, privacy, cases.Options{Clock: ke.clock, Logger: log})
	h := start(t, api.Deps{Catalog: store, Auth: store, Intake: in, Scores: scores, Exports: export.NewService(store, store, scores),
		Tokens:  staff.NewTokens(store, ke.clock),
		Digests: analytics.NewDigests(scores, store, store), AlertPhones: sms.NewAlertPhones(store, privacy, ke.clock), Alerts: &analytics.AlertDesk{Store: store}, AlertRules: &analytics.AlertRuleSettings{Store: store},
		Dashboard: analytics.NewDashboard(store, store), Comments: analytics.NewComments(store, store),
		Kiosks: kiosk.NewService(store, in, kiosk.Options{Clock: ke.clock, Logger: log}), PairRateLimit: -1,
		WebLinks: keys, LinkStore: store, FormRateLimit: -1,
		Invitations: sms.NewInviter(store, privacy, sms.InviteRules{}, ke.clock, log),
		SMSInbox:    inbox, SMSWebhookSecret: "the-right-secret-0123456789", SMSDeliveries: sms.NewDeliveries(store, nil, ke.clock, log),
		DevSMS: sms.NewDev(store, privacy), Funnel: store, SMSReplies: sms.NewStaff(store, privacy),
		Accounts: accounts, Cases: followUps, Surveys: authoring.New(store, authoring.Options{CheckSMS: sms.CheckSMS}), Logger: log})
	env := &accountsEnv{harness: h, store: store, clock: ke.clock, svc: accounts, f: ke.f}

	cli := survey.Principal{Role: survey.RoleProvinceAdmin, Name: "matrix"}
	newUser := func(login string, role survey.Role, agency survey.ID) (staff.User, string) {
		u, pw, err := accounts.CreateUser(ctx, cli, staff.NewUser{Login: login, Name: login, Role: role, AgencyID: agency})
		if err != nil {
			t.Fatal(err)
		}
		return u, pw
	}
	sessionOf := func(login, pw string) (cookie, csrf string) {
		b := env.browser(t)
		r := b.login(t, login, pw).wantStatus(t, http.StatusSeeOther)
		return sessionCookie(t, r).Value, b.me(t).CSRFToken
	}
	// The expired session: logged in, then left idle past the timeout.
	_, expPW := newUser("expired.user", survey.RoleProvinceAdmin, 0)
	expCookie, _ := sessionOf("expired.user", expPW)
	ke.clock.Advance(staff.IdleTimeout + time.Minute)
	// Kiosks to address by id, made now so that their pairing codes are pending.
	taxKiosk := ke.createKiosk(t, ke.taxAdmin, ke.f.office.ID, "کیوسک ماتریس")
	regKiosk := ke.createKiosk(t, ke.regAdmin, ke.regOffice.ID, "کیوسک ثبت")

	// A province admin's token, revoked: it authenticates nothing, like one never issued.
	revokedToken, err := store.CreateToken(ctx, survey.Principal{Role: survey.RoleProvinceAdmin, Name: "revoked in the matrix"})
	if err != nil {
		t.Fatal(err)
	}
	revokedList, err := store.Tokens(ctx, 0)
	if err != nil || len(revokedList) == 0 {
		t.Fatalf("tokens: %v", err)
	}
	if err := store.RevokeToken(ctx, revokedList[0].ID, ke.clock.Now()); err != nil {
		t.Fatal(err)
	}
	callers := []caller{
		{name: "none", kind: "none"},
		{name: "expired session", kind: "expired", cookie: expCookie},
		{name: "unknown token", kind: "unknown", bearer: "afk_never-issued-or-revoked-0123456789"},
		{name: "revoked token", kind: "unknown", bearer: revokedToken},
		{name: "revoked kiosk", kind: "revoked_device", bearer: revokedDevice},
		{name: "kiosk", kind: "device", bearer: device},
		{name: "integration", kind: "integration", bearer: ke.f.kiosk},
	}
	for _, r := range []struct {
		role   survey.Role
		agency survey.ID
	}{
		{survey.RoleProvinceAdmin, 0}, {survey.RoleProvinceStaff, 0}, {survey.RoleProvinceEvaluator, 0},
		{survey.RoleAgencyAdmin, ke.f.tax.ID}, {survey.RoleAgencyStaff, ke.f.tax.ID},
	} {
		login := strings.ReplaceAll(string(r.role), "_", ".")
		_, pw := newUser(login, r.role, r.agency)
		ck, csrf := sessionOf(login, pw)
		callers = append(callers, caller{name: string(r.role), role: r.role, kind: "session", cookie: ck, csrf: csrf})
	}
	// Staff tokens too (no CSRF, same rules as sessions except for the own password).
	for _, r := range []struct {
		role   survey.Role
		agency survey.ID
	}{{survey.RoleProvinceAdmin, 0}, {survey.RoleAgencyAdmin, ke.f.tax.ID}, {survey.RoleAgencyStaff, ke.f.tax.ID}} {
		tok, err := store.CreateToken(ctx, survey.Principal{Role: r.role, AgencyID: r.agency, Name: string(r.role) + " token"})
		if err != nil {
			t.Fatal(err)
		}
		callers = append(callers, caller{name: string(r.role) + " token", role: r.role, kind: "token", bearer: tok})
	}
	regSurvey := survey.Survey{AgencyID: ke.f.registry.ID, Title: "پرسشنامه ثبت"}
	if err := store.CreateSurvey(ctx, &regSurvey); err != nil {
		t.Fatal(err)
	}
	taxTarget, _ := newUser("tax.target", survey.RoleAgencyStaff, ke.f.tax.ID)
	regTarget, _ := newUser("reg.target", survey.RoleAgencyStaff, ke.f.registry.ID)
	var kase [2]survey.ID
	for i, a := range []survey.ID{ke.f.tax.ID, ke.f.registry.ID} {
		k, _, err := followUps.Open(ctx, survey.NewCase{AgencyID: a, ResponseID: fmt.Sprint("matrix-case-", i), Channel: survey.ChannelWeb,
			Rating: 1, Phone: "09121234567"})
		if err != nil {
			t.Fatal(err)
		}
		kase[i] = k.ID
	}
	m := matrixEnv{agency: [2]survey.ID{ke.f.tax.ID, ke.f.registry.ID}, kiosk: [2]survey.ID{taxKiosk.ID, regKiosk.ID},
		office: [2]survey.ID{ke.f.office.ID, ke.regOffice.ID}, user: [2]survey.ID{taxTarget.ID, regTarget.ID},
		survey: [2]survey.ID{ke.f.version.SurveyID, regSurvey.ID}, kase: kase}

	// Every registered route must be in the table (and the table must not list dead routes).
	registered := map[string]bool{}
	var keys2 []string
	for _, r := range h.srv.Routes() {
		k := r.Method + " " + r.Path
		if registered[k] {
			continue
		}
		registered[k] = true
		keys2 = append(keys2, k)
		if _, ok := routeTable[k]; !ok {
			t.Errorf("route %s is not classified in routeTable: add it with its rule", k)
		}
	}
	for k := range routeTable {
		if !registered[k] {
			t.Errorf("routeTable lists %s, which is not registered", k)
		}
	}
	sort.Strings(keys2)
	// Routes that end what later calls need run last: revoking a kiosk clears its pairing
	// code, logging out ends the caller's session.
	last := func(k string) int {
		switch k {
		case "DELETE /api/v1/kiosks/:id/token":
			return 1
		case "POST /logout":
			return 2
		}
		return 0
	}
	sort.SliceStable(keys2, func(i, j int) bool { return last(keys2[i]) < last(keys2[j]) })

	dump := os.Getenv("AFKAR_MATRIX_DUMP") != ""
	n, seq := 0, 0
	for _, k := range keys2 {
		rt, ok := routeTable[k]
		if !ok {
			continue
		}
		method, tmpl, _ := strings.Cut(k, " ")
		scopes := []bool{true}
		if rt.scoped {
			scopes = []bool{true, false}
		}
		for _, own := range scopes {
			var row []string
			for _, c := range callers {
				seq++
				body := rt.body
				i := 0
				if !own {
					i = 1
				}
				switch {
				case strings.Contains(body, "%s"):
					body = fmt.Sprintf(body, fmt.Sprintf("new.user.%d", seq), m.agency[i])
				case k == "POST /api/v1/invitations.csv":
					body = fmt.Sprintf(body, m.office[i])
				case strings.Contains(body, "%d"):
					body = fmt.Sprintf(body, m.agency[i])
				}
				if k == "POST /api/v1/kiosks" {
					office := m.office[0]
					if !own {
						office = m.office[1]
					}
					raw, _ := json.Marshal(map[string]any{"office_id": office, "name": fmt.Sprint("کیوسک ", seq)})
					body = string(raw)
				}
				var hdr []string
				if c.bearer != "" {
					hdr = append(hdr, "Authorization", "Bearer "+c.bearer)
				}
				if c.cookie != "" {
					hdr = append(hdr, "Cookie", api.SessionCookie+"="+c.cookie)
				}
				if c.csrf != "" {
					hdr = append(hdr, "X-CSRF-Token", c.csrf)
				}
				ct := ""
				if body != "" || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
					ct = "application/json"
				}
				if k == "POST /api/v1/invitations.csv" {
					ct = "text/csv"
				}
				if strings.HasPrefix(tmpl, "/s/") || strings.HasPrefix(tmpl, "/p/") || tmpl == "/dev/sms" || tmpl == "/login" || tmpl == "/logout" || strings.HasPrefix(tmpl, "/dashboard/comments/") ||
					strings.HasPrefix(tmpl, "/dashboard/account/") || strings.HasPrefix(tmpl, "/dashboard/users") ||
					strings.HasPrefix(tmpl, "/dashboard/alerts/") || strings.HasPrefix(tmpl, "/dashboard/cases/") {
					ct = "application/x-www-form-urlencoded"
				}
				res := h.request(t, method, m.path(tmpl, own), "", ct, body, hdr...)
				got, want := classify(res.status), rt.rule(c, own)
				n++
				row = append(row, fmt.Sprintf("%s=%s", c.name, got))
				if got != want && !dump {
					t.Errorf("%s (%s agency) as %s: %d, want %s; body: %.200s", k, map[bool]string{true: "own", false: "other"}[own],
						c.name, res.status, want, res.body)
				}
			}
			if dump {
				t.Logf("%s own=%t: %s", k, own, strings.Join(row, " "))
			}
		}
	}
	t.Logf("%d routes × %d callers: %d requests", len(keys2), len(callers), n)
}
