package kiosk_test

import (
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// The SQL store and intake are what serve wires into the channel.
var (
	_ kiosk.Store  = (*sqlstore.Store)(nil)
	_ kiosk.Intake = (*intake.Intake)(nil)
)
