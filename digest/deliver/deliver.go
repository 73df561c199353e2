// Package deliver owns the outbox (one row per issue and subscriber) and
// sends it: a pool of workers holding SMTP connections (go-mail), a global
// rate limit, retries for temporary failures, permanent failures recorded as
// bounces, and resumption after a crash. A directory transport writes .eml
// files instead (dry runs and the demo). Tables: deliveries, delivery_jobs.
//
// Using it from the daemon:
//
//   - At start-up, call Unfinished and run Send for each issue it returns
//     (a crash or a stop left rows pending or in retry).
//   - On the send schedule, run Send for the approved issue. With Job.Wait
//     it keeps going until every row is final, sleeping until the next
//     retry or local-time row; run it in a goroutine with the daemon's
//     context. Without Wait it makes one pass and Summary.NextAt says when
//     to call it again (time.AfterFunc, or the next cron tick).
//   - Cancelling the context (SIGTERM) lets in-flight messages finish and
//     be recorded; nothing else is lost, the next Send resumes.
//
// Guarantees: the rows are all written before the first message leaves; a
// worker sends its next message only after the previous outcome is
// committed, so after a kill -9 at most one message per worker is resent.
package deliver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/haiphong/hpdigest/internal/clock"
	"github.com/haiphong/hpdigest/store"
)

// Outbox row states.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateRetry   = "retry"   // temporary failure; next_attempt_at says when
	StateFailed  = "failed"  // permanent failure (5xx), counted as a bounce
	StateSkipped = "skipped" // nothing in the issue for the subscriber's themes, or no longer subscribed
)

// Config is the [smtp] section: the relay(s) and the sending limits.
//
// The top-level host/port/... describe one relay. Operators who outgrow it
// list several under [[smtp.relays]]; then the top-level relay fields are
// ignored and each relay has its own workers, rate and per-connection cap.
type Config struct {
	Host        string        `toml:"host"`
	Port        int           `toml:"port"`
	TLS         string        `toml:"tls"`         // "starttls" (default), "tls", "opportunistic", "none"
	TLSCAFile   string        `toml:"tls_ca_file"` // PEM CA bundle to trust for the relay (default: system roots)
	Username    string        `toml:"username"`
	PasswordEnv string        `toml:"password_env"` // name of the environment variable with the password
	Password    string        `toml:"-"`            // resolved from PasswordEnv by the config loader
	HELO        string        `toml:"helo"`
	Workers     int           `toml:"workers"`         // connections at once (default 4)
	RatePerSec  float64       `toml:"rate_per_second"` // global limit over all relays; 0 = unlimited
	PerConn     int           `toml:"messages_per_connection"`
	Timeout     time.Duration `toml:"timeout"`   // per SMTP command/connection (default 30s)
	RetryFor    time.Duration `toml:"retry_for"` // keep retrying 4xx this long (default 24h)
	// NoPipelining: see Relay.NoPipelining.
	NoPipelining bool `toml:"no_pipelining"`

	// RetryBackoff is the wait after the first temporary failure; it doubles
	// with every attempt up to one hour (default 5m).
	RetryBackoff time.Duration `toml:"retry_backoff"`
	// EnvelopeFrom is the MAIL FROM (bounce) address; default: the From
	// address. Messages of an issue leave with its VERP form,
	// local+TOKEN@domain (see VERP), unless NoVERP is set.
	EnvelopeFrom string `toml:"envelope_from"`
	// NoVERP sends every message with EnvelopeFrom itself (for a relay
	// that insists on the authenticated address as the envelope sender).
	NoVERP bool `toml:"no_verp"`
	// Relays, when set, replace the single relay above.
	Relays []Relay `toml:"relays"`
	// DKIM signing (optional).
	DKIM DKIMConfig `toml:"dkim"`
}

// Relay is one SMTP relay of the pool with its own limits.
type Relay struct {
	Name        string  `toml:"name"` // for logs and the outbox's relay column; default host:port
	Host        string  `toml:"host"`
	Port        int     `toml:"port"`
	TLS         string  `toml:"tls"`
	TLSCAFile   string  `toml:"tls_ca_file"`
	Username    string  `toml:"username"`
	PasswordEnv string  `toml:"password_env"`
	Password    string  `toml:"-"`
	HELO        string  `toml:"helo"`
	Workers     int     `toml:"workers"`         // connections to this relay (default 4)
	RatePerSec  float64 `toml:"rate_per_second"` // this relay's limit; 0 = unlimited
	PerConn     int     `toml:"messages_per_connection"`
	// NoPipelining sends MAIL, RCPT and DATA one at a time even when the
	// relay offers PIPELINING.
	NoPipelining bool `toml:"no_pipelining"`
}

