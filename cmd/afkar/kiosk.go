package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/afkar-gov/afkar/api/web"
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
	"github.com/afkar-gov/afkar/survey/sqlstore"
)

// newKioskService is the kiosk channel as configured. in may be nil for commands that neither
// take batches nor validate (afkar kiosk); cases, optional, opens the follow-up cases of
// consenting citizens' low ratings.
func newKioskService(cfg *Config, store *sqlstore.Store, in kiosk.Intake, log *slog.Logger, cases ...kiosk.CaseOpener) *kiosk.Service {
	opts := kiosk.Options{
		PairingTTL: cfg.KioskPairingTTL, SkewTolerance: cfg.KioskSkewTolerance, MinInterval: cfg.KioskMinInterval,
		Burst: cfg.KioskBurst, Idle: cfg.KioskIdle, Logger: log,
	}
	if len(cases) > 0 {
		opts.Cases = cases[0]
	}
	return kiosk.NewService(store, in, opts)
}

// cliPrincipal is who the command line acts as: the operator of the server, a province admin.
var cliPrincipal = survey.Principal{Role: survey.RoleProvinceAdmin, Name: "afkar command line"}

// kioskPairURL is where a tablet pairs with code on the server at base.
func kioskPairURL(base, code string) string {
	return strings.TrimSuffix(base, "/") + "/kiosk/#code=" + url.QueryEscape(code)
}

const kioskUsage = `usage: afkar kiosk add --office N --name NAME [--free-text] [--url http://host:port]
       afkar kiosk list [--agency N]`

// kioskCmd is `afkar kiosk add|list`: create a kiosk and print its pairing code, or list the
// kiosks with their status.
func kioskCmd(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(kioskUsage)
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("kiosk "+sub, flag.ContinueOnError)
	switch sub {
	case "add":
		office := fs.Int64("office", 0, "the office the kiosk stands in (required)")
		name := fs.String("name", "", "the kiosk's name, as staff will see it (required)")
		freeText := fs.Bool("free-text", false, "offer the survey's text questions (a keyboard in the lobby)")
		base := fs.String("url", "http://"+displayAddr(cfg.Addr), "the server's address as tablets reach it")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if *office <= 0 || strings.TrimSpace(*name) == "" || fs.NArg() > 0 {
			return errors.New(kioskUsage)
		}
		store, err := openStore(ctx, cfg, log, false)
		if err != nil {
			return err
		}
		defer store.Close()
		c, err := newKioskService(cfg, store, nil, log).Create(ctx, cliPrincipal,
			kiosk.NewKiosk{OfficeID: survey.ID(*office), Name: *name, FreeText: *freeText})
		if err != nil {
			return fmt.Errorf("kiosk add: %s", principalProblems(err))
		}
		fmt.Fprintf(stdout, "id: %d\nname: %s\noffice: %d\nagency: %d\npairing_code: %s\nexpires: %s (%s)\npair_url: %s\n",
			c.ID, c.Name, c.OfficeID, c.AgencyID, kiosk.DisplayCode(c.Code), c.ExpiresAt.UTC().Format(time.RFC3339),
			web.FormatJalaliTime(c.ExpiresAt), kioskPairURL(*base, c.Code))
		return nil
	case "list":
		agency := fs.Int64("agency", 0, "only this agency's kiosks")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		store, err := openStore(ctx, cfg, log, false)
		if err != nil {
			return err
		}
		defer store.Close()
		list, err := newKioskService(cfg, store, nil, log).List(ctx, cliPrincipal, survey.ID(*agency))
		if err != nil {
			return fmt.Errorf("kiosk list: %w", err)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tAGENCY\tOFFICE\tNAME\tSTATUS\tLAST SEEN\tQUEUED")
		for _, k := range list {
			seen := "-"
			if k.LastSeenAt != nil {
				seen = k.LastSeenAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\t%d\n", k.ID, k.AgencyID, k.OfficeName, k.Name, k.Status, seen, k.Queued)
		}
		return w.Flush()
	}
	return fmt.Errorf("kiosk: unknown subcommand %q\n%s", sub, kioskUsage)
}

// DemoKioskName is the name of the demo kiosk serve creates in demo mode.
const DemoKioskName = "کیوسک نمایشی"

// demoKiosk gives the demo province a kiosk a newcomer can pair a browser window with: on the
// first start it creates «کیوسک نمایشی» in the first office of the first agency (and makes that
// office always open, so the kiosk does not sleep at night), and at every start while the kiosk
// is unpaired it prints a fresh pairing code and the URL that pairs at once. Databases that are
// not the demo province are left alone.
func demoKiosk(ctx context.Context, store *sqlstore.Store, svc *kiosk.Service, base string, stdout io.Writer, log *slog.Logger) error {
	agencies, err := store.Agencies(ctx, cliPrincipal)
	if err != nil || len(agencies) == 0 {
		return err
	}
	a := agencies[0]
	provinces, err := store.Provinces(ctx)
	if err != nil {
		return err
	}
	if len(provinces) == 0 || provinces[0].ID != a.ProvinceID || provinces[0].Name != demo.ProvinceName {
		return nil
	}
	offices, err := store.Offices(ctx, a.ID)
	if err != nil || len(offices) == 0 {
		return err
	}
	office := offices[0]
	kiosks, err := store.Kiosks(ctx, a.ID)
	if err != nil {
		return err
	}
	var code string
	var expires time.Time
	var id survey.ID
	for _, k := range kiosks {
		if k.OfficeID == office.ID && k.Name == DemoKioskName {
			if k.Paired {
				log.Info("the demo kiosk is paired", "kiosk", k.ID)
				return nil
			}
			p, err := svc.NewPairing(ctx, cliPrincipal, k.ID)
			if err != nil {
				return err
			}
			id, code, expires = k.ID, p.Code, p.ExpiresAt
			break
		}
	}
	if code == "" {
		if _, err := svc.SetHours(ctx, cliPrincipal, office.ID, survey.OfficeHours{AlwaysOpen: true}); err != nil {
			return err
		}
		c, err := svc.Create(ctx, cliPrincipal, kiosk.NewKiosk{OfficeID: office.ID, Name: DemoKioskName})
		if err != nil {
			return err
		}
		id, code, expires = c.ID, c.Code, c.ExpiresAt
		log.Info("created the demo kiosk; its office is always open", "kiosk", id, "office", office.ID)
	}
	link := kioskPairURL(base, code)
	fmt.Fprintf(stdout, "Demo kiosk «%s» (%s, %s): open %s in a browser to pair it, or type the code %s (valid until %s)\n",
		DemoKioskName, a.Name, office.Name, link, kiosk.DisplayCode(code), web.FormatJalaliTime(expires))
	log.Info("demo kiosk pairing code", "kiosk", id, "code", kiosk.DisplayCode(code), "pair_url", link, "expires", expires.UTC().Format(time.RFC3339))
	return nil
}
