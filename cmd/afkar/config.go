package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/afkar-gov/afkar/api"
	"github.com/afkar-gov/afkar/channels/kiosk"
	"github.com/afkar-gov/afkar/channels/sms"
)

// splitList reads a comma-separated list, dropping blanks around and between items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Config is every setting Afkar reads, from AFKAR_* environment variables. Defaults live here and
// only here; Validate runs before anything starts so a typo stops the process with a clear error
// instead of surfacing as odd behaviour later.
type Config struct {
	Addr        string // AFKAR_ADDR
	DatabaseURL string // AFKAR_DATABASE_URL: postgres://… or sqlite://PATH ("" = embedded file)
	RedisURL    string // AFKAR_REDIS_URL: empty buffers in the embedded SQL inbox
	RedisPrefix string // AFKAR_REDIS_PREFIX: key prefix, so several installations share one Redis
	DataDir     string // AFKAR_DATA_DIR: generated secrets and the embedded database
	AdminToken  string // AFKAR_ADMIN_TOKEN (secret)
	SecretKey   string // AFKAR_SECRET_KEY (secret)
	Demo        bool   // AFKAR_DEMO: seed the demo province on an empty database
	RateLimit   int    // AFKAR_RATE_LIMIT: anonymous submissions per minute per IP; 0 = off
	// TokenRateLimit is AFKAR_TOKEN_RATE_LIMIT: submissions per minute per bearer token; 0 = off.
	TokenRateLimit int
	TrustProxy     bool // AFKAR_TRUST_PROXY: take the client IP from X-Forwarded-For
	// CookieSecure is AFKAR_COOKIE_SECURE: mark session cookies Secure even on plain HTTP
	// requests (behind a TLS proxy that sends no X-Forwarded-Proto).
	CookieSecure bool
	PprofAddr    string // AFKAR_PPROF_ADDR: serve net/http/pprof here (e.g. 127.0.0.1:6060); empty = off
	// MaxConnections caps open client connections (AFKAR_MAX_CONNECTIONS); 0 = no cap.
	MaxConnections int

	AutoMigrate     bool          // AFKAR_AUTO_MIGRATE: serve applies migrations at start
	Worker          bool          // AFKAR_WORKER: serve also runs the aggregator in-process
	FoldBatch       int           // AFKAR_FOLD_BATCH: responses per aggregator transaction
	ClaimIdle       time.Duration // AFKAR_CLAIM_IDLE: when a dead worker's entries are taken over
	Consumer        string        // AFKAR_CONSUMER: the aggregator's name in the buffers ("" = derived, see ConsumerName)
	RedisTimeout    time.Duration // AFKAR_REDIS_APPEND_TIMEOUT: how long an append waits for Redis before the SQL inbox takes it
	CacheMaxStale   time.Duration // AFKAR_CACHE_MAX_STALE: how old cached catalog data and tokens may be served while the database is down
	ShutdownTimeout time.Duration // AFKAR_SHUTDOWN_TIMEOUT
	LogFormat       string        // AFKAR_LOG_FORMAT: text | json
	LogLevel        string        // AFKAR_LOG_LEVEL: debug | info | warn | error

	// The kiosk channel (channels/kiosk).
	KioskPairingTTL    time.Duration // AFKAR_KIOSK_PAIRING_TTL: how long a pairing code works
	KioskSkewTolerance time.Duration // AFKAR_KIOSK_SKEW_TOLERANCE: tablet clock skew left uncorrected
	KioskMinInterval   time.Duration // AFKAR_KIOSK_MIN_INTERVAL: presses closer than this are flagged
	KioskBurst         kiosk.Burst   // AFKAR_KIOSK_BURST: N/window, e.g. 10/60s; more presses in the window are flagged
	KioskWatchEvery    time.Duration // AFKAR_KIOSK_WATCH_EVERY: how often silent kiosks are looked for
	KioskIdle          time.Duration // AFKAR_KIOSK_IDLE: when the app goes back to the first question

	// The web-link channel (channels/weblink).
	SecretKeyPrevious []string // AFKAR_SECRET_KEY_PREVIOUS (secret): comma-separated older keys whose links still verify
	WeblinkRateLimit  int      // AFKAR_WEBLINK_RATE_LIMIT: web-form answers per minute per IP; negative = off

	// SMS replies (channels/sms Inbox): Kavenegar's push, the receive poller, the reply window.
	KavenegarWebhookSecret string        // AFKAR_KAVENEGAR_WEBHOOK_SECRET (secret): the push URL's path secret; unset = no push route
	SMSReplyWindow         time.Duration // AFKAR_SMS_REPLY_WINDOW: a reply this long after the invitation is still scored
	SMSReceiveEvery        time.Duration // AFKAR_SMS_RECEIVE_EVERY: how often the receive poller reconciles (real gateway only)
	SMSStatusEvery         time.Duration // AFKAR_SMS_STATUS_EVERY: how often the delivery poller asks for statuses (real gateway only)

	KavenegarAPIKey  string // AFKAR_KAVENEGAR_API_KEY (secret)
	KavenegarSender  string // AFKAR_KAVENEGAR_SENDER
	KavenegarBaseURL string // AFKAR_KAVENEGAR_BASE_URL

	// SMS invitations and the send queue (channels/sms).
	SMSFrequencyCap time.Duration  // AFKAR_SMS_FREQUENCY_CAP: one invitation per number per this long, all agencies
	SMSQuietHours   sms.QuietHours // AFKAR_SMS_QUIET_HOURS: e.g. 22:00-08:00 Tehran; set empty (or "off") to disable
	SMSInviteWindow time.Duration  // AFKAR_SMS_INVITE_WINDOW: visits older than this are not invited
	SMSRate         float64        // AFKAR_SMS_RATE: SMS per second the sender may send (token bucket)
	SMSRetention    time.Duration  // AFKAR_SMS_RETENTION: a number's ciphertext is purged this long after its last contact
	SMSDialogueTTL  time.Duration  // AFKAR_SMS_DIALOGUE_TTL: how long an SMS follow-up question waits for its answer

	adminTokenGenerated bool
}