// Message is one email ready to send.
type Message struct {
	FromName, FromAddress string
	ReplyTo               string
	To, ToName            string
	Subject               string
	Text, HTML            string
	// Body, when set, replaces Text and HTML: both parts rendered and
	// encoded once for many messages, with Values filled in (see Body).
	Body            *Body
	Values          []string
	Headers         map[string]string // List-Id, List-Unsubscribe, List-Unsubscribe-Post, ...
	MessageIDDomain string            // Message-ID is generated on this domain
}

// Recipient is one subscriber as the engine sees them.
type Recipient struct {
	SubscriberID int64
	Email, Name  string
	Language     string
	Themes       []string
	Timezone     string // IANA name; "" = LocalDelivery.DefaultTimezone
}

// LocalDelivery asks for delivery at a local time of day in each
// recipient's time zone. A row whose local time has already passed by less
// than Grace when the job starts is sent at once; otherwise at the next
// occurrence of Hour:Minute (so within 24 hours of the start).
type LocalDelivery struct {
	Hour, Minute    int
	DefaultTimezone string        // for recipients without one; default Asia/Ho_Chi_Minh
	Grace           time.Duration // default 3h
}

// Job describes one issue's send.
type Job struct {
	IssueID int64
	// Recipients streams confirmed subscribers with id > afterID in id order.
	// It is called from one goroutine at a time.
	Recipients func(ctx context.Context, afterID int64, limit int) ([]Recipient, error)
	// Compose builds the message for one recipient; (nil, nil) means there
	// is nothing for them in this issue (recorded as skipped). It is called
	// from several worker goroutines at once.
	Compose func(ctx context.Context, r Recipient) (*Message, error)
	// OnPermanentFailure is told of every 5xx rejection of a recipient
	// (bounce counting). Optional.
	OnPermanentFailure func(ctx context.Context, subscriberID int64, reason string) error
	// Stopped reports a recipient who must not get the message any more
	// (unsubscribed, paused, bounced or deleted after the outbox was made).
	// It is asked right before each message goes to the relay, after the
	// rate limiter's wait, so it must be cheap (an in-memory lookup). The
	// row is then recorded as skipped. Optional.
	Stopped func(subscriberID int64) bool

	// Local, when set, delays each recipient's row to a local time of day.
	// Rows are planned once, when the job's outbox is created.
	Local *LocalDelivery
	// Wait makes Send keep going until every row is final (sent, failed or
	// skipped), sleeping until the next retry or local delivery time. Without
	// it Send makes one pass over the rows that are due and returns;
	// Summary.NextAt says when to call it again.
	Wait bool
}

// Summary counts the outbox rows of an issue after a send.
type Summary struct {
	IssueID                                      int64
	Total, Sent, Failed, Retry, Skipped, Pending int
	SentNow                                      int // sent by this call
	FailedNow                                    int // failed permanently during this call
	Elapsed                                      time.Duration
	Rate                                         float64   // messages sent per second by this call
	RateLimit                                    float64   // configured global limit (0 = none)
	NextAt                                       time.Time // earliest time a pending/retry row is due (zero if none)
	Done                                         bool      // every row is final
	Final                                        bool      // Send's own result (the last Progress call)
	// Folded is when retention folded the rows into counts (see
	// FoldOutbox); zero while they are kept.
	Folded time.Time
}

// Remaining is the number of rows still to send (pending or retry).
func (s Summary) Remaining() int { return s.Pending + s.Retry }

func (s Summary) String() string {
	str := fmt.Sprintf("issue %d: %d recipients: %d sent (%d now, %.1f/s), %d failed, %d skipped, %d pending, %d retry",
		s.IssueID, s.Total, s.Sent, s.SentNow, s.Rate, s.Failed, s.Skipped, s.Pending, s.Retry)
	if !s.NextAt.IsZero() && !s.Done {
		str += ", next due " + s.NextAt.Format(time.RFC3339)
	}
	return str
}

