// Package staffconfig holds the [staff] section of the config file. It is a
// package of its own so that the config package can embed it without
// importing the web server (web/staff imports app, which imports config).
package staffconfig

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Config is the [staff] section of the config file.
//
//	[staff]
//	session_lifetime = "12h"   # a login lasts this long
//	max_failures     = 5       # failed logins in a row before the account is locked
//	lockout          = "15m"   # first lock-out; each further one doubles, up to 24h
//	language         = "vi"    # default UI language: vi or en
//
//	[[staff.accounts]]
//	email         = "lan@haiphong.gov.vn"
//	name          = "Nguyễn Thị Lan"
//	password_hash = "$2a$12$..."   # hpdigest -hash-password, or -create-staff EMAIL
type Config struct {
	SessionLifetime time.Duration `toml:"session_lifetime"`
	MaxFailures     int           `toml:"max_failures"`
	Lockout         time.Duration `toml:"lockout"`
	Language        string        `toml:"language"`
	Accounts        []Account     `toml:"accounts"`
}

// Account is a staff account listed in the config. Accounts created with
// the CLI live only in the database.
type Account struct {
	Email        string `toml:"email"`
	Name         string `toml:"name"`
	PasswordHash string `toml:"password_hash"` // bcrypt
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.SessionLifetime == 0 {
		c.SessionLifetime = 12 * time.Hour
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = 5
	}
	if c.Lockout == 0 {
		c.Lockout = 15 * time.Minute
	}
	if c.Language == "" {
		c.Language = "vi"
	}
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	if c.SessionLifetime < 0 {
		return fmt.Errorf("session_lifetime: must not be negative")
	}
	if c.SessionLifetime != 0 && c.SessionLifetime < time.Minute {
		return fmt.Errorf("session_lifetime: %s is too short (at least 1m)", c.SessionLifetime)
	}
	if c.MaxFailures < 0 {
		return fmt.Errorf("max_failures: must not be negative")
	}
	if c.Lockout < 0 {
		return fmt.Errorf("lockout: must not be negative")
	}
	if c.Language != "" && c.Language != "vi" && c.Language != "en" {
		return fmt.Errorf("language: %q: use vi or en", c.Language)
	}
	seen := map[string]bool{}
	for i, a := range c.Accounts {
		email, err := NormalizeEmail(a.Email)
		if err != nil {
			return fmt.Errorf("accounts[%d].email: %v", i, err)
		}
		if seen[email] {
			return fmt.Errorf("accounts[%d].email: %s is listed twice", i, email)
		}
		seen[email] = true
		if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
			return fmt.Errorf("accounts[%d].password_hash: not a bcrypt hash (%v); create one with -create-staff or -hash-password", i, err)
		}
	}
	return nil
}

// NormalizeEmail checks a staff address and lower-cases it.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return "", fmt.Errorf("%q is not an email address", s)
	}
	return strings.ToLower(s), nil
}