// Embedded reports whether Afkar runs on the embedded SQLite default rather than PostgreSQL.
func (c *Config) Embedded() bool {
	u := strings.ToLower(c.DatabaseURL)
	return !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://")
}

// LoadConfig reads the environment through getenv (os.Getenv in main, a map in tests).
func LoadConfig(getenv func(string) string) (*Config, error) {
	var errs []error
	str := func(k, def string) string {
		if v, ok := lookup(getenv, k); ok {
			return v
		}
		return def
	}
	boolean := func(k string, def bool) bool {
		v, ok := lookup(getenv, k)
		if !ok {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want true/false or 1/0", k, v))
		}
		return b
	}
	integer := func(k string, def int) int {
		v, ok := lookup(getenv, k)
		if !ok {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number", k, v))
		}
		return n
	}
	duration := func(k string, def time.Duration) time.Duration {
		v, ok := lookup(getenv, k)
		if !ok {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 30s", k, v))
		}
		return d
	}

	c := &Config{
		Addr:                   str("AFKAR_ADDR", ":8080"),
		DatabaseURL:            str("AFKAR_DATABASE_URL", ""),
		RedisURL:               str("AFKAR_REDIS_URL", ""),
		RedisPrefix:            str("AFKAR_REDIS_PREFIX", "afkar:"),
		DataDir:                str("AFKAR_DATA_DIR", "./data"),
		AdminToken:             str("AFKAR_ADMIN_TOKEN", ""),
		SecretKey:              str("AFKAR_SECRET_KEY", ""),
		RateLimit:              integer("AFKAR_RATE_LIMIT", 60),
		TokenRateLimit:         integer("AFKAR_TOKEN_RATE_LIMIT", 6000),
		TrustProxy:             boolean("AFKAR_TRUST_PROXY", false),
		CookieSecure:           boolean("AFKAR_COOKIE_SECURE", false),
		PprofAddr:              str("AFKAR_PPROF_ADDR", ""),
		MaxConnections:         integer("AFKAR_MAX_CONNECTIONS", 4096),
		AutoMigrate:            boolean("AFKAR_AUTO_MIGRATE", true),
		Worker:                 boolean("AFKAR_WORKER", true),
		FoldBatch:              integer("AFKAR_FOLD_BATCH", 2000),
		ClaimIdle:              duration("AFKAR_CLAIM_IDLE", 5*time.Second),
		Consumer:               str("AFKAR_CONSUMER", ""),
		RedisTimeout:           duration("AFKAR_REDIS_APPEND_TIMEOUT", 500*time.Millisecond),
		CacheMaxStale:          duration("AFKAR_CACHE_MAX_STALE", 10*time.Minute),
		ShutdownTimeout:        duration("AFKAR_SHUTDOWN_TIMEOUT", 15*time.Second),
		LogLevel:               str("AFKAR_LOG_LEVEL", "info"),
		KioskPairingTTL:        duration("AFKAR_KIOSK_PAIRING_TTL", kiosk.DefaultPairingTTL),
		KioskSkewTolerance:     duration("AFKAR_KIOSK_SKEW_TOLERANCE", kiosk.DefaultSkewTolerance),
		KioskMinInterval:       duration("AFKAR_KIOSK_MIN_INTERVAL", kiosk.DefaultMinInterval),
		KioskWatchEvery:        duration("AFKAR_KIOSK_WATCH_EVERY", time.Minute),
		SecretKeyPrevious:      splitList(str("AFKAR_SECRET_KEY_PREVIOUS", "")),
		WeblinkRateLimit:       integer("AFKAR_WEBLINK_RATE_LIMIT", api.DefaultFormRateLimit),
		KioskIdle:              duration("AFKAR_KIOSK_IDLE", kiosk.DefaultIdle),
		KavenegarWebhookSecret: str("AFKAR_KAVENEGAR_WEBHOOK_SECRET", ""),
		SMSReplyWindow:         duration("AFKAR_SMS_REPLY_WINDOW", sms.DefaultReplyWindow),
		SMSReceiveEvery:        duration("AFKAR_SMS_RECEIVE_EVERY", sms.DefaultReceiveEvery),
		SMSStatusEvery:         duration("AFKAR_SMS_STATUS_EVERY", sms.DefaultStatusEvery),
		KavenegarAPIKey:        str("AFKAR_KAVENEGAR_API_KEY", ""),
		KavenegarSender:        str("AFKAR_KAVENEGAR_SENDER", ""),
		KavenegarBaseURL:       str("AFKAR_KAVENEGAR_BASE_URL", "https://api.kavenegar.com"),
	}
	c.SMSFrequencyCap = duration("AFKAR_SMS_FREQUENCY_CAP", sms.DefaultFrequencyCap)
	c.SMSInviteWindow = duration("AFKAR_SMS_INVITE_WINDOW", sms.DefaultInviteWindow)
	c.SMSRetention = duration("AFKAR_SMS_RETENTION", sms.DefaultRetention)
	c.SMSDialogueTTL = duration("AFKAR_SMS_DIALOGUE_TTL", sms.DefaultDialogueTTL)
	quiet := sms.DefaultQuietHours
	if v, ok := lookup(getenv, "AFKAR_SMS_QUIET_HOURS"); ok {
		quiet = v
	} else if envSet("AFKAR_SMS_QUIET_HOURS") {
		quiet = "" // set and empty: no quiet hours
	}
	if strings.EqualFold(quiet, "off") {
		quiet = ""
	}
	if q, err := sms.ParseQuietHours(quiet); err != nil {
		errs = append(errs, fmt.Errorf("AFKAR_SMS_QUIET_HOURS: %v", err))
	} else {
		c.SMSQuietHours = q
	}
	c.SMSRate = sms.DefaultRate
	if v, ok := lookup(getenv, "AFKAR_SMS_RATE"); ok {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 1000 {
			errs = append(errs, fmt.Errorf("AFKAR_SMS_RATE=%q: want SMS per second, more than 0 and at most 1000", v))
		}
		c.SMSRate = r
	}
	c.KioskBurst = kiosk.DefaultBurst
	if v, ok := lookup(getenv, "AFKAR_KIOSK_BURST"); ok {
		b, err := kiosk.ParseBurst(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("AFKAR_KIOSK_BURST=%q: %v", v, err))
		}
		c.KioskBurst = b
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "afkar.db")
	}
	c.Demo = boolean("AFKAR_DEMO", c.Embedded())
	def := "text"
	if !c.Embedded() {
		def = "json"
	}
	c.LogFormat = str("AFKAR_LOG_FORMAT", def)
	if err := c.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// envSet tells a variable set to the empty string from an unset one (getenv cannot); only
