package main

import (
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/survey"
)

// archiveCmd is `afkar archive --before 1403-01-01 [--out file.csv.gz]`, the retention policy's
// command (docs/retention.md): raw responses of Tehran days before the cut go to a gzip CSV and
// out of the database; rollups, and so every score, stay.
func archiveCmd(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("archive", flag.ContinueOnError)
	before := fs.String("before", "", "archive responses of days before this one: 1403-01-01 (Jalali) or 2024-03-20")
	out := fs.String("out", "", "gzip CSV to create (default afkar-responses-before-<day>.csv.gz); never overwritten")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *before == "" {
		return survey.Errorf(survey.ECodeInvalid, "روز مرز را با --before بدهید، مثلاً ۱۴۰۳-۰۱-۰۱.", "give the cut with --before, e.g. 1403-01-01")
	}
	day, err := analytics.ParseDay(*before)
	if err != nil {
		return err
	}
	cut := day.Format(survey.DayFormat)
	if *out == "" {
		*out = "afkar-responses-before-" + analytics.FormatJalali(day) + ".csv.gz"
	}
	store, err := openStore(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer store.Close()
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("archive file: %w", err)
	}
	start := time.Now()
	zw := gzip.NewWriter(f)
	flush := func() error {
		if err := zw.Flush(); err != nil {
			return err
		}
		return f.Sync() // on disk before the batch's delete commits
	}
	n, err := store.ArchiveResponses(ctx, cut, zw, flush)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("archived %d responses to %s, then: %w", n, *out, err)
	}
	fmt.Fprintf(stdout, "archived %d responses of days before %s (%s) to %s in %s; rollups unchanged\n",
		n, analytics.FormatJalali(day), cut, *out, time.Since(start).Round(time.Millisecond))
	return nil
}
