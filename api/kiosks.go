package api

import (
	"context"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/survey"
)

// KioskDevices is what lobby tablets call: pairing with a code, and — with the device token it
// returns — their configuration, batches of answers and heartbeats. Authenticate checks device
// tokens only; staff tokens are not device tokens.
type KioskDevices interface {
	Authenticate(ctx context.Context, token string) (survey.Principal, error)
	Pair(ctx context.Context, code string) (kiosk.Paired, error)
	Config(ctx context.Context, p survey.Principal) (kiosk.Config, error)
	Batch(ctx context.Context, p survey.Principal, b kiosk.Batch) (kiosk.BatchResult, error)
	Heartbeat(ctx context.Context, p survey.Principal, hb kiosk.Heartbeat) (kiosk.HeartbeatReply, error)
}

// KioskFleet is what staff do with kiosks and offices' hours. Every method enforces tenancy from
// the principal: what the caller may not read is not found, what it may read but not manage is
// forbidden.
type KioskFleet interface {
	Create(ctx context.Context, p survey.Principal, req kiosk.NewKiosk) (kiosk.Created, error)
	NewPairing(ctx context.Context, p survey.Principal, id survey.ID) (kiosk.Pairing, error)
	PendingPairing(ctx context.Context, p survey.Principal, id survey.ID) (kiosk.PairingSheet, error)
	List(ctx context.Context, p survey.Principal, agencyID survey.ID) ([]kiosk.Listing, error)
	Revoke(ctx context.Context, p survey.Principal, id survey.ID) error
	Stats(ctx context.Context, p survey.Principal, id survey.ID, fromDay, toDay string) (kiosk.Stats, error)
	Hours(ctx context.Context, p survey.Principal, officeID survey.ID) (survey.OfficeHours, error)
	SetHours(ctx context.Context, p survey.Principal, officeID survey.ID, h survey.OfficeHours) (survey.OfficeHours, error)
}

// Kiosks is the kiosk channel (channels/kiosk.Service).
type Kiosks interface {
	KioskDevices
	KioskFleet
}

// kiosks returns the channel, or the 503 that explains it was not wired.
func (s *Server) kiosks() (Kiosks, error) {
	if s.d.Kiosks == nil {
		return nil, unavailable("the kiosk channel")
	}
	return s.d.Kiosks, nil
}

// withBody is a kiosk handler that decodes a JSON body, calls the channel with the caller's
// principal and answers what it returns with status.
func withBody[Req, Res any](s *Server, c echo.Context, status int, call func(k Kiosks, ctx context.Context, p survey.Principal, req Req) (Res, error)) error {
	k, err := s.kiosks()
	if err != nil {
		return err
	}
	var req Req
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p, _ := principal(c)
	res, err := call(k, c.Request().Context(), p, req)
	if err != nil {
		return err
	}
	return c.JSON(status, res)
}

// onPathID starts a staff handler about one kiosk or office: the channel, the :id of the path,
// and the caller.
func (s *Server) onPathID(c echo.Context) (Kiosks, survey.ID, survey.Principal, error) {
	k, err := s.kiosks()
	if err != nil {
		return nil, 0, survey.Principal{}, err
	}
	id, err := parseID(c, "id")
	if err != nil {
		return nil, 0, survey.Principal{}, newError(survey.ECodeNotFound) // not an id of ours
	}
	p, _ := principal(c)
	return k, id, p, nil
}

// pairURL is where a tablet pairs with code: the kiosk app with the code in its fragment (never
// sent to the server by the browser, so it stays out of access logs), on the host and scheme
// the caller reached.
func pairURL(c echo.Context, code string) string {
	return c.Scheme() + "://" + c.Request().Host + "/kiosk/#code=" + url.QueryEscape(code)
}

// pairKiosk trades a pairing code for a device token: 200 {token, kiosk}; 422 with field "code"
// for an unknown, expired or used code.
func (s *Server) pairKiosk(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return withBody(s, c, http.StatusOK, func(k Kiosks, ctx context.Context, _ survey.Principal, req struct {
		Code string `json:"code"`
	}) (kiosk.Paired, error) {
		return k.Pair(ctx, req.Code)
	})
}

// kioskConfigView is a kiosk's configuration with the survey as GET /agencies/{id}/survey
// gives it (null when the agency has none published).
type kioskConfigView struct {
	kiosk.Config
	Survey *surveyView `json:"survey"`
}

// kioskConfig answers the calling kiosk's configuration.
func (s *Server) kioskConfig(c echo.Context) error {
	k, err := s.kiosks()
	if err != nil {
		return err
	}
	p, _ := principal(c)
	ctx := c.Request().Context()
	cfg, err := k.Config(ctx, p)
	if err != nil {
		return err
	}
	view := kioskConfigView{Config: cfg}
	if cfg.Survey != nil {
		var offices []survey.Office
		if s.d.Catalog != nil {
			if offices, err = s.d.Catalog.Offices(ctx, cfg.Kiosk.AgencyID); err != nil {
				return err
			}
		}
		sv := newSurveyView(cfg.Kiosk.AgencyName, *cfg.Survey, offices)
		view.Survey = &sv
	}
	return c.JSON(http.StatusOK, view)
}

