package api

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
)

// WebLinks signs and checks the web form's links and the poster cookie (channels/weblink.Keys).
type WebLinks interface {
	Verify(token string, now time.Time) (weblink.Claims, error)
	PosterLink(agency, office survey.ID) (string, error)
	AnsweredCookie(office survey.ID, now time.Time, secure bool) *http.Cookie
	AnsweredToday(r *http.Request, office survey.ID, now time.Time) bool
}

// LinkStore is what the web form keeps: which single-use links are used (the primary key of
// weblink_uses decides a double submit), and offices, to find a poster's agency. The SQL store
// implements it.
type LinkStore interface {
	ClaimLink(ctx context.Context, tokenID, responseID string, at time.Time) (bool, error)
	ReleaseLink(ctx context.Context, tokenID, responseID string) error
	LinkUsed(ctx context.Context, tokenID string) (bool, error)
	Office(ctx context.Context, id survey.ID) (survey.Office, error)
	// LinkAnswered marks an invitation answered through its link, for the funnel.
	LinkAnswered(ctx context.Context, invitation survey.ID, at time.Time) error
	// ClaimInvitation and ReleaseInvitation hold an invitation's one counted answer, so that an
	// SMS reply and the link's form cannot both count for one visit.
	ClaimInvitation(ctx context.Context, invitation survey.ID, claim string) (bool, error)
	ReleaseInvitation(ctx context.Context, invitation survey.ID, claim string) error
}

// DefaultFormRateLimit is Deps.FormRateLimit's default: answers per minute one client IP may post
// to the web form. A phone network may put many citizens behind one address, so it is generous;
// it only stops a script from filling a poster's office with answers.
const DefaultFormRateLimit = 20

// form is one request to a link's form: what the link says and the survey it opens.
type form struct {
	token   string
	claims  weblink.Claims
	page    web.FormPage
	version survey.Version
}

// linkForm serves the web form of a link of kind: GET shows it, POST answers it. Every outcome is
// a Persian page, never JSON: 404 for a link that is not ours, 410 for an expired or used one.
func (s *Server) linkForm(kind weblink.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, notice, status := s.openForm(c, kind)
		if notice != nil {
			return s.pages.NoticePage(c, status, *notice)
		}
		if c.Request().Method != http.MethodPost {
			return s.pages.Form(c, http.StatusOK, f.page)
		}
		return s.answerForm(c, f)
	}
}

// openForm checks the link and loads its survey; a non-nil notice (with its status) is the page
// to show instead of the form.
func (s *Server) openForm(c echo.Context, kind weblink.Kind) (form, *web.Notice, int) {
	if s.d.WebLinks == nil || s.d.LinkStore == nil || s.d.Catalog == nil || s.d.Intake == nil {
		return form{}, &web.NoticeUnavailable, http.StatusServiceUnavailable
	}
	ctx, now := c.Request().Context(), time.Now()
	token := c.Param("token")
	claims, err := s.d.WebLinks.Verify(token, now)
	switch {
	case errors.Is(err, weblink.ErrExpired):
		return form{}, &web.NoticeExpired, http.StatusGone
	case err != nil || claims.Kind != kind:
		return form{}, &web.NoticeBad, http.StatusNotFound
	}
	if kind == weblink.KindInvitation {
		used, err := s.d.LinkStore.LinkUsed(ctx, claims.ID)
		if err != nil {
			s.log.Warn("web form: reading link use", "err", err)
			return form{}, &web.NoticeUnavailable, http.StatusServiceUnavailable
		}
		if used {
			return form{}, &web.NoticeUsed, http.StatusGone
		}
	} else if s.d.WebLinks.AnsweredToday(c.Request(), claims.OfficeID, now) {
		return form{}, &web.NoticeAnsweredToday, http.StatusOK
	}
	agency, err := s.d.Catalog.Agency(ctx, claims.AgencyID)
	if err != nil {
		return form{}, noticeFor(err), statusFor(err)
	}
	v, err := s.d.Catalog.ActiveVersionFor(ctx, claims.AgencyID, claims.OfficeID, survey.ChannelWeb)
	if err != nil {
		if survey.ErrorCode(err) == survey.ECodeNotFound {
			return form{}, &web.NoticeNoSurvey, http.StatusNotFound
		}
		return form{}, &web.NoticeUnavailable, http.StatusServiceUnavailable
	}
	page := web.FormPage{Action: weblink.FormPath(kind, token), Token: token, AgencyName: agency.Name, Version: v,
		Contact: s.d.Cases != nil}
	if claims.OfficeID != 0 {
		offices, err := s.d.Catalog.Offices(ctx, claims.AgencyID)
		if err != nil {
			return form{}, &web.NoticeUnavailable, http.StatusServiceUnavailable
		}
		for _, o := range offices {
			if o.ID == claims.OfficeID {
				page.OfficeName = o.Name
			}
		}
	}
	return form{token: token, claims: claims, page: page, version: v}, nil, 0
}

