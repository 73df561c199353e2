// Package deliver owns the outbox (one row per issue and subscriber) and
// sends it: a pool of workers holding SMTP connections (go-mail), a global
// rate limit, retries for temporary failures, permanent failures recorded as
// bounces, and resumption after a crash. A directory transport writes .eml
// files instead (dry runs and the demo). Table: deliveries.
package deliver

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// Outbox row states.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateRetry   = "retry"   // temporary failure; next_attempt_at says when
	StateFailed  = "failed"  // permanent failure (5xx), counted as a bounce
	StateSkipped = "skipped" // nothing in the issue for the subscriber's themes
)

// Config is the [smtp] section: the relay(s) and the sending limits.
type Config struct {
	Host        string        `toml:"host"`
	Port        int           `toml:"port"`
	TLS         string        `toml:"tls"` // "starttls" (default), "tls", "none"
	Username    string        `toml:"username"`
	PasswordEnv string        `toml:"password_env"` // name of the environment variable with the password
	Password    string        `toml:"-"`            // resolved from PasswordEnv by the config loader
	HELO        string        `toml:"helo"`
	Workers     int           `toml:"workers"`         // connections at once
	RatePerSec  float64       `toml:"rate_per_second"` // 0 = unlimited
	PerConn     int           `toml:"messages_per_connection"`
	Timeout     time.Duration `toml:"timeout"`
	RetryFor    time.Duration `toml:"retry_for"` // keep retrying 4xx this long
}

// Message is one email ready to send.
type Message struct {
	FromName, FromAddress string
	ReplyTo               string
	To, ToName            string
	Subject               string
	Text, HTML            string
	Headers               map[string]string // List-Id, List-Unsubscribe, List-Unsubscribe-Post, ...
	MessageIDDomain       string            // Message-ID is generated on this domain
}

// Recipient is one subscriber as the engine sees them.
type Recipient struct {
	SubscriberID int64
	Email, Name  string
	Language     string
	Themes       []string
	Timezone     string
}

// Job describes one issue's send.
type Job struct {
	IssueID int64
	// Recipients streams confirmed subscribers with id > afterID in id order.
	Recipients func(ctx context.Context, afterID int64, limit int) ([]Recipient, error)
	// Compose builds the message for one recipient; (nil, nil) means there
	// is nothing for them in this issue (recorded as skipped).
	Compose func(ctx context.Context, r Recipient) (*Message, error)
	// OnPermanentFailure is told of every 5xx rejection (bounce counting).
	OnPermanentFailure func(ctx context.Context, subscriberID int64, reason string) error
}

// Summary counts the outbox rows of an issue after a send.
type Summary struct {
	Total, Sent, Failed, Retry, Skipped, Pending int
	SentNow                                      int // sent by this call
}

// Migrations returns the schema of the outbox.
func Migrations() store.Migration {
	return store.Migration{Component: "deliver", Steps: []string{}}
}

// Transport sends messages; implementations: SMTP pool, directory of .eml files.
type Transport interface{}

// Engine sends jobs.
type Engine struct {
	db  *sql.DB
	cfg Config
	dir string
	log *slog.Logger
}

// NewSMTPEngine sends over SMTP with cfg.
func NewSMTPEngine(db *sql.DB, cfg Config, log *slog.Logger) *Engine {
	return &Engine{db: db, cfg: cfg, log: log}
}

// NewDirEngine writes one .eml file per recipient into dir instead of sending.
func NewDirEngine(db *sql.DB, dir string, log *slog.Logger) *Engine {
	return &Engine{db: db, dir: dir, log: log}
}

// Send creates the outbox rows of the job (if not yet there) and delivers
// every row that is pending or due for retry. Rows already sent are never
// sent again, so running Send twice sends nothing the second time.
func (e *Engine) Send(ctx context.Context, job Job) (Summary, error) {
	return Summary{}, errors.New("deliver: not implemented yet")
}
