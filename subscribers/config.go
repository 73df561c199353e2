package subscribers

import (
	"fmt"
	"os"
	"regexp"
	"time"
)

// Config is the [subscribers] section of the TOML file.
//
//	[subscribers]
//	bounce_limit = 3                 # permanent failures (5xx) before a reader is marked bounced
//	soft_bounce_limit = 5            # temporary failures reported later (4.x.x, mailbox full) ...
//	soft_bounce_window = "1440h"     # ... within this long before a reader is marked bounced
//	confirm_resend_interval = "1h"   # at most one confirmation mail per address in this interval
//	default_language = "vi"          # "vi" | "en"
//	default_timezone = "Asia/Ho_Chi_Minh"
//
//	pending_expiry = "720h"          # unconfirmed sign-ups are deleted after this long
//
//	# Link-signing keys. Without any, the daemon generates one secret on first
//	# start and keeps it in the database.
//	[[subscribers.keys]]             # first key signs; the others still verify until retire_at
//	id = "k2026b"
//	secret_env = "HPDIGEST_TOKEN_KEY" # or secret = "..." (at least 32 bytes)
//
//	[[subscribers.keys]]
//	id = "k2026a"
//	secret_env = "HPDIGEST_TOKEN_KEY_OLD"
//	retire_at = 2027-03-01T00:00:00Z
type Config struct {
	BounceLimit           int           `toml:"bounce_limit"`
	SoftBounceLimit       int           `toml:"soft_bounce_limit"`
	SoftBounceWindow      time.Duration `toml:"soft_bounce_window"`
	ConfirmResendInterval time.Duration `toml:"confirm_resend_interval"`
	DefaultLanguage       string        `toml:"default_language"`
	DefaultTimezone       string        `toml:"default_timezone"`
	PendingExpiry         time.Duration `toml:"pending_expiry"`
	Keys                  []Key         `toml:"keys"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.BounceLimit == 0 {
		c.BounceLimit = 3
	}
	if c.SoftBounceLimit == 0 {
		c.SoftBounceLimit = 5
	}
	if c.SoftBounceWindow == 0 {
		c.SoftBounceWindow = 60 * 24 * time.Hour
	}
	if c.ConfirmResendInterval == 0 {
		c.ConfirmResendInterval = time.Hour
	}
	if c.DefaultLanguage == "" {
		c.DefaultLanguage = "vi"
	}
	if c.PendingExpiry == 0 {
		c.PendingExpiry = 30 * 24 * time.Hour
	}
	if c.DefaultTimezone == "" {
		c.DefaultTimezone = "Asia/Ho_Chi_Minh"
	}
}

// MinSecretLen is the shortest accepted signing secret, in bytes.
const MinSecretLen = 32

var keyIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Validate fills the defaults, checks every field and resolves the keys'
// secret_env from the environment, naming the key of the first problem.
func (c *Config) Validate() error {
	if err := c.ValidateSettings(); err != nil {
		return err
	}
	return c.ResolveKeys()
}

// ValidateSettings fills the defaults and checks the values written in the
// config, without reading the environment: the secrets of keys with
// secret_env are ResolveKeys' job (only commands that sign or check links
// need them).
func (c *Config) ValidateSettings() error {
	c.Defaults()
	if c.BounceLimit < 1 {
		return fmt.Errorf("subscribers.bounce_limit: must be at least 1, got %d", c.BounceLimit)
	}
	if c.SoftBounceLimit < 1 {
		return fmt.Errorf("subscribers.soft_bounce_limit: must be at least 1, got %d", c.SoftBounceLimit)
	}
	if c.SoftBounceWindow < 24*time.Hour {
		return fmt.Errorf("subscribers.soft_bounce_window: %s is shorter than a day: soft bounces must repeat over days to mean anything", c.SoftBounceWindow)
	}
	if c.ConfirmResendInterval < 0 {
		return fmt.Errorf("subscribers.confirm_resend_interval: must not be negative")
	}
	if c.PendingExpiry < Lifetime(PurposeConfirm) {
		return fmt.Errorf("subscribers.pending_expiry: must be at least the confirmation link lifetime (%s)", Lifetime(PurposeConfirm))
	}
	if c.DefaultLanguage != "vi" && c.DefaultLanguage != "en" {
		return fmt.Errorf("subscribers.default_language: must be \"vi\" or \"en\", got %q", c.DefaultLanguage)
	}
	if _, err := time.LoadLocation(c.DefaultTimezone); err != nil {
		return fmt.Errorf("subscribers.default_timezone: %v", err)
	}
	seen := map[string]bool{}
	for i, k := range c.Keys {
		where := fmt.Sprintf("subscribers.keys[%d]", i)
		if !keyIDRe.MatchString(k.ID) {
			return fmt.Errorf("%s.id: must be 1-32 letters, digits, '-' or '_', got %q", where, k.ID)
		}
		if seen[k.ID] {
			return fmt.Errorf("%s.id: duplicate key id %q", where, k.ID)
		}
		seen[k.ID] = true
		if k.SecretEnv != "" && k.Secret != "" && !k.fromEnv {
			return fmt.Errorf("%s: set secret or secret_env, not both", where)
		}
		if k.SecretEnv == "" && len(k.Secret) < MinSecretLen {
			return fmt.Errorf("%s.secret: must be at least %d bytes (got %d)", where, MinSecretLen, len(k.Secret))
		}
	}
	if len(c.Keys) > 0 && !c.Keys[0].RetireAt.IsZero() && !c.Keys[0].RetireAt.After(time.Now()) {
		return fmt.Errorf("subscribers.keys[0].retire_at: the first key signs new tokens and must not be retired (%s)", c.Keys[0].RetireAt.Format(time.RFC3339))
	}
	return nil
}

// ResolveKeys reads the secret of every key with secret_env from the
// environment: an error names the key when it is unset or too short.
func (c *Config) ResolveKeys() error {
	for i := range c.Keys {
		k := &c.Keys[i]
		if k.SecretEnv == "" {
			continue
		}
		where := fmt.Sprintf("subscribers.keys[%d]", i)
		v, ok := os.LookupEnv(k.SecretEnv)
		if !ok || v == "" {
			return fmt.Errorf("%s.secret_env: environment variable %s is not set", where, k.SecretEnv)
		}
		if len(v) < MinSecretLen {
			return fmt.Errorf("%s.secret_env: %s must hold at least %d bytes (got %d)", where, k.SecretEnv, MinSecretLen, len(v))
		}
		k.Secret, k.fromEnv = v, true
	}
	return nil
}