// kioskResponses takes a batch of queued answers: 200 with a result per item (accepted,
// duplicate or rejected with the reason); 422 for a batch without sent_at or with no or too many
// items; a 5xx means nothing is settled and the tablet retries.
func (s *Server) kioskResponses(c echo.Context) error {
	return withBody(s, c, http.StatusOK, Kiosks.Batch)
}

// kioskHeartbeat records a tablet's health report: 200 {server_time, skew_ms, open_now}.
func (s *Server) kioskHeartbeat(c echo.Context) error {
	return withBody(s, c, http.StatusOK, Kiosks.Heartbeat)
}

// createdView is a new kiosk with the URL a tablet pairs at.
type createdView struct {
	kiosk.Created
	PairURL string `json:"pair_url"`
}

// createKiosk makes a kiosk in an office of an agency the caller manages: 201 with its first
// pairing code; 404 for an unknown office or one of another agency alike.
func (s *Server) createKiosk(c echo.Context) error {
	return withBody(s, c, http.StatusCreated, func(k Kiosks, ctx context.Context, p survey.Principal, req kiosk.NewKiosk) (createdView, error) {
		created, err := k.Create(ctx, p, req)
		return createdView{Created: created, PairURL: pairURL(c, created.Code)}, err
	})
}

// pairingView is a new pairing code with the URL a tablet pairs at.
type pairingView struct {
	kiosk.Pairing
	PairURL string `json:"pair_url"`
}

// newPairing gives a kiosk a new pairing code: 200 {pairing_code, pairing_expires_at, pair_url}.
func (s *Server) newPairing(c echo.Context) error {
	k, id, p, err := s.onPathID(c)
	if err != nil {
		return err
	}
	pairing, err := k.NewPairing(c.Request().Context(), p, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pairingView{Pairing: pairing, PairURL: pairURL(c, pairing.Code)})
}

// pendingPairing loads the kiosk's pending code and the QR code of its pair URL (PNG).
func (s *Server) pendingPairing(c echo.Context) (kiosk.PairingSheet, string, []byte, error) {
	k, id, p, err := s.onPathID(c)
	if err != nil {
		return kiosk.PairingSheet{}, "", nil, err
	}
	sheet, err := k.PendingPairing(c.Request().Context(), p, id)
	if err != nil {
		return sheet, "", nil, err
	}
	link := pairURL(c, sheet.Code)
	png, err := qrcode.Encode(link, qrcode.Medium, 512)
	if err != nil {
		return sheet, "", nil, survey.Wrap(survey.ECodeInternal, err, "ساخت کد QR ناموفق بود.", "cannot make the QR code")
	}
	return sheet, link, png, nil
}

// pairingQR answers the QR code of the kiosk's pair URL as a PNG; 404 when it has no valid code.
func (s *Server) pairingQR(c echo.Context) error {
	_, _, png, err := s.pendingPairing(c)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/png", png)
}

// pairingSheet answers the printable Persian pairing instructions (HTML, A4); 404 when the kiosk
// has no valid code.
func (s *Server) pairingSheet(c echo.Context) error {
	sheet, link, png, err := s.pendingPairing(c)
	if err != nil {
		return err
	}
	return s.pages.KioskPairing(c, web.PairingSheet{
		KioskName: sheet.KioskName, AgencyName: sheet.AgencyName, OfficeName: sheet.OfficeName,
		Code: kiosk.DisplayCode(sheet.Code), PairURL: link, ExpiresAt: sheet.ExpiresAt,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
	})
}

// listKiosks answers the kiosks the caller may see with their status; ?agency_id= filters (an
// agency role asking for another agency gets 404).
func (s *Server) listKiosks(c echo.Context) error {
	k, err := s.kiosks()
	if err != nil {
		return err
	}
	var agency survey.ID
	if raw := strings.TrimSpace(c.QueryParam("agency_id")); raw != "" {
		n, err := strconv.ParseInt(survey.NormalizeDigits(raw), 10, 64)
		if err != nil || n <= 0 {
			return &survey.Error{Code: survey.ECodeInvalid, Message: "agency_id must be an agency id", MessageFA: "شناسهٔ دستگاه نامعتبر است.",
				Fields: map[string]survey.FieldError{"agency_id": {Code: "invalid_id", Message: "agency_id must be an agency id", MessageFA: "شناسهٔ دستگاه نامعتبر است."}}}
		}
		agency = survey.ID(n)
	}
	p, _ := principal(c)
	list, err := k.List(c.Request().Context(), p, agency)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]kiosk.Listing{"kiosks": list})
}

// revokeKiosk clears a kiosk's device token and pending code: 204.
func (s *Server) revokeKiosk(c echo.Context) error {
	k, id, p, err := s.onPathID(c)
	if err != nil {
		return err
	}
	if err := k.Revoke(c.Request().Context(), p, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// kioskStats answers a kiosk's presses per day; from and to are read like the score API's
// (Gregorian or Jalali, Persian digits welcome).
func (s *Server) kioskStats(c echo.Context) error {
	k, id, p, err := s.onPathID(c)
	if err != nil {
		return err
	}
	var days [2]string
	for i, name := range []string{"from", "to"} {
		raw := c.QueryParam(name)
		if raw == "" {
			continue
		}
		d, err := analytics.ParseDayParam(raw, name)
		if err != nil {
			return err
		}
		days[i] = d.Format(survey.DayFormat)
	}
	stats, err := k.Stats(c.Request().Context(), p, id, days[0], days[1])
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, stats)
}
