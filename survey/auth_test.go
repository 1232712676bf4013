package survey_test

import (
	"errors"
	"testing"

	"github.com/afkar-gov/afkar/survey"
)

var (
	anonymous    = survey.Principal{}
	admin        = survey.Principal{Role: survey.RoleProvinceAdmin}
	provinceUser = survey.Principal{Role: survey.RoleProvinceStaff}
	agencyUser   = survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: 7}
	kioskFleet   = survey.Principal{Role: survey.RoleIntegration, AgencyID: 7, Channel: survey.ChannelKiosk}
	lobbyKiosk   = survey.Principal{Role: survey.RoleIntegration, AgencyID: 7, OfficeID: 11, Channel: survey.ChannelKiosk}
	smsBridge    = survey.Principal{Role: survey.RoleIntegration, AgencyID: 7, Channel: survey.ChannelSMS}
	legacy       = survey.Principal{Role: survey.RoleIntegration}
)

// forbiddenField checks err is a bilingual 403 naming field ("" for none).
func forbiddenField(t *testing.T, err error, field string) {
	t.Helper()
	var e *survey.Error
	if !errors.As(err, &e) || e.Code != survey.ECodeForbidden || e.Message == "" || e.MessageFA == "" {
		t.Fatalf("error %v, want a bilingual forbidden error", err)
	}
	if field == "" {
		return
	}
	if f, ok := e.Fields[field]; !ok || f.Code != "forbidden" || f.MessageFA == "" {
		t.Fatalf("fields %+v do not name %s", e.Fields, field)
	}
}

func TestReadPermissions(t *testing.T) {
	for _, c := range []struct {
		p            survey.Principal
		read7, read8 bool
		staff        bool
	}{
		{anonymous, false, false, false},
		{admin, true, true, true},
		{provinceUser, true, true, true},
		{agencyUser, true, false, true},
		{survey.Principal{Role: survey.RoleAgencyStaff}, false, false, true},
		{kioskFleet, false, false, false},
	} {
		if c.p.CanReadAgency(7) != c.read7 || c.p.CanReadAgency(8) != c.read8 || c.p.IsStaff() != c.staff {
			t.Errorf("%+v: read 7 %v, read 8 %v, staff %v", c.p, c.p.CanReadAgency(7), c.p.CanReadAgency(8), c.p.IsStaff())
		}
	}
	if !anonymous.Anonymous() || kioskFleet.Anonymous() {
		t.Error("Anonymous is wrong")
	}
}

func TestSubmitPermissions(t *testing.T) {
	t.Run("channel", func(t *testing.T) {
		for p, want := range map[*survey.Principal]survey.Channel{&anonymous: survey.ChannelWeb, &kioskFleet: survey.ChannelKiosk, &smsBridge: survey.ChannelSMS} {
			if ch, err := p.SubmitChannel(); err != nil || ch != want {
				t.Errorf("%+v: SubmitChannel = %q, %v; want %q", *p, ch, err, want)
			}
		}
		for _, p := range []survey.Principal{admin, provinceUser, agencyUser} {
			_, err := p.SubmitChannel()
			forbiddenField(t, err, "")
		}
		_, err := legacy.SubmitChannel()
		forbiddenField(t, err, "channel")
	})
	t.Run("scope", func(t *testing.T) {
		for _, ok := range []struct {
			p              survey.Principal
			agency, office survey.ID
		}{
			{anonymous, 8, 0}, {anonymous, 7, 99}, {kioskFleet, 7, 0}, {kioskFleet, 7, 12}, {lobbyKiosk, 7, 11},
		} {
			if err := ok.p.CanSubmit(ok.agency, ok.office); err != nil {
				t.Errorf("%+v for %d/%d: %v", ok.p, ok.agency, ok.office, err)
			}
		}
		forbiddenField(t, kioskFleet.CanSubmit(8, 0), "agency_id")
		forbiddenField(t, lobbyKiosk.CanSubmit(7, 12), "office_id")
		forbiddenField(t, lobbyKiosk.CanSubmit(7, 0), "office_id")
		forbiddenField(t, lobbyKiosk.CanSubmit(8, 11), "agency_id")
		forbiddenField(t, legacy.CanSubmit(7, 0), "agency_id")
		for _, p := range []survey.Principal{admin, provinceUser, agencyUser} {
			forbiddenField(t, p.CanSubmit(7, 0), "")
		}
	})
}

func TestOriginApply(t *testing.T) {
	sub := func(ch survey.Channel, agency, office survey.ID) *survey.Submission {
		return &survey.Submission{AgencyID: agency, OfficeID: office, Channel: ch}
	}
	web, err := survey.WebOrigin(anonymous)
	if err != nil || web.Channel != survey.ChannelWeb {
		t.Fatalf("WebOrigin(anonymous) = %+v, %v", web, err)
	}
	if _, err := survey.WebOrigin(agencyUser); survey.ErrorCode(err) != survey.ECodeForbidden {
		t.Fatalf("WebOrigin(staff) = %v, want forbidden", err)
	}

	// The origin's channel is recorded whether or not the body names it.
	for _, ch := range []survey.Channel{"", survey.ChannelWeb} {
		s := sub(ch, 7, 0)
		if err := web.Apply(s); err != nil || s.Channel != survey.ChannelWeb {
			t.Errorf("body channel %q: %v, channel %q", ch, err, s.Channel)
		}
	}
	// A different channel in the body is refused, whatever it claims.
	for _, ch := range []survey.Channel{survey.ChannelKiosk, survey.ChannelSMS, "fax"} {
		err := web.Apply(sub(ch, 7, 0))
		if got := fieldCodes(t, err); got["channel"] != "channel_mismatch" {
			t.Errorf("body channel %q: fields %v", ch, got)
		}
	}
	// An integration submits on its own channel, for its own scope; an office-scoped one fills an
	// empty office.
	kiosk := survey.Origin{Channel: survey.ChannelKiosk, Principal: lobbyKiosk, DeviceID: 3}
	s := sub("", 7, 0)
	if err := kiosk.Apply(s); err != nil || s.OfficeID != 11 || s.Channel != survey.ChannelKiosk {
		t.Fatalf("lobby kiosk: %v, %+v", err, s)
	}
	forbiddenField(t, kiosk.Apply(sub("", 7, 12)), "office_id")
	forbiddenField(t, kiosk.Apply(sub("", 8, 11)), "agency_id")
	forbiddenField(t, survey.Origin{Channel: survey.ChannelWeb, Principal: kioskFleet}.Apply(sub("", 7, 0)), "channel")
	if err := (survey.Origin{Channel: "fax"}).Apply(sub("", 7, 0)); survey.ErrorCode(err) != survey.ECodeInternal {
		t.Fatalf("an origin without a valid channel is a bug: %v", err)
	}
}

