package redisbuffer_test

import (
	"testing"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/buffertest"
	"github.com/afkar-gov/afkar/survey/redisbuffer"
	"github.com/afkar-gov/afkar/survey/redisbuffer/redistest"
)

func TestConformance(t *testing.T) {
	buffertest.Run(t, func(t *testing.T) survey.Buffer {
		c, prefix := redistest.Client(t)
		return redisbuffer.New(c, redisbuffer.Options{Stream: prefix + "responses"})
	})
}