// Migrations returns the schema of the outbox.
func Migrations() store.Migration {
	return store.Migration{Component: "deliver", Steps: []string{
		`CREATE TABLE delivery_jobs (
			issue_id         INTEGER PRIMARY KEY,
			created_at       INTEGER NOT NULL,
			rows_complete_at INTEGER NOT NULL DEFAULT 0,
			finished_at      INTEGER NOT NULL DEFAULT 0
		);
		CREATE TABLE deliveries (
			id              INTEGER PRIMARY KEY,
			issue_id        INTEGER NOT NULL,
			subscriber_id   INTEGER NOT NULL,
			email           TEXT    NOT NULL,
			state           TEXT    NOT NULL DEFAULT 'pending'
			                CHECK (state IN ('pending','sent','retry','failed','skipped')),
			attempts        INTEGER NOT NULL DEFAULT 0,
			not_before_at   INTEGER NOT NULL DEFAULT 0,
			next_attempt_at INTEGER NOT NULL DEFAULT 0,
			retry_until_at  INTEGER NOT NULL DEFAULT 0,
			smtp_code       INTEGER NOT NULL DEFAULT 0,
			smtp_text       TEXT    NOT NULL DEFAULT '',
			last_error      TEXT    NOT NULL DEFAULT '',
			relay           TEXT    NOT NULL DEFAULT '',
			message_id      TEXT    NOT NULL DEFAULT '',
			created_at      INTEGER NOT NULL,
			updated_at      INTEGER NOT NULL,
			sent_at         INTEGER NOT NULL DEFAULT 0,
			UNIQUE (issue_id, subscriber_id)
		);
		CREATE INDEX deliveries_state ON deliveries (issue_id, state, next_attempt_at);
		CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);`,
		// Every state change rewrote this index, a fifth of the cost of
		// recording an outcome; the queries walk (issue_id, subscriber_id).
		`DROP INDEX IF EXISTS deliveries_state;`,
		// One sender per issue at a time (see ErrBusy).
		`ALTER TABLE delivery_jobs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
		ALTER TABLE delivery_jobs ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;`,
		totalsMigration,
		outcomesMigration,
		totalsFinalMigration,
	}}
}

// Validate checks the [smtp] section and what a send needs besides it: each
// relay's password (from the environment), its CA file and the DKIM key.
// Errors name the key at fault: "smtp.relays[1].port: ...".
func (c Config) Validate() error {
	if err := c.ValidateSettings(); err != nil {
		return err
	}
	for i, r := range c.relays() {
		key := c.relayKey(i)
		if r.TLSCAFile != "" {
			if _, err := loadCAs(r.TLSCAFile); err != nil {
				return fmt.Errorf("%stls_ca_file: %v", key, err)
			}
		}
		if r.PasswordEnv != "" && r.Password == "" {
			return fmt.Errorf("%spassword_env: environment variable %s is empty or unset", key, r.PasswordEnv)
		}
	}
	if c.DKIM.Enabled() {
		if _, err := c.DKIM.LoadKeys(); err != nil {
			return err
		}
	}
	return nil
}

// ValidateSettings checks the values of the [smtp] section alone, reading
// neither the environment nor files: what commands that send nothing check.
func (c Config) ValidateSettings() error {
	rs := c.relays()
	if len(rs) == 0 {
		return errors.New("smtp.host: is empty (set smtp.host or [[smtp.relays]])")
	}
	for i, r := range rs {
		key := c.relayKey(i)
		if r.Host == "" {
			return errors.New(key + "host: is empty")
		}
		if r.Port <= 0 || r.Port > 65535 {
			return fmt.Errorf("%sport: %d is not a port", key, r.Port)
		}
		switch strings.ToLower(r.TLS) {
		case "", "starttls", "tls", "opportunistic", "none":
		default:
			return fmt.Errorf("%stls: %q: want starttls, tls, opportunistic or none", key, r.TLS)
		}
		if r.Workers < 0 {
			return fmt.Errorf("%sworkers: %d is negative", key, r.Workers)
		}
		if r.RatePerSec < 0 {
			return fmt.Errorf("%srate_per_second: %g is negative", key, r.RatePerSec)
		}
		if r.PerConn < 0 {
			return fmt.Errorf("%smessages_per_connection: %d is negative", key, r.PerConn)
		}
	}
	if at := strings.LastIndexByte(c.EnvelopeFrom, '@'); at >= 0 && !c.NoVERP && strings.Contains(c.EnvelopeFrom[:at], "+") {
		return fmt.Errorf("smtp.envelope_from: %q: the local part must not hold '+': messages leave as %s+TOKEN@%s (VERP)",
			c.EnvelopeFrom, c.EnvelopeFrom[:strings.IndexByte(c.EnvelopeFrom, '+')], c.EnvelopeFrom[at+1:])
	}
	if c.DKIM.Enabled() {
		if err := c.DKIM.validateSettings(); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		key string
		bad bool
	}{{"rate_per_second", c.RatePerSec < 0}, {"timeout", c.Timeout < 0}, {"retry_for", c.RetryFor < 0}, {"retry_backoff", c.RetryBackoff < 0}} {
		if f.bad {
			return fmt.Errorf("smtp.%s: must not be negative", f.key)
		}
	}
	return nil
}

