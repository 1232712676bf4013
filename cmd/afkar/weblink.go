package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
)

const weblinkUsage = `usage: afkar weblink issue --office N [--ttl 72h] [--url http://host:port]
       afkar weblink poster --office N [--url http://host:port]`

// weblinkCmd is `afkar weblink issue|poster`: mint an invitation-style link (single use,
// expiring) or an office's poster link, signed with this server's key, and print its URL — to try
// the web form before invitations exist, or to print a poster by hand.
func weblinkCmd(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "issue" && args[0] != "poster") {
		return errors.New(weblinkUsage)
	}
	fs := flag.NewFlagSet("weblink "+args[0], flag.ContinueOnError)
	office := fs.Int64("office", 0, "the office the link is for (required)")
	ttl := fs.Duration("ttl", 72*time.Hour, "how long an issued link works (rounded up to the minute; negative: already expired, to see that page)")
	base := fs.String("url", "http://"+displayAddr(cfg.Addr), "the server's address as citizens reach it")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *office <= 0 || *ttl == 0 || fs.NArg() > 0 {
		return errors.New(weblinkUsage)
	}
	if err := cfg.ensureSecrets(); err != nil { // the embedded default keeps its key in the data directory
		return err
	}
	keys, err := weblink.NewKeys(cfg.SecretKey, cfg.SecretKeyPrevious...)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer store.Close()
	o, err := store.Office(ctx, survey.ID(*office))
	if err != nil {
		return fmt.Errorf("weblink: %s", principalProblems(err))
	}
	link := weblink.Link{Kind: weblink.KindInvitation, AgencyID: o.AgencyID, OfficeID: o.ID, Expires: time.Now().Add(*ttl)}
	if args[0] == "poster" {
		link = weblink.Link{Kind: weblink.KindPoster, AgencyID: o.AgencyID, OfficeID: o.ID}
	}
	token, err := keys.Issue(link)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "url: %s\nkind: %s\noffice: %d\nagency: %d\n", strings.TrimSuffix(*base, "/")+weblink.FormPath(link.Kind, token),
		link.Kind, o.ID, o.AgencyID)
	if !link.Expires.IsZero() {
		fmt.Fprintf(stdout, "expires: %s (%s)\n", link.Expires.UTC().Format(time.RFC3339), web.FormatJalaliTime(link.Expires))
	}
	return nil
}