// noticeFor is the page for an error loading what a link names: not found is a bad link.
func noticeFor(err error) *web.Notice {
	if survey.ErrorCode(err) == survey.ECodeNotFound {
		return &web.NoticeBad
	}
	return &web.NoticeUnavailable
}

func statusFor(err error) int {
	if survey.ErrorCode(err) == survey.ECodeNotFound {
		return http.StatusNotFound
	}
	return http.StatusServiceUnavailable
}

// answerForm takes the posted answers through intake, as channel web, anonymous, with the link's
// office (and invitation). An invitation link is claimed before intake stores the answer and
// released if it cannot: the citizen is thanked only once the answer is durable and the link
// spent, and of two racing posts the claim lets exactly one through.
func (s *Server) answerForm(c echo.Context, f form) error {
	req := c.Request()
	if err := spend(c, s.formLimiter, c.RealIP()); err != nil {
		return s.pages.NoticePage(c, http.StatusTooManyRequests, web.NoticeTooMany)
	}
	if err := req.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return s.pages.NoticePage(c, http.StatusBadRequest, web.NoticeBad)
	}
	if req.PostForm.Get(web.TokenField) != f.token {
		return s.pages.NoticePage(c, http.StatusForbidden, web.NoticeBad)
	}
	answers := web.Answers(f.version, req.PostForm)
	// The consent to be contacted counts only for a low rating; its number is checked before
	// anything is stored, so a mistyped one costs the citizen nothing but a correction.
	contact, err := s.formContact(f.version, answers, req.PostForm)
	if err != nil {
		f.page.Values = req.PostForm
		f.page.ContactError = persianMessage(err)
		return s.pages.Form(c, http.StatusUnprocessableEntity, f.page)
	}
	sub := survey.Submission{AgencyID: f.claims.AgencyID, OfficeID: f.claims.OfficeID, SurveyID: f.version.SurveyID,
		SurveyVersion: f.version.Version, Source: "weblink:" + f.claims.Kind.String(), Answers: answers}
	origin := survey.Origin{Channel: survey.ChannelWeb, InvitationID: f.claims.InvitationID}
	ctx, now := req.Context(), time.Now()

	single := f.claims.Kind == weblink.KindInvitation
	if single {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		sub.ID = id.String()
		won, err := s.d.LinkStore.ClaimLink(ctx, f.claims.ID, sub.ID, now)
		if err != nil {
			s.log.Warn("web form: claiming the link", "err", err)
			return s.pages.NoticePage(c, http.StatusServiceUnavailable, web.NoticeUnavailable)
		}
		if !won {
			return s.pages.NoticePage(c, http.StatusGone, web.NoticeUsed)
		}
		if inv := f.claims.InvitationID; inv != 0 {
			// The visit may have been answered by an SMS reply already.
			held, err := s.d.LinkStore.ClaimInvitation(ctx, inv, "link:"+sub.ID)
			if err != nil || !held {
				s.releaseLink(ctx, f.claims, sub.ID, false)
				if err != nil {
					s.log.Warn("web form: claiming the invitation", "err", err)
					return s.pages.NoticePage(c, http.StatusServiceUnavailable, web.NoticeUnavailable)
				}
				return s.pages.NoticePage(c, http.StatusGone, web.NoticeUsed)
			}
		}
	}
	rc, err := s.d.Intake.Submit(ctx, origin, &sub)
	if err != nil {
		if single {
			s.releaseLink(ctx, f.claims, sub.ID, true)
		}
		var se *survey.Error
		if errors.As(err, &se) && se.Code == survey.ECodeInvalid {
			f.page.Values = req.PostForm
			f.page.Errors, f.page.General = web.FieldMessages(f.version, answers, se)
			return s.pages.Form(c, http.StatusUnprocessableEntity, f.page)
		}
		s.log.Warn("web form: intake refused an answer", "code", survey.ErrorCode(err), "err", err)
		return s.pages.NoticePage(c, http.StatusServiceUnavailable, web.NoticeUnavailable)
	}
	if single && f.claims.InvitationID != 0 {
		if err := s.d.LinkStore.LinkAnswered(ctx, f.claims.InvitationID, now); err != nil {
			s.log.Warn("web form: marking the invitation answered", "err", err)
		}
	}
	if !single {
		c.SetCookie(s.d.WebLinks.AnsweredCookie(f.claims.OfficeID, now, c.Scheme() == "https"))
	}
	if contact != nil {
		contact.AgencyID, contact.OfficeID, contact.ResponseID = f.claims.AgencyID, f.claims.OfficeID, rc.Response.ID
		if _, _, err := s.d.Cases.Open(ctx, *contact); err != nil {
			// The answer is stored; only the follow-up failed. The number is never logged.
			s.log.Warn("web form: opening the follow-up case failed", "agency", f.claims.AgencyID, "code", survey.ErrorCode(err))
			return s.pages.NoticePage(c, http.StatusOK, web.NoticeThanks)
		}
		return s.pages.NoticePage(c, http.StatusOK, web.NoticeThanksCase)
	}
	return s.pages.NoticePage(c, http.StatusOK, web.NoticeThanks)
}

