package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/haiphong/hpdigest/store"
)

// Migrations returns the schema of the staff tables.
func Migrations() store.Migration {
	return store.Migration{Component: "staff", Steps: []string{
		`CREATE TABLE staff_accounts (
			id            INTEGER PRIMARY KEY,
			email         TEXT NOT NULL UNIQUE,   -- lower-cased
			name          TEXT NOT NULL DEFAULT '',
			password_hash TEXT NOT NULL,          -- bcrypt
			source        TEXT NOT NULL,          -- 'config' or 'cli'
			disabled      INTEGER NOT NULL DEFAULT 0,
			created_at    INTEGER NOT NULL,
			updated_at    INTEGER NOT NULL
		);
		CREATE TABLE staff_sessions (
			token_sha256 TEXT PRIMARY KEY,        -- the cookie holds the token, the table only its hash
			account_id   INTEGER NOT NULL REFERENCES staff_accounts (id) ON DELETE CASCADE,
			csrf         TEXT NOT NULL,
			flash        TEXT NOT NULL DEFAULT '',
			created_at   INTEGER NOT NULL,
			expires_at   INTEGER NOT NULL
		);
		CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);
		CREATE TABLE staff_login_failures (
			email           TEXT PRIMARY KEY,     -- as typed, lower-cased (also for unknown addresses)
			failures        INTEGER NOT NULL DEFAULT 0, -- in a row since the last success or lock
			lockouts        INTEGER NOT NULL DEFAULT 0, -- locks so far: each one lasts twice as long
			locked_until_at INTEGER NOT NULL DEFAULT 0,
			last_failure_at INTEGER NOT NULL DEFAULT 0
		);
		CREATE TABLE staff_audit (
			id       INTEGER PRIMARY KEY,
			at       INTEGER NOT NULL,
			email    TEXT NOT NULL,
			action   TEXT NOT NULL,
			issue_id INTEGER NOT NULL DEFAULT 0,
			detail   TEXT NOT NULL DEFAULT ''
		);
		CREATE INDEX staff_audit_issue ON staff_audit (issue_id, id);`,
		// Failed logins count per address and client network: wrong
		// passwords typed from one network lock that network out, never
		// the editor working from another.
		`DROP TABLE staff_login_failures;
		CREATE TABLE staff_login_failures (
			email           TEXT NOT NULL,        -- as typed, lower-cased (also for unknown addresses)
			client          TEXT NOT NULL,        -- the network the attempts came from (IPv4 address, IPv6 /64)
			failures        INTEGER NOT NULL DEFAULT 0, -- in a row since the last success or lock
			lockouts        INTEGER NOT NULL DEFAULT 0, -- locks so far: each one lasts twice as long
			locked_until_at INTEGER NOT NULL DEFAULT 0,
			last_failure_at INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (email, client)
		) WITHOUT ROWID;
		CREATE INDEX staff_login_failures_last ON staff_login_failures (last_failure_at);`,
	}}
}

// MinPasswordLen is the shortest password CreateAccount accepts.
const MinPasswordLen = 10

// bcryptCost is the work factor of new hashes.
var bcryptCost = 12

// HashPassword returns a bcrypt hash for the config's password_hash.
func HashPassword(password string) (string, error) {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return "", fmt.Errorf("password too short: at least %d characters", MinPasswordLen)
	}
	if len(password) > 72 {
		return "", fmt.Errorf("password too long: bcrypt uses at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	return string(h), err
}

// CreateAccount creates (or, if the address exists, sets the password of
// and re-enables) a staff account: the -create-staff EMAIL command. It
// applies the staff migrations first, so it works on a fresh database.
func CreateAccount(ctx context.Context, db *sql.DB, email, name, password string) error {
	email, err := normalizeEmail(email)
	if err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx, db, Migrations()); err != nil {
		return err
	}
	now := time.Now().Unix()
	_, err = db.ExecContext(ctx, `INSERT INTO staff_accounts (email, name, password_hash, source, created_at, updated_at)
		VALUES (?, ?, ?, 'cli', ?, ?)
		ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash, disabled = 0,
			name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE staff_accounts.name END,
			updated_at = excluded.updated_at`, email, strings.TrimSpace(name), hash, now, now)
	if err != nil {
		return fmt.Errorf("staff: create account %s: %w", email, err)
	}
	// A new password ends every session and lock of the account.
	if _, err := db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE account_id = (SELECT id FROM staff_accounts WHERE email = ?)`, email); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE email = ?`, email)
	return err
}