// AFKAR_SMS_QUIET_HOURS, where empty means "none", needs it.
var envSet = func(k string) bool {
	_, ok := os.LookupEnv(k)
	return ok
}

func lookup(getenv func(string) string, k string) (string, bool) {
	v := strings.TrimSpace(getenv(k))
	return v, v != ""
}

func (c *Config) validate() error {
	var errs []error
	if c.RateLimit < 0 {
		errs = append(errs, errors.New("AFKAR_RATE_LIMIT must be 0 (off) or more"))
	}
	if c.MaxConnections < 0 {
		errs = append(errs, errors.New("AFKAR_MAX_CONNECTIONS must be 0 (no cap) or more"))
	}
	if c.TokenRateLimit < 0 {
		errs = append(errs, errors.New("AFKAR_TOKEN_RATE_LIMIT must be 0 (off) or more"))
	}
	if c.FoldBatch < 1 || c.FoldBatch > 10000 {
		errs = append(errs, errors.New("AFKAR_FOLD_BATCH must be 1–10000"))
	}
	if c.ClaimIdle < time.Second/10 {
		errs = append(errs, errors.New("AFKAR_CLAIM_IDLE must be at least 100ms"))
	}
	if c.RedisTimeout < 10*time.Millisecond || c.RedisTimeout > time.Minute {
		errs = append(errs, errors.New("AFKAR_REDIS_APPEND_TIMEOUT must be between 10ms and 1m"))
	}
	if c.CacheMaxStale < time.Minute {
		errs = append(errs, errors.New("AFKAR_CACHE_MAX_STALE must be at least 1m"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("AFKAR_SHUTDOWN_TIMEOUT must be positive"))
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, errors.New("AFKAR_REDIS_URL must start with redis:// or rediss://"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, errors.New("AFKAR_LOG_FORMAT must be text or json"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, errors.New("AFKAR_LOG_LEVEL must be debug, info, warn or error"))
	}
	if c.KioskPairingTTL < time.Minute || c.KioskPairingTTL > 24*time.Hour {
		errs = append(errs, errors.New("AFKAR_KIOSK_PAIRING_TTL must be between 1m and 24h"))
	}
	if c.KioskSkewTolerance < time.Second || c.KioskSkewTolerance > time.Hour {
		errs = append(errs, errors.New("AFKAR_KIOSK_SKEW_TOLERANCE must be between 1s and 1h"))
	}
	if c.KioskMinInterval < 100*time.Millisecond || c.KioskMinInterval > 10*time.Minute {
		errs = append(errs, errors.New("AFKAR_KIOSK_MIN_INTERVAL must be between 100ms and 10m"))
	}
	if c.KioskWatchEvery < time.Second || c.KioskWatchEvery > time.Hour {
		errs = append(errs, errors.New("AFKAR_KIOSK_WATCH_EVERY must be between 1s and 1h"))
	}
	if c.KioskIdle < 5*time.Second || c.KioskIdle > 10*time.Minute {
		errs = append(errs, errors.New("AFKAR_KIOSK_IDLE must be between 5s and 10m"))
	}
	if c.SMSFrequencyCap < 0 || c.SMSInviteWindow <= 0 {
		errs = append(errs, errors.New("AFKAR_SMS_FREQUENCY_CAP must not be negative and AFKAR_SMS_INVITE_WINDOW must be positive"))
	}
	if c.SMSRetention < sms.MinRetention {
		errs = append(errs, fmt.Errorf("AFKAR_SMS_RETENTION must be at least %s (numbers are kept that long after their last contact)", sms.MinRetention))
	}
	if c.SMSDialogueTTL < time.Minute || c.SMSDialogueTTL > 24*time.Hour {
		errs = append(errs, errors.New("AFKAR_SMS_DIALOGUE_TTL must be between 1m and 24h (a low rating's response waits that long for its follow-up answers)"))
	}
	if c.SMSReplyWindow <= 0 || c.SMSReceiveEvery < time.Second {
		errs = append(errs, errors.New("AFKAR_SMS_REPLY_WINDOW must be positive and AFKAR_SMS_RECEIVE_EVERY at least 1s"))
	}
	if c.SMSStatusEvery < time.Second || c.SMSStatusEvery > sms.StatusWindow {
		errs = append(errs, errors.New("AFKAR_SMS_STATUS_EVERY must be between 1s and 48h (Kavenegar answers status for 48 hours)"))
	}
	if c.KavenegarWebhookSecret != "" && len(c.KavenegarWebhookSecret) < 16 {
		errs = append(errs, errors.New("AFKAR_KAVENEGAR_WEBHOOK_SECRET must be at least 16 characters (it is the push URL's only credential)"))
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, errors.New("AFKAR_ADMIN_TOKEN must be at least 16 characters"))
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		errs = append(errs, errors.New("AFKAR_SECRET_KEY must be at least 32 characters"))
	}
	for _, k := range c.SecretKeyPrevious {
		if len(k) < 32 {
			errs = append(errs, errors.New("every key of AFKAR_SECRET_KEY_PREVIOUS must be at least 32 characters"))
			break
		}
	}
	return errors.Join(errs...)
}

// ensureSecrets fills the admin token and secret key when unset. In embedded mode both are kept in
// the data directory so a restart keeps working links and tokens; in production the secret key
// must be given (every replica needs the same one), while a missing admin token is generated for
// this process only and printed once.
func (c *Config) ensureSecrets() error {
	if c.SecretKey == "" {
		if !c.Embedded() {
			return errors.New("configuration: AFKAR_SECRET_KEY is required with PostgreSQL (all replicas must share it)")
		}
		k, err := secretFile(filepath.Join(c.DataDir, "secret-key"))
		if err != nil {
			return err
		}
		c.SecretKey = k
	}
	if c.AdminToken == "" {
		if c.Embedded() {
			t, err := secretFile(filepath.Join(c.DataDir, "admin-token"))
			if err != nil {
				return err
			}
			c.AdminToken = t
		} else {
			c.AdminToken = randomHex(24)
		}
		c.adminTokenGenerated = true
	}
	return nil
}

// secretFile returns the secret stored at path, creating it (0600) on first use.
func secretFile(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	s := randomHex(32)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the OS has no randomness: nothing secure can run
	}
	return hex.EncodeToString(b)
}