// relayKey is the config key prefix of relay i: "smtp." or "smtp.relays[i].".
func (c Config) relayKey(i int) string {
	if len(c.Relays) > 0 {
		return fmt.Sprintf("smtp.relays[%d].", i)
	}
	return "smtp."
}

// relays returns the relay pool with defaults filled in.
func (c Config) relays() []Relay {
	var rs []Relay
	if len(c.Relays) > 0 {
		rs = append(rs, c.Relays...)
	} else if c.Host != "" {
		rs = []Relay{{Host: c.Host, Port: c.Port, TLS: c.TLS, TLSCAFile: c.TLSCAFile, Username: c.Username, PasswordEnv: c.PasswordEnv,
			Password: c.Password, HELO: c.HELO, Workers: c.Workers, PerConn: c.PerConn, NoPipelining: c.NoPipelining}}
	}
	for i := range rs {
		r := &rs[i]
		if r.Port == 0 {
			switch strings.ToLower(r.TLS) {
			case "tls":
				r.Port = 465
			case "none":
				r.Port = 25
			default:
				r.Port = 587
			}
		}
		if r.Name == "" {
			r.Name = fmt.Sprintf("%s:%d", r.Host, r.Port)
		}
		if r.Workers == 0 {
			r.Workers = 4
		}
		if r.Password == "" && r.PasswordEnv != "" {
			r.Password = os.Getenv(r.PasswordEnv)
		}
	}
	return rs
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.RetryFor == 0 {
		c.RetryFor = 24 * time.Hour
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = 5 * time.Minute
	}
	return c
}

// Engine sends jobs. Set the exported fields before calling Send.
type Engine struct {
	db     *sql.DB
	cfg    Config
	log    *slog.Logger
	relays []*relay
	err    error // configuration error, reported by Send

	// Progress, if set, is called about every ProgressEvery during Send
	// and once at the end with the live counts (see NewProgress).
	Progress      func(Summary)
	ProgressEvery time.Duration
	// BatchSize is how many recipients are read per Recipients call (default 500).
	BatchSize int
	// ExternalCheckpoints leaves WAL checkpoints to another process
	// (Litestream): a send then never checkpoints in the background.
	ExternalCheckpoints bool

	now            func() time.Time // clock.Now (tests move it)
	clock          clock.Clock      // what waits (retries, leases, paused relays) sleep on
	dialBackoff    time.Duration    // first pause of a relay that cannot be reached
	maxDialBackoff time.Duration
	signer         *dkimSigner
	verp           *VERP        // checks tokens; signs envelope senders unless cfg.NoVERP
	commits        atomic.Int64 // outcome statements, each its own commit (statistics)
}

// NewSMTPEngine sends over SMTP with cfg.
func NewSMTPEngine(db *sql.DB, cfg Config, log *slog.Logger) *Engine {
	e := newEngine(db, cfg, log)
	if err := cfg.Validate(); err != nil {
		e.err = err
		return e
	}
	for _, r := range cfg.relays() {
		e.relays = append(e.relays, newSMTPRelay(r, e.cfg))
	}
	if cfg.DKIM.Enabled() {
		s, err := newDKIMSigner(cfg.DKIM)
		if err != nil {
			e.err = err
		}
		e.signer = s
	}
	return e
}

// NewDirEngine writes one .eml file per recipient into dir instead of
// sending, named <issueID>-<subscriberID>-<email>.eml. The files hold
// readers' personal links: they and a directory made for them are readable
// by their owner only.
func NewDirEngine(db *sql.DB, dir string, log *slog.Logger) *Engine {
	e := newEngine(db, Config{}, log)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.err = fmt.Errorf("deliver: create %s: %w", dir, err)
	}
	e.relays = []*relay{newDirRelay(dir)}
	return e
}

// SetVERP gives the engine the VERP signer: the messages of an issue
// then leave with a VERP envelope sender (unless smtp.no_verp), and
// FindDelivery checks the tokens of bounces with it.
func (e *Engine) SetVERP(v *VERP) { e.verp = v }

// SetClock replaces the clock the engine reads and waits on.
func (e *Engine) SetClock(c clock.Clock) {
	e.clock = clock.Or(c)
	e.now = e.clock.Now
}

func newEngine(db *sql.DB, cfg Config, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{db: db, cfg: cfg.withDefaults(), log: log, now: time.Now, clock: clock.Real,
		ProgressEvery: 2 * time.Second, BatchSize: 500,
		dialBackoff: time.Second, maxDialBackoff: time.Minute}
}