func TestPrincipalCheck(t *testing.T) {
	for _, p := range []survey.Principal{admin, provinceUser, agencyUser, kioskFleet, lobbyKiosk, smsBridge} {
		if err := p.Check(); err != nil {
			t.Errorf("%+v refused: %v", p, err)
		}
	}
	for _, c := range []struct {
		p     survey.Principal
		field string
	}{
		{survey.Principal{Role: "root"}, "role"},
		{survey.Principal{Role: survey.RoleAgencyStaff}, "agency_id"},
		{survey.Principal{Role: survey.RoleIntegration, Channel: survey.ChannelKiosk}, "agency_id"},
		{survey.Principal{Role: survey.RoleIntegration, AgencyID: 7}, "channel"},
		{survey.Principal{Role: survey.RoleIntegration, AgencyID: 7, Channel: "fax"}, "channel"},
		{survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: 7, OfficeID: 11}, "office_id"},
		{survey.Principal{Role: survey.RoleAgencyStaff, AgencyID: 7, Channel: survey.ChannelWeb}, "channel"},
		{survey.Principal{Role: survey.RoleProvinceStaff, AgencyID: 7}, "agency_id"},
		{survey.Principal{Role: survey.RoleProvinceAdmin, Name: "a\x00b"}, "name"},
	} {
		if got := fieldCodes(t, c.p.Check()); got[c.field] == "" {
			t.Errorf("%+v: fields %v do not name %s", c.p, got, c.field)
		}
	}
}

// TestAgencyAdminsManageOnlyTheirAgency: managing (offices, hours, kiosks) is narrower than
// reading — viewers, province staff, machines and kiosks may not; an agency admin only for its own
// agency.
func TestAgencyAdminsManageOnlyTheirAgency(t *testing.T) {
	agencyAdmin := survey.Principal{Role: survey.RoleAgencyAdmin, AgencyID: 7}
	device := survey.Principal{Role: survey.RoleKiosk, AgencyID: 7, OfficeID: 11, KioskID: 3, Channel: survey.ChannelKiosk}
	for _, c := range []struct {
		p                survey.Principal
		manage7, manage8 bool
		read7, staff     bool
	}{
		{admin, true, true, true, true},
		{agencyAdmin, true, false, true, true},
		{survey.Principal{Role: survey.RoleAgencyAdmin}, false, false, false, true},
		{agencyUser, false, false, true, true},
		{provinceUser, false, false, true, true},
		{kioskFleet, false, false, false, false},
		{device, false, false, false, false},
		{anonymous, false, false, false, false},
	} {
		if c.p.CanManageAgency(7) != c.manage7 || c.p.CanManageAgency(8) != c.manage8 || c.p.CanReadAgency(7) != c.read7 || c.p.IsStaff() != c.staff {
			t.Errorf("%+v: manage 7 %v, manage 8 %v, read 7 %v, staff %v", c.p, c.p.CanManageAgency(7), c.p.CanManageAgency(8), c.p.CanReadAgency(7), c.p.IsStaff())
		}
	}
	if err := agencyAdmin.Check(); err != nil {
		t.Errorf("agency admin with an agency: %v", err)
	}
	if err := (survey.Principal{Role: survey.RoleAgencyAdmin}).Check(); err == nil {
		t.Error("an agency admin without an agency was accepted")
	}
	// A paired kiosk submits for its own office only, on the kiosk channel, and its flag and
	// device reach the origin's checks untouched.
	if err := device.CanSubmit(7, 11); err != nil {
		t.Errorf("kiosk for its own office: %v", err)
	}
	forbiddenField(t, device.CanSubmit(7, 12), "office_id")
	forbiddenField(t, device.CanSubmit(8, 11), "agency_id")
	forbiddenField(t, survey.Principal{Role: survey.RoleKiosk, AgencyID: 7}.CanSubmit(7, 0), "")
	sub := survey.Submission{AgencyID: 7}
	if err := (survey.Origin{Channel: survey.ChannelKiosk, Principal: device, DeviceID: 3, Flag: survey.FlagBurst}).Apply(&sub); err != nil || sub.OfficeID != 11 || sub.Channel != survey.ChannelKiosk {
		t.Errorf("kiosk origin: %v, office %d, channel %q", err, sub.OfficeID, sub.Channel)
	}
	forbiddenField(t, (survey.Origin{Channel: survey.ChannelWeb, Principal: device}).Apply(&survey.Submission{AgencyID: 7}), "channel")
	for _, f := range append([]survey.Flag{""}, survey.Flags...) {
		if !f.Valid() {
			t.Errorf("flag %q not valid", f)
		}
	}
	if survey.Flag("nope").Valid() {
		t.Error("unknown flag valid")
	}
}
