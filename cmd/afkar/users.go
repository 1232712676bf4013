package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/demo"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/staff"
)

const userUsage = `usage:
  afkar user add --login L --name N --role R [--agency ID] [--password-stdin]
      create a person's account; prints a generated password once (or reads one line from stdin)
  afkar user reset --login L
      give the account a new generated password (printed once) and end its sessions
  afkar user list
      list every account

roles: province_admin, province_staff, province_evaluator, agency_admin, agency_staff`

// cliActor is who the audit log names for changes made on the command line: whoever can run
// the binary against the database is a province admin.
var cliActor = survey.Principal{Role: survey.RoleProvinceAdmin, Name: "afkar user (command line)"}

func newAccounts(cfg *Config, store *sqlstore.Store) *staff.Service {
	return staff.New(store, staff.Options{Secret: []byte(cfg.SecretKey)})
}

func userCmd(ctx context.Context, cfg *Config, log *slog.Logger, args []string, in io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stdout, userUsage)
		return errors.New("user: add, reset or list")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	login := fs.String("login", "", "the account's login (lower-case Latin letters, digits, . - _)")
	name := fs.String("name", "", "the person's name")
	role := fs.String("role", "", "province_admin | province_staff | province_evaluator | agency_admin | agency_staff")
	agency := fs.Int64("agency", 0, "agency id (agency roles)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin instead of generating one")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user: unexpected argument %q", fs.Arg(0))
	}
	store, err := openStore(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer store.Close()
	svc := newAccounts(cfg, store)
	switch args[0] {
	case "add":
		nu := staff.NewUser{Login: *login, Name: strings.TrimSpace(*name), Role: survey.Role(*role), AgencyID: survey.ID(*agency)}
		if *fromStdin {
			line, err := bufio.NewReader(in).ReadString('\n')
			if err != nil && (err != io.EOF || line == "") {
				return fmt.Errorf("user add: reading the password from stdin: %w", err)
			}
			nu.Password = strings.TrimRight(line, "\r\n")
			if nu.Password == "" {
				return errors.New("user add: the password on stdin is empty")
			}
		}
		u, pw, err := svc.CreateUser(ctx, cliActor, nu)
		if err != nil {
			return fmt.Errorf("user add: %s", principalProblems(err))
		}
		fmt.Fprintf(stdout, "created user %d: %s (%s)\n", u.ID, u.Login, u.Role)
		if !*fromStdin {
			fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
		}
		return nil
	case "reset":
		u, err := svc.UserByLogin(ctx, *login)
		if err != nil {
			return fmt.Errorf("user reset: %q: %w", *login, err)
		}
		pw, err := svc.ResetPassword(ctx, cliActor, u.ID)
		if err != nil {
			return fmt.Errorf("user reset: %w", err)
		}
		fmt.Fprintf(stdout, "new password for %s (shown once): %s\n", u.Login, pw)
		return nil
	case "list":
		us, err := svc.Users(ctx, cliActor)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tLOGIN\tROLE\tAGENCY\tDISABLED\tNAME")
		for _, u := range us {
			fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%t\t%s\n", u.ID, u.Login, u.Role, u.AgencyID, u.Disabled, u.Name)
		}
		return w.Flush()
	}
	fmt.Fprintln(stdout, userUsage)
	return fmt.Errorf("user: unknown subcommand %q", args[0])
}

// Demo account logins.
const (
	demoAdminLogin       = "admin"
	demoAgencyAdminLogin = "agency-admin"
)

// demoUsers makes, on a demo database without any account, a province admin ("admin") and an
// admin of the first demo agency, and prints their logins and generated passwords once on
// stdout — never to the log — so `make run` can be tried in a browser at /login.
func demoUsers(ctx context.Context, store *sqlstore.Store, svc *staff.Service, base string, stdout io.Writer) error {
	existing, err := store.Users(ctx, 0)
	if err != nil || len(existing) > 0 {
		return err
	}
	agencies, err := store.Agencies(ctx, cliActor)
	if err != nil {
		return err
	}
	provinces, err := store.Provinces(ctx)
	if err != nil {
		return err
	}
	if len(agencies) == 0 || len(provinces) == 0 || provinces[0].Name != demo.ProvinceName {
		return nil // not the demo province: make accounts with `afkar user add`
	}
	_, pw, err := svc.CreateUser(ctx, cliActor, staff.NewUser{Login: demoAdminLogin, Name: "مدیر استان (نمونه)", Role: survey.RoleProvinceAdmin})
	if err != nil {
		return err
	}
	a := agencies[0]
	_, apw, err := svc.CreateUser(ctx, cliActor, staff.NewUser{Login: demoAgencyAdminLogin, Name: "مدیر " + a.Name + " (نمونه)",
		Role: survey.RoleAgencyAdmin, AgencyID: a.ID})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Demo accounts — log in at %s/login (passwords shown once):\n", base)
	fmt.Fprintf(stdout, "  %s / %s   (province admin)\n", demoAdminLogin, pw)
	fmt.Fprintf(stdout, "  %s / %s   (admin of %s)\n", demoAgencyAdminLogin, apw, a.Name)
	return nil
}