// Print writes the configuration with secrets redacted, for `afkar config` and support requests.
func (c *Config) Print(w io.Writer) {
	red := func(s string) string {
		if s == "" {
			return "(unset)"
		}
		return "(set, redacted)"
	}
	rows := [][2]string{
		{"AFKAR_ADDR", c.Addr},
		{"AFKAR_DATABASE_URL", redactURL(c.DatabaseURL)},
		{"AFKAR_REDIS_URL", redactURL(c.RedisURL)},
		{"AFKAR_REDIS_PREFIX", c.RedisPrefix},
		{"AFKAR_DATA_DIR", c.DataDir},
		{"AFKAR_ADMIN_TOKEN", red(c.AdminToken)},
		{"AFKAR_SECRET_KEY", red(c.SecretKey)},
		{"AFKAR_DEMO", strconv.FormatBool(c.Demo)},
		{"AFKAR_RATE_LIMIT", strconv.Itoa(c.RateLimit)},
		{"AFKAR_TOKEN_RATE_LIMIT", strconv.Itoa(c.TokenRateLimit)},
		{"AFKAR_TRUST_PROXY", strconv.FormatBool(c.TrustProxy)},
		{"AFKAR_COOKIE_SECURE", strconv.FormatBool(c.CookieSecure)},
		{"AFKAR_PPROF_ADDR", c.PprofAddr},
		{"AFKAR_MAX_CONNECTIONS", strconv.Itoa(c.MaxConnections)},
		{"AFKAR_AUTO_MIGRATE", strconv.FormatBool(c.AutoMigrate)},
		{"AFKAR_WORKER", strconv.FormatBool(c.Worker)},
		{"AFKAR_FOLD_BATCH", strconv.Itoa(c.FoldBatch)},
		{"AFKAR_CLAIM_IDLE", c.ClaimIdle.String()},
		{"AFKAR_CONSUMER", c.ConsumerName("serve") + " (serve), " + c.ConsumerName("worker") + " (worker)"},
		{"AFKAR_REDIS_APPEND_TIMEOUT", c.RedisTimeout.String()},
		{"AFKAR_CACHE_MAX_STALE", c.CacheMaxStale.String()},
		{"AFKAR_SHUTDOWN_TIMEOUT", c.ShutdownTimeout.String()},
		{"AFKAR_LOG_FORMAT", c.LogFormat},
		{"AFKAR_LOG_LEVEL", c.LogLevel},
		{"AFKAR_KIOSK_PAIRING_TTL", c.KioskPairingTTL.String()},
		{"AFKAR_KIOSK_SKEW_TOLERANCE", c.KioskSkewTolerance.String()},
		{"AFKAR_KIOSK_MIN_INTERVAL", c.KioskMinInterval.String()},
		{"AFKAR_KIOSK_BURST", c.KioskBurst.String()},
		{"AFKAR_KIOSK_WATCH_EVERY", c.KioskWatchEvery.String()},
		{"AFKAR_KIOSK_IDLE", c.KioskIdle.String()},
		{"AFKAR_SECRET_KEY_PREVIOUS", red(strings.Join(c.SecretKeyPrevious, ","))},
		{"AFKAR_WEBLINK_RATE_LIMIT", strconv.Itoa(c.WeblinkRateLimit)},
		{"AFKAR_KAVENEGAR_WEBHOOK_SECRET", red(c.KavenegarWebhookSecret)},
		{"AFKAR_SMS_REPLY_WINDOW", c.SMSReplyWindow.String()},
		{"AFKAR_SMS_RECEIVE_EVERY", c.SMSReceiveEvery.String()},
		{"AFKAR_SMS_STATUS_EVERY", c.SMSStatusEvery.String()},
		{"AFKAR_KAVENEGAR_API_KEY", red(c.KavenegarAPIKey)},
		{"AFKAR_KAVENEGAR_SENDER", c.KavenegarSender},
		{"AFKAR_KAVENEGAR_BASE_URL", c.KavenegarBaseURL},
		{"AFKAR_SMS_FREQUENCY_CAP", c.SMSFrequencyCap.String()},
		{"AFKAR_SMS_INVITE_WINDOW", c.SMSInviteWindow.String()},
		{"AFKAR_SMS_QUIET_HOURS", c.SMSQuietHours.String()},
		{"AFKAR_SMS_RATE", strconv.FormatFloat(c.SMSRate, 'f', -1, 64)},
		{"AFKAR_SMS_RETENTION", c.SMSRetention.String()},
		{"AFKAR_SMS_DIALOGUE_TTL", c.SMSDialogueTTL.String()},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-26s %s\n", r[0], r[1])
	}
}

