package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/afkar-gov/afkar/analytics"
	"github.com/afkar-gov/afkar/analytics/export"
	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/sms"
	"github.com/afkar-gov/afkar/channels/weblink"
	"github.com/afkar-gov/afkar/survey"
	"github.com/afkar-gov/afkar/survey/authoring"
	"github.com/afkar-gov/afkar/survey/cache"
	"github.com/afkar-gov/afkar/survey/demo"
	"github.com/afkar-gov/afkar/survey/intake"
	"github.com/afkar-gov/afkar/survey/redisbuffer"
	"github.com/afkar-gov/afkar/survey/sqlstore"
	"github.com/afkar-gov/afkar/survey/staff"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: afkar <command> [flags]

commands:
  serve        run the HTTP server (and the aggregator unless AFKAR_WORKER=0)
  worker       run only the aggregator (scale out beside serve)
  migrate      apply database migrations
  demo         seed the demo province (on an empty database) and add synthetic responses
  reaggregate  rebuild all rollups from raw responses
  archive      move raw responses before a day to a gzip CSV (--before 1403-01-01); rollups stay
  token        create a staff or integration bearer token
  user         add a person's account, reset its password, or list accounts
  kiosk        add a lobby kiosk (prints its pairing code) or list the kiosks
  sms parse    read SMS replies on stdin, print how each parses (one JSON object a line)
  weblink      issue a signed web-form link (issue) or an office's poster link (poster)
  config       print the configuration, secrets redacted
  version      print the version

