package main

import (
	"strings"
	"testing"
	"time"

	"github.com/afkar-gov/afkar/channels/sms"
)

func TestConfigSMS(t *testing.T) {
	c, err := LoadConfig(envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMSFrequencyCap != 720*time.Hour || c.SMSInviteWindow != 48*time.Hour || c.SMSRate != sms.DefaultRate ||
		c.SMSQuietHours.String() != "22:00-08:00" {
		t.Fatalf("SMS defaults: cap %v window %v rate %v quiet %q", c.SMSFrequencyCap, c.SMSInviteWindow, c.SMSRate, c.SMSQuietHours)
	}
	c, err = LoadConfig(envMap(map[string]string{"AFKAR_SMS_FREQUENCY_CAP": "168h", "AFKAR_SMS_INVITE_WINDOW": "24h",
		"AFKAR_SMS_RATE": "0.5", "AFKAR_SMS_QUIET_HOURS": "21:30-07:00"}))
	if err != nil || c.SMSFrequencyCap != 168*time.Hour || c.SMSInviteWindow != 24*time.Hour || c.SMSRate != 0.5 ||
		c.SMSQuietHours.String() != "21:30-07:00" {
		t.Fatalf("SMS settings: %+v, %v", c, err)
	}
	// Set and empty (or "off") disables quiet hours; unset keeps the default.
	defer func(f func(string) bool) { envSet = f }(envSet)
	envSet = func(k string) bool { return k == "AFKAR_SMS_QUIET_HOURS" }
	if c, err = LoadConfig(envMap(nil)); err != nil || c.SMSQuietHours.Enabled() {
		t.Fatalf("empty quiet hours: %q, %v", c.SMSQuietHours, err)
	}
	if c, err = LoadConfig(envMap(map[string]string{"AFKAR_SMS_QUIET_HOURS": "off"})); err != nil || c.SMSQuietHours.Enabled() {
		t.Fatalf("off: %v", err)
	}
	_, err = LoadConfig(envMap(map[string]string{"AFKAR_SMS_QUIET_HOURS": "late", "AFKAR_SMS_RATE": "0",
		"AFKAR_SMS_INVITE_WINDOW": "0s"}))
	for _, want := range []string{"AFKAR_SMS_QUIET_HOURS", "AFKAR_SMS_RATE", "AFKAR_SMS_INVITE_WINDOW"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad %s not reported: %v", want, err)
		}
	}
}