// syncAccounts makes the config's accounts match the table: listed ones are
// added or updated, config accounts no longer listed are disabled (their
// audit entries stay). CLI accounts are left alone.
func syncAccounts(ctx context.Context, db *sql.DB, accounts []Account) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().Unix()
	if _, err := tx.ExecContext(ctx, `UPDATE staff_accounts SET disabled = 1 WHERE source = 'config'`); err != nil {
		return err
	}
	for _, a := range accounts {
		email, err := normalizeEmail(a.Email)
		if err != nil {
			return err
		}
		// A new password ends the sessions opened with the old one.
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE account_id IN
			(SELECT id FROM staff_accounts WHERE email = ? AND password_hash <> ?)`, email, a.PasswordHash); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO staff_accounts (email, name, password_hash, source, created_at, updated_at)
			VALUES (?, ?, ?, 'config', ?, ?)
			ON CONFLICT (email) DO UPDATE SET name = excluded.name, password_hash = excluded.password_hash,
				source = 'config', disabled = 0, updated_at = excluded.updated_at`, email, a.Name, a.PasswordHash, now, now)
		if err != nil {
			return fmt.Errorf("staff: account %s: %w", email, err)
		}
	}
	// Sessions of disabled accounts end now.
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE account_id IN (SELECT id FROM staff_accounts WHERE disabled = 1)`); err != nil {
		return err
	}
	return tx.Commit()
}

// account is a logged-in staff member.
type account struct {
	ID    int64
	Email string
	Name  string
}

// Display is the name shown in the page and the audit log.
func (a account) Display() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

// session is the state behind the cookie.
type session struct {
	account
	tokenHash string
	CSRF      string
	Flash     string
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// dummyHash is compared against for unknown addresses, so that a login for
// an address that has no account takes as long as one that has (made on
// first use, at the cost of new hashes).
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such account, no such password"), bcryptCost)
	return h
})

var (
	errBadLogin = errors.New("wrong email or password")
	errLocked   = errors.New("locked")
	// errLockedNow is the failure that locked the address for the client.
	errLockedNow = fmt.Errorf("%w by this failure", errLocked)
)

// DefaultMaxFailureRows bounds the table of failed logins.
const DefaultMaxFailureRows = 10_000

// lockedUntil reports when the client may try the address again (zero if
// it may now).
func (h *Handler) lockedUntil(ctx context.Context, email, client string, now time.Time) (time.Time, error) {
	var until int64
	err := h.db.QueryRowContext(ctx, `SELECT locked_until_at FROM staff_login_failures WHERE email = ? AND client = ?`, email, client).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && until <= now.Unix()) {
		return time.Time{}, nil
	}
	return time.Unix(until, 0), err
}

// authenticate checks a password typed from client (a network). Every
// failure counts against the address (known or not) for that client;
// MaxFailures in a row lock the address for that client for Lockout,
// doubled for each lock-out since its last successful login. The correct
// password from another client still works. A known and an unknown
// address cost the same bcrypt; a locked one costs none.
func (h *Handler) authenticate(ctx context.Context, email, password, client string) (account, time.Time, error) {
	now := h.now()
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 {
		email = email[:254]
	}
	if until, err := h.lockedUntil(ctx, email, client, now); err != nil {
		return account{}, time.Time{}, err
	} else if !until.IsZero() {
		return account{}, until, errLocked
	}
	var a account
	var hash string
	err := h.db.QueryRowContext(ctx, `SELECT id, email, name, password_hash FROM staff_accounts WHERE email = ? AND disabled = 0`, email).
		Scan(&a.ID, &a.Email, &a.Name, &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
	case err != nil:
		return account{}, time.Time{}, err
	default:
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil {
			_, err := h.db.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE email = ? AND client = ?`, email, client)
			return a, time.Time{}, err
		}
	}
	until, err := h.countFailure(ctx, email, client, now)
	if err != nil {
		return account{}, time.Time{}, err
	}
	if !until.IsZero() {
		return account{}, until, errLockedNow
	}
	return account{}, time.Time{}, errBadLogin
}