Configuration comes from AFKAR_* environment variables; see README.md.`

// run is the whole program behind main, callable from tests with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "-v", "--version":
		fmt.Fprintln(stdout, "afkar", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	case "sms": // needs no configuration
		return smsCmd(ctx, rest, stdin, stdout)
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if cfg.PprofAddr != "" {
		startPprof(cfg.PprofAddr, log)
	}
	if cmd == "serve" || cmd == "worker" {
		tuneGC(getenv, cfg.Embedded(), log)
		if soft := raiseFileLimit(log); soft > 0 && uint64(cfg.MaxConnections)+256 > soft {
			log.Warn("AFKAR_MAX_CONNECTIONS leaves too few file descriptors for the database, Redis and files; lower it or raise the hard open-file limit",
				"max_connections", cfg.MaxConnections, "open_file_limit", soft)
		}
	}
	switch cmd {
	case "config":
		cfg.Print(stdout)
		return nil
	case "serve":
		return serve(ctx, cfg, log, stdout)
	case "worker":
		return work(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, log, stdout)
	case "demo":
		return demoCmd(ctx, cfg, log, rest, stdout)
	case "reaggregate":
		return reaggregate(ctx, cfg, log, stdout)
	case "archive":
		return archiveCmd(ctx, cfg, log, rest, stdout)
	case "token":
		return tokenCmd(ctx, cfg, log, rest, stdout)
	case "user":
		return userCmd(ctx, cfg, log, rest, stdin, stdout)
	case "kiosk":
		return kioskCmd(ctx, cfg, log, rest, stdout)
	case "weblink":
		return weblinkCmd(ctx, cfg, log, rest, stdout)
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// tuneGC trades memory the server does not need for CPU it does: the default GOGC=100 collects
// so often under load that it costs ~10% of the ingest rate on a 2-core box (measured: 13.7k vs
// 14.9k responses/s, peak RSS 40 vs 60 MB). A soft memory limit keeps the heap well inside the
// 150 MB budget even so. On the embedded default SQLite's page caches and statements live
// outside the Go heap (~35 MB under load), so the heap gets less: with 120 MB the embedded
// server peaked at 151–156 MB RSS in `make bench`, with 96 MB at 132 MB and the same sustained
// rate (2026-12-02). An operator's GOGC or GOMEMLIMIT wins.
func tuneGC(getenv func(string) string, embedded bool, log *slog.Logger) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(heapLimit(embedded))
	}
	log.Debug("garbage collector tuned", "gogc", getenv("GOGC"), "gomemlimit", getenv("GOMEMLIMIT"))
}

// heapLimit is the soft Go heap limit tuneGC sets: 120 MiB on PostgreSQL, 96 MiB on the
// embedded SQLite, whose memory is outside the Go heap but inside the same 150 MB budget.
func heapLimit(embedded bool) int64 {
	if embedded {
		return 96 << 20
	}
	return 120 << 20
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the database and makes sure its schema is current: migrating when allowed,
// refusing to go on when it is behind (or ahead of) this binary.
func openStore(ctx context.Context, cfg *Config, log *slog.Logger, migrate bool) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	if migrate {
		n, err := store.Migrate(ctx)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("migrating: %w", err)
		}
		if n > 0 {
			log.Info("applied migrations", "count", n, "dialect", store.Dialect())
		}
	}
	if err := store.CheckSchema(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// foldWith adapts the store's Fold to the plain function the demo seeder takes.
func foldWith(store *sqlstore.Store) func(context.Context, []survey.Response) error {
	return func(ctx context.Context, rs []survey.Response) error {
		_, err := store.Fold(ctx, rs, analytics.Delta)
		return err
	}
}

// buffers opens the buffers: the SQL inbox always (the embedded buffer, or the fallback), and
// Redis Streams in front of it when configured.
func buffers(cfg *Config, store *sqlstore.Store, log *slog.Logger) (primary survey.Buffer, fallback survey.Buffer, all []survey.Buffer, closeFn func(), err error) {
	inbox := store.Inbox()
	if cfg.RedisURL == "" {
		return inbox, nil, []survey.Buffer{inbox}, func() {}, nil
	}
	rb, err := redisbuffer.Open(cfg.RedisURL, redisbuffer.Options{Stream: cfg.RedisPrefix + "responses", Logger: log})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("redis: %w", err)
	}
	return rb, inbox, []survey.Buffer{rb, inbox}, func() { rb.Close() }, nil
}

func serve(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	if err := cfg.ensureSecrets(); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, log, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer store.Close()

	if cfg.Demo {
		if err := seedDemo(ctx, store, log, demo.Options{}); err != nil {
			return err
		}
	}
	// The bootstrap admin is a token row like any other; registering it replaces the previous
	// one, so a rotated or per-process token does not stay valid.
	if err := store.RegisterBootstrapToken(ctx, cfg.AdminToken); err != nil {
		return fmt.Errorf("registering the admin token: %w", err)
	}
	primary, fallback, bufs, closeBuffers, err := buffers(cfg, store, log)
	if err != nil {
		return err
	}
	defer closeBuffers()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Background work (cache refresh, database monitor, aggregator) outlives the signal context
	// until the ordered shutdown below stops it.
	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()

	// Intake and the public API read the catalog and tokens through a cache, so that a database
	// outage does not stop submissions that Redis can take.
	cat := cache.New(store, cache.Options{MaxStale: cfg.CacheMaxStale, Logger: log})
	if err := cat.Warm(ctx); err != nil {
		log.Warn("loading the catalog cache failed; readiness waits for the next attempt", "err", err)
	}
	cat.Start(bgCtx)
	db := newDBMonitor(store.Ping, log)
	go db.run(bgCtx)

	// Stored answers "was this client-made id accepted before?" from the database; while it is
	// down intake appends unchecked rather than refuse anyone (the fold still keeps the first).
	in := intake.New(cat, primary, fallback, intake.Options{PrimaryTimeout: cfg.RedisTimeout, Stored: store, Logger: log})
	registerIntakeMetrics(reg, in)
	registerBufferMetrics(reg, bufs)
	registerHealthMetrics(reg, db, cat)

	var agg *analytics.Aggregator
	aggCtx, stopAgg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgg()
	var aggDone sync.WaitGroup
	if cfg.Worker {
		agg = analytics.NewAggregator(store, bufs, analytics.AggregatorOptions{
			Consumer: cfg.ConsumerName("serve"), BatchSize: cfg.FoldBatch, ClaimIdle: cfg.ClaimIdle, Logger: log,
		})
		registerAggregatorMetrics(reg, agg)
		aggDone.Add(1)
		go func() {
			defer aggDone.Done()
			if err := agg.Run(aggCtx); err != nil {
				log.Error("aggregator stopped", "err", err)
			}
		}()
	}

	// Follow-up cases of unhappy citizens who agreed to be contacted, and their escalation
	// watcher; their numbers are sealed with the SMS channel's keys and forgotten with its
	// retention period.
	followUps, err := newCases(cfg, store, log)
	if err != nil {
		return err
	}
	stopCases := goLoop(bgCtx, func(ctx context.Context) { followUps.Run(ctx, cfg.SMSRetention) })
	defer stopCases()

	// The kiosk channel, and its watcher for kiosks gone silent in open offices.
	kiosks := newKioskService(cfg, store, in, log, followUps)
	stopWatch := goLoop(bgCtx, func(ctx context.Context) { kiosks.RunWatcher(ctx, cfg.KioskWatchEvery) })
	defer stopWatch()

	// Score alerts (drop/rise against each office's own baseline, and the simple rules each
	// agency set, read afresh on every run): at start, then daily.
	alertWatcher := &analytics.AlertWatcher{Store: store, Log: log, Rules: analytics.StoredAlertRules(store)}
	stopAlerts := goLoop(bgCtx, func(ctx context.Context) { alertWatcher.RunLoop(ctx, analytics.DefaultAlertEvery) })
	defer stopAlerts()

	links, err := weblink.NewKeys(cfg.SecretKey, cfg.SecretKeyPrevious...)
	if err != nil {
		return err
	}
	// The SMS channel: invitations after a visit, and the gateway the sender sends through.
	inviter, privacy, err := newInviter(cfg, store, log)
	if err != nil {
		return err
	}
	gateway, err := newGateway(cfg, log)
	if err != nil {
		return fmt.Errorf("sms gateway: %w", err)
	}
	// Numbers are forgotten AFKAR_SMS_RETENTION after their last contact: once at start, then daily.
	retention := sms.NewRetention(store, cfg.SMSRetention, nil, log)
	stopPurge := goLoop(bgCtx, func(ctx context.Context) { retention.Run(ctx, sms.DefaultPurgeEvery) })
	defer stopPurge()
	// New alerts go to the agency's admins by SMS (those who set an alert number), capped per person.
	notifier := sms.NewAlertNotifier(store, nil, log)
	stopNotify := goLoop(bgCtx, func(ctx context.Context) { notifier.Run(ctx, sms.DefaultAlertPoll) })
	defer stopNotify()
	// Citizens' replies: stored by the push (or the dev page), processed by one loop.
	inbox, stopInbox, err := startInbox(bgCtx, cfg, store, in, privacy, gateway, log, followUps)
	if err != nil {
		return err
	}
	defer stopInbox()
	deliveries, stopDeliveries := startDeliveries(bgCtx, cfg, store, gateway, log)
	defer stopDeliveries()
	var sender atomic.Pointer[sms.Sender] // made once the public address is known (the invitation link needs it)
	smsCheck := api.Check{Name: "sms", Detail: true, Ping: func(ctx context.Context) error {
		if s := sender.Load(); s != nil {
			return s.Health(ctx)
		}
		return nil
	}}

	accounts := newAccounts(cfg, store)
	scores := analytics.NewScores(store, store)
	digests := analytics.NewDigests(scores, store, store)
	// Weekly and monthly digests to every person with an alert number (Saturday and the 1st of
	// the Jalali month, 08:00 Tehran), once per person and period whatever the replicas.
	digestSender := sms.NewDigestSender(store, digests, nil, log)
	stopDigests := goLoop(bgCtx, func(ctx context.Context) { digestSender.Run(ctx, sms.DefaultDigestPoll) })
	defer stopDigests()
	srv := api.New(api.Deps{
		Exports:          export.NewService(store, store, scores),
		Digests:          digests,
		AlertPhones:      sms.NewAlertPhones(store, privacy, nil),
		Tokens:           staff.NewTokens(store, nil),
		WebLinks:         links,
		LinkStore:        store,
		FormRateLimit:    cfg.WeblinkRateLimit,
		Invitations:      inviter,
		SMSInbox:         inbox,
		SMSWebhookSecret: cfg.KavenegarWebhookSecret,
		SMSDeliveries:    deliveries,
		DevSMS:           devSMS(cfg, store, privacy),
		Funnel:           store,
		SMSReplies:       sms.NewStaff(store, privacy),
		Catalog:          cat,
		Intake:           in,
		Scores:           scores,
		Dashboard:        analytics.NewDashboard(cat, store),
		Comments:         analytics.NewComments(store, store),
		Hours:            analytics.Heatmap{Hours: store},
		Auth:             cat,
		Kiosks:           kiosks,
		Alerts:           &analytics.AlertDesk{Store: store, Audit: store.Audit},
		AlertRules:       &analytics.AlertRuleSettings{Store: store},
		RateLimit:        cfg.RateLimit,
		TokenRateLimit:   cfg.TokenRateLimit,
		TrustProxy:       cfg.TrustProxy,
		Accounts:         accounts,
		Cases:            followUps,
		Surveys:          authoring.New(store, authoring.Options{CheckSMS: sms.CheckSMS}),
		CookieSecure:     cfg.CookieSecure,
		Ready:            append(intakeChecks(primary, fallback, cat, db), smsCheck),
		Gatherer:         reg,
		Registerer:       reg,
		Logger:           log,
		Version:          version,
	})

	ln, err := listen(cfg.Addr, cfg.MaxConnections)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	httpSrv := newHTTPServer(srv.Handler())
	url := "http://" + displayAddr(ln.Addr().String())

	// The SMS sender drains the send queue (held invitations when the quiet hours end).
	sender.Store(newSender(cfg, store, gateway, privacy, invitationLinks(links, url), cat, log))
	stopSend := goLoop(bgCtx, sender.Load().Run)
	defer stopSend()
	mode := "embedded (SQLite + SQL inbox)"
	if !cfg.Embedded() {
		mode = "PostgreSQL"
		if cfg.RedisURL != "" {
			mode += " + Redis Streams"
		}
	}
	fmt.Fprintf(stdout, "Afkar %s listening on %s — %s\n", version, url, mode)
	if cfg.adminTokenGenerated { // an operator's own token is never echoed to the console or logs
		fmt.Fprintf(stdout, "Admin token (province admin): %s\n", cfg.AdminToken)
		fmt.Fprintf(stdout, "Try: curl -H 'Authorization: Bearer %s' %s/api/v1/agencies\n", cfg.AdminToken, url)
	}
	log.Info("serving", "addr", ln.Addr().String(), "mode", mode, "version", version)
	if cfg.Demo {
		if err := demoKiosk(ctx, store, kiosks, url, stdout, log); err != nil {
			log.Warn("preparing the demo kiosk failed", "err", err)
		}
		if err := demoUsers(ctx, store, accounts, url, stdout); err != nil {
			log.Warn("creating the demo accounts failed", "err", err)
		}
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Shutdown order keeps every acknowledged response: stop taking connections and finish
	// in-flight requests, flush intake's queue, then let the aggregator fold the batch in hand.
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopWatch()
	stopPurge()
	stopSend()
	stopInbox()
	in.Close()
	stopAgg()
	aggDone.Wait()
	stopBg()
	log.Info("stopped")
	return nil
}

// goLoop runs loop in a goroutine until its context, a child of parent, ends; the returned stop
// ends it and waits for loop to return, so shutdown can order the loops. stop may be called
// more than once (explicitly, and deferred for the early returns).
func goLoop(parent context.Context, loop func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func seedDemo(ctx context.Context, store *sqlstore.Store, log *slog.Logger, opts demo.Options) error {
	empty, err := store.IsEmpty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return nil
	}
	sum, err := demo.Seed(ctx, store, foldWith(store), opts)
	if err != nil {
		return fmt.Errorf("seeding demo data: %w", err)
	}
	log.Info("seeded the demo province", "agencies", len(sum.Agencies), "responses", sum.Responses)
	return nil
}

// work runs the aggregator alone, with /healthz and /metrics on AFKAR_ADDR.
func work(ctx context.Context, cfg *Config, log *slog.Logger) error {
	store, err := openStore(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer store.Close()
	_, _, bufs, closeBuffers, err := buffers(cfg, store, log)
	if err != nil {
		return err
	}
	defer closeBuffers()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	agg := analytics.NewAggregator(store, bufs, analytics.AggregatorOptions{
		Consumer: cfg.ConsumerName("worker"), BatchSize: cfg.FoldBatch, ClaimIdle: cfg.ClaimIdle, Logger: log,
	})
	registerAggregatorMetrics(reg, agg)
	registerBufferMetrics(reg, bufs)
	db := newDBMonitor(store.Ping, log)
	go db.run(ctx)
	registerHealthMetrics(reg, db, nil)
	// A worker can do nothing without the database, so for it the database is readiness itself.
	srv := api.NewOps(api.Deps{Ready: []api.Check{{Name: "database", Ping: db.check}}, Gatherer: reg, Logger: log, Version: version})
	ln, err := listen(cfg.Addr, cfg.MaxConnections)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	httpSrv := newHTTPServer(srv.Handler())
	go httpSrv.Serve(ln)
	defer httpSrv.Close()
	log.Info("worker started", "metrics", ln.Addr().String())
	return agg.Run(ctx)
}

func migrate(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{Logger: log})
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s); schema at version %d (%s)\n", n, sqlstore.LatestVersion(), store.Dialect())
	return nil
}

func demoCmd(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	n := fs.Int("responses", 0, "synthetic responses to add (beyond the initial seed); with --national, the responses seeded")
	days := fs.Int("days", 28, "spread responses over this many past days (--national: 730 unless given)")
	seed := fs.Int64("seed", time.Now().UnixNano(), "random seed")
	national := fs.Bool("national", false, "seed a country on an empty database: provinces × agencies, COPY on PostgreSQL (implied by --provinces)")
	provinces := fs.Int("provinces", 0, "--national: provinces (default 31)")
	perProvince := fs.Int("agencies-per-province", 0, "--national: agencies in each province (default 16)")
	workers := fs.Int("workers", 3, "--national: agencies generated and written in parallel")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	store, err := openStore(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer store.Close()
	if *national || set["provinces"] || set["agencies-per-province"] {
		o := nationalOptions{responses: max(*n, 0), seed: *seed, workers: *workers, progress: 10 * time.Second,
			catalog: demo.NationalOptions{Provinces: *provinces, AgenciesPerProvince: *perProvince}}
		if set["days"] {
			o.catalog.Days = *days
		}
		return seedNational(ctx, store, log, o, stdout)
	}
	if err := seedDemo(ctx, store, log, demo.Options{Days: *days}); err != nil {
		return err
	}
	if *n <= 0 {
		fmt.Fprintln(stdout, "demo province present")
		return nil
	}
	rng := rand.New(rand.NewSource(*seed))
	fold := foldWith(store)
	start := time.Now()
	for done := 0; done < *n; {
		k := min(5000, *n-done)
		rs, err := demo.Responses(ctx, store, k, time.Now(), rng, *days)
		if err != nil {
			return err
		}
		for i := 0; i < len(rs); i += 500 {
			if err := fold(ctx, rs[i:min(i+500, len(rs))]); err != nil {
				return err
			}
		}
		done += k
	}
	fmt.Fprintf(stdout, "added %d synthetic responses in %s\n", *n, time.Since(start).Round(time.Millisecond))
	return nil
}

func reaggregate(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	store, err := openStore(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	delta, marked, err := headlineBackfill(ctx, store)
	if err != nil {
		return err
	}
	if err := store.Reaggregate(ctx, delta); err != nil {
		return err
	}
	n, _ := store.ResponseCount(ctx, 0)
	fmt.Fprintf(stdout, "rebuilt rollups from %d responses in %s\n", n, time.Since(start).Round(time.Millisecond))
	if *marked > 0 {
		fmt.Fprintf(stdout, "gave %d responses stored before headline flags the flags of their survey version\n", *marked)
	}
	return nil
}

// headlineBackfill returns the fold function for re-aggregation: analytics.Delta, after giving
// raw responses stored before answers carried a headline flag (none of their answers has it)
// the flags their survey version implies. Versions never change, so the flags are the ones
// intake would have set; responses stored with flags keep them as stored. Every published
// version is loaded first, because the fold function runs inside the rebuild's transaction.
func headlineBackfill(ctx context.Context, store *sqlstore.Store) (delta func([]survey.Response) survey.RollupDelta, marked *int, err error) {
	type key struct {
		survey  survey.ID
		version int
	}
	versions := map[key]survey.Version{}
	agencies, err := store.Agencies(ctx, survey.Principal{Role: survey.RoleProvinceAdmin})
	if err != nil {
		return nil, nil, err
	}
	for _, a := range agencies {
		surveys, err := store.Surveys(ctx, a.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, sv := range surveys {
			for n := 1; n <= sv.ActiveVersion; n++ {
				v, err := store.Version(ctx, sv.ID, n)
				if err != nil {
					return nil, nil, err
				}
				versions[key{sv.ID, n}] = v
			}
		}
	}
	marked = new(int)
	delta = func(rs []survey.Response) survey.RollupDelta {
		for i := range rs {
			r := &rs[i]
			flagged := false
			for _, a := range r.Answers {
				flagged = flagged || a.Headline
			}
			if v, ok := versions[key{r.SurveyID, r.SurveyVersion}]; ok && !flagged && v.MarkHeadline(r) {
				*marked++
			}
		}
		return analytics.Delta(rs)
	}
	return delta, marked, nil
}

func tokenCmd(ctx context.Context, cfg *Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	role := fs.String("role", string(survey.RoleAgencyStaff), "province_admin | province_staff | agency_admin | agency_staff | integration")
	agency := fs.Int64("agency", 0, "agency id (agency_admin, agency_staff and integration)")
	office := fs.Int64("office", 0, "office id an integration may submit for (optional; default: any office of the agency)")
	channel := fs.String("channel", "", "kiosk | web | sms: the channel an integration's submissions are recorded with (integration only)")
	name := fs.String("name", "", "who the token is for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected argument %q", fs.Arg(0))
	}
	if *agency < 0 || *office < 0 {
		return errors.New("token: --agency and --office are positive ids")
	}
	p := survey.Principal{Role: survey.Role(*role), AgencyID: survey.ID(*agency), OfficeID: survey.ID(*office),
		Channel: survey.Channel(strings.TrimSpace(*channel)), Name: strings.TrimSpace(*name)}
	if err := p.Check(); err != nil {
		return fmt.Errorf("token: %s", principalProblems(err))
	}
	store, err := openStore(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer store.Close()
	if p.AgencyID != 0 {
		if _, err := store.Agency(ctx, p.AgencyID); err != nil {
			return fmt.Errorf("token: agency %d: %w", p.AgencyID, err)
		}
	}
	tok, err := store.CreateToken(ctx, p)
	if err != nil {
		return fmt.Errorf("token: %s", principalProblems(err))
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// principalProblems spells out a refused principal for the command line: the message and each
// field's problem, flag by flag.
func principalProblems(err error) string {
	var se *survey.Error
	if !errors.As(err, &se) || len(se.Fields) == 0 {
		return err.Error()
	}
	keys := make([]string, 0, len(se.Fields))
	for k := range se.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(se.Message)
	for _, k := range keys {
		flagName := strings.TrimSuffix(k, "_id")
		fmt.Fprintf(&b, "; --%s: %s", flagName, se.Fields[k].Message)
	}
	return b.String()
}