// ConsumerName is the aggregator's name in the buffers' consumer groups for a command ("serve"
// or "worker"): AFKAR_CONSUMER when set, else hostname-command-hash, the hash covering the data
// directory, the database and the Redis stream. It is stable across restarts of one deployment
// unit — a restarted process takes its predecessor's unacked batch back at once instead of
// waiting AFKAR_CLAIM_IDLE for it — and differs between hosts (and between serve and worker on
// one host). Two processes that end up with the same name (two workers on one host with one
// configuration) are safe: each may fold the other's batch again, and the fold counts it once.
// Where hostnames change on every restart (a Kubernetes Deployment), set AFKAR_CONSUMER from a
// stable identity, or let AFKAR_CLAIM_IDLE bound the wait.
func (c *Config) ConsumerName(command string) string {
	if c.Consumer != "" {
		return c.Consumer
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "afkar"
	}
	dir, err := filepath.Abs(c.DataDir)
	if err != nil {
		dir = c.DataDir
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{dir, c.DatabaseURL, c.RedisURL, c.RedisPrefix}, "\n")))
	return host + "-" + command + "-" + hex.EncodeToString(sum[:4])
}

// secretParams are query parameters of connection URLs that carry credentials (libpq and pgx
// accept password and sslpassword in the query; some operators put a token there too).
var secretParams = map[string]bool{"password": true, "sslpassword": true, "pass": true, "passwd": true, "pwd": true, "token": true, "secret": true}

// redactURL hides the credentials in a connection URL: the password of its user info and any
// credential-carrying query parameter. A URL that does not parse is hidden whole, since it may
// still hold a password somewhere.
func redactURL(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(set, unparseable; redacted)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if secretParams[strings.ToLower(k)] {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