// releaseLink undoes a single-use link's claim (and, with invitation, the invitation's claim)
// after an answer that could not be stored, so the citizen can try again. It uses a background
// context: the release must happen even if the citizen went away.
func (s *Server) releaseLink(ctx context.Context, claims weblink.Claims, responseID string, invitation bool) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.d.LinkStore.ReleaseLink(rctx, claims.ID, responseID); err != nil {
		s.log.Warn("web form: releasing the link after a refused answer", "err", err)
	}
	if invitation && claims.InvitationID != 0 {
		if err := s.d.LinkStore.ReleaseInvitation(rctx, claims.InvitationID, "link:"+responseID); err != nil {
			s.log.Warn("web form: releasing the invitation after a refused answer", "err", err)
		}
	}
}

// posterOffice starts a poster handler: the office of the path, which the caller must manage.
func (s *Server) posterOffice(c echo.Context) (survey.Office, string, error) {
	if s.d.WebLinks == nil || s.d.LinkStore == nil {
		return survey.Office{}, "", unavailable("the web-link channel")
	}
	id, err := parseID(c, "id")
	if err != nil {
		return survey.Office{}, "", newError(survey.ECodeNotFound)
	}
	p, _ := principal(c)
	office, err := s.d.LinkStore.Office(c.Request().Context(), id)
	if err != nil {
		return office, "", err
	}
	if !p.CanReadAgency(office.AgencyID) {
		return office, "", newError(survey.ECodeNotFound) // other agencies' offices do not exist
	}
	if !p.CanManageAgency(office.AgencyID) {
		return office, "", survey.Errorf(survey.ECodeForbidden, "ساخت پوستر فقط برای مدیران این دستگاه است.", "only the agency's admins may make posters")
	}
	token, err := s.d.WebLinks.PosterLink(office.AgencyID, office.ID)
	if err != nil {
		return office, "", survey.Wrap(survey.ECodeInternal, err, "ساخت پیوند ناموفق بود.", "cannot make the poster link")
	}
	return office, c.Scheme() + "://" + c.Request().Host + weblink.FormPath(weblink.KindPoster, token), nil
}

// posterView is an office's poster link and where its printable forms are.
type posterView struct {
	OfficeID survey.ID `json:"office_id"`
	AgencyID survey.ID `json:"agency_id"`
	URL      string    `json:"url"`
	PNG      string    `json:"png"`
	SVG      string    `json:"svg"`
	HTML     string    `json:"html"`
}