// countFailure records a failed login and locks the address for the
// client when the limit is reached (returning until when). The table
// keeps at most maxFailureRows rows: records a day old without a lock go
// first, then the oldest.
func (h *Handler) countFailure(ctx context.Context, email, client string, now time.Time) (time.Time, error) {
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return time.Time{}, err
	}
	defer tx.Rollback()
	var failures, lockouts int
	if err := tx.QueryRowContext(ctx, `INSERT INTO staff_login_failures (email, client, failures, last_failure_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (email, client) DO UPDATE SET failures = failures + 1, last_failure_at = excluded.last_failure_at
		RETURNING failures, lockouts`, email, client, now.Unix()).Scan(&failures, &lockouts); err != nil {
		return time.Time{}, err
	}
	var until time.Time
	if cfg := h.current().cfg; cfg.MaxFailures > 0 && failures >= cfg.MaxFailures {
		d := cfg.Lockout << min(lockouts, 10)
		if d > 24*time.Hour || d <= 0 {
			d = 24 * time.Hour
		}
		until = now.Add(d)
		if _, err := tx.ExecContext(ctx, `UPDATE staff_login_failures SET failures = 0, lockouts = lockouts + 1, locked_until_at = ? WHERE email = ? AND client = ?`,
			until.Unix(), email, client); err != nil {
			return time.Time{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE locked_until_at <= ? AND last_failure_at < ?`,
		now.Unix(), now.Add(-24*time.Hour).Unix()); err != nil {
		return time.Time{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staff_login_failures WHERE (email, client) IN (
			SELECT email, client FROM staff_login_failures ORDER BY locked_until_at > ?, last_failure_at
			LIMIT max(0, (SELECT COUNT(*) FROM staff_login_failures) - ?))`, now.Unix(), h.maxFailureRows); err != nil {
		return time.Time{}, err
	}
	return until, tx.Commit()
}

// newSession starts a session and returns the cookie's token.
func (h *Handler) newSession(ctx context.Context, a account) (string, error) {
	tok := randomToken()
	now := h.now()
	// Expired sessions are swept here rather than by a timer.
	if _, err := h.db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE expires_at <= ?`, now.Unix()); err != nil {
		return "", err
	}
	_, err := h.db.ExecContext(ctx, `INSERT INTO staff_sessions (token_sha256, account_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hashToken(tok), a.ID, randomToken(), now.Unix(), now.Add(h.current().cfg.SessionLifetime).Unix())
	return tok, err
}

// sessionFor returns the live session of a cookie token (nil if none).
func (h *Handler) sessionFor(ctx context.Context, tok string) (*session, error) {
	if tok == "" || len(tok) > 100 {
		return nil, nil
	}
	var s session
	s.tokenHash = hashToken(tok)
	err := h.db.QueryRowContext(ctx, `SELECT a.id, a.email, a.name, s.csrf, s.flash FROM staff_sessions s
		JOIN staff_accounts a ON a.id = s.account_id
		WHERE s.token_sha256 = ? AND s.expires_at > ? AND a.disabled = 0`, s.tokenHash, h.now().Unix()).
		Scan(&s.ID, &s.Email, &s.Name, &s.CSRF, &s.Flash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (h *Handler) endSession(ctx context.Context, s *session) error {
	_, err := h.db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE token_sha256 = ?`, s.tokenHash)
	return err
}

// setFlash stores a message shown once by the next page.
func (h *Handler) setFlash(ctx context.Context, s *session, msg string) {
	if _, err := h.db.ExecContext(ctx, `UPDATE staff_sessions SET flash = ? WHERE token_sha256 = ?`, msg, s.tokenHash); err != nil {
		h.log.Error("staff: flash", "err", err)
	}
}

func (h *Handler) takeFlash(ctx context.Context, s *session) string {
	if s.Flash == "" {
		return ""
	}
	if _, err := h.db.ExecContext(ctx, `UPDATE staff_sessions SET flash = '' WHERE token_sha256 = ?`, s.tokenHash); err != nil {
		h.log.Error("staff: flash", "err", err)
	}
	return s.Flash
}

// auditEntry is one line of the audit log.
type auditEntry struct {
	At      time.Time
	Email   string
	Action  string
	IssueID int64
	Detail  string
}

func (h *Handler) audit(ctx context.Context, who, action string, issueID int64, detail string) {
	if _, err := h.db.ExecContext(ctx, `INSERT INTO staff_audit (at, email, action, issue_id, detail) VALUES (?, ?, ?, ?, ?)`,
		h.now().Unix(), who, action, issueID, detail); err != nil {
		h.log.Error("staff: audit", "err", err)
	}
}

func (h *Handler) auditLog(ctx context.Context, issueID int64, limit int) ([]auditEntry, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT at, email, action, issue_id, detail FROM staff_audit
		WHERE (? = 0 OR issue_id = ?) ORDER BY id DESC LIMIT ?`, issueID, issueID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auditEntry
	for rows.Next() {
		var e auditEntry
		var at int64
		if err := rows.Scan(&at, &e.Email, &e.Action, &e.IssueID, &e.Detail); err != nil {
			return nil, err
		}
		e.At = store.Time(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