// officePoster answers an office's poster link (a new token each call; every one works and none
// expires): 200; 403 for staff who may read but not manage the agency; 404 otherwise.
func (s *Server) officePoster(c echo.Context) error {
	office, link, err := s.posterOffice(c)
	if err != nil {
		return err
	}
	base := "/api/v1/offices/" + office.ID.String() + "/poster"
	return c.JSON(http.StatusOK, posterView{OfficeID: office.ID, AgencyID: office.AgencyID, URL: link,
		PNG: base + ".png", SVG: base + ".svg", HTML: base + ".html"})
}

// posterPNG answers the QR code of an office's poster link as a PNG.
func (s *Server) posterPNG(c echo.Context) error {
	return s.posterQR(c, "image/png", func(link string) ([]byte, error) { return weblink.QRPNG(link, 512) })
}

// posterSVG answers the QR code of an office's poster link as an SVG, sharp at any print size.
func (s *Server) posterSVG(c echo.Context) error {
	return s.posterQR(c, "image/svg+xml", weblink.QRSVG)
}

// posterQR answers the QR code of an office's poster link drawn by draw.
func (s *Server) posterQR(c echo.Context, contentType string, draw func(link string) ([]byte, error)) error {
	_, link, err := s.posterOffice(c)
	if err != nil {
		return err
	}
	img, err := draw(link)
	if err != nil {
		return survey.Wrap(survey.ECodeInternal, err, "ساخت کد QR ناموفق بود.", "cannot make the QR code")
	}
	return c.Blob(http.StatusOK, contentType, img)
}

// posterHTML answers the printable A4 poster of an office (Persian, its QR code inline).
func (s *Server) posterHTML(c echo.Context) error {
	office, link, err := s.posterOffice(c)
	if err != nil {
		return err
	}
	png, err := weblink.QRPNG(link, 512)
	if err != nil {
		return survey.Wrap(survey.ECodeInternal, err, "ساخت کد QR ناموفق بود.", "cannot make the QR code")
	}
	agencyName := ""
	if s.d.Catalog != nil {
		if a, err := s.d.Catalog.Agency(c.Request().Context(), office.AgencyID); err == nil {
			agencyName = a.Name
		}
	}
	return s.pages.Poster(c, web.PosterSheet{AgencyName: agencyName, OfficeName: office.Name, URL: link,
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
}

// formContact reads the web form's consent to be contacted: a case to open when the box is
// ticked, a number given and the rating (the survey's first rating5 question) is 1 or 2; nil
// otherwise (a ticked box with a high rating is ignored, and its number never stored). A ticked
// box with a low rating and a number that is not a mobile number is an error for the form.
func (s *Server) formContact(v survey.Version, answers []survey.SubmittedAnswer, form url.Values) (*survey.NewCase, error) {
	if s.d.Cases == nil || form.Get(web.ConsentField) != "1" {
		return nil, nil
	}
	rating, ok := lowRating(v, answers)
	if !ok {
		return nil, nil
	}
	phone := strings.TrimSpace(form.Get(web.PhoneField))
	if phone == "" {
		return nil, survey.Errorf(survey.ECodeInvalid, "برای پیگیری، شمارهٔ همراه خود را بنویسید.", "a phone number is needed for the follow-up")
	}
	if _, err := sms.NormalizePhone(phone); err != nil {
		return nil, err
	}
	return &survey.NewCase{Channel: survey.ChannelWeb, Rating: rating, Phone: phone}, nil
}

// lowRating returns the answer to v's first rating5 question when it is 1 or 2.
func lowRating(v survey.Version, answers []survey.SubmittedAnswer) (int, bool) {
	q, ok := v.SMSRatingQuestion()
	if !ok {
		return 0, false
	}
	for _, a := range answers {
		if a.QuestionID != q.ID {
			continue
		}
		if r, ok := survey.LowRating(a.Value); ok {
			return r, true
		}
	}
	return 0, false
}

// persianMessage is the Persian message of a *survey.Error (a generic one otherwise).
func persianMessage(err error) string {
	var se *survey.Error
	if errors.As(err, &se) && se.MessageFA != "" {
		return se.MessageFA
	}
	return "شمارهٔ همراه معتبر نیست."
}
