// Package config loads the daemon's one TOML file. Each domain package
// defines its own settings; this package puts them together, fills defaults
// and validates everything written in the file at start-up, so a bad config
// fails before anything runs, naming the key, its line and the reason. What
// a part of the config needs from outside the file (secrets in the
// environment, key files) is checked by Require, for the commands that use
// that part.
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/deliver/dnscheck"
	"github.com/haiphong/hpdigest/digest/deliver/inbound"
	"github.com/haiphong/hpdigest/digest/story"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/store/backup"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/web/metrics"
	"github.com/haiphong/hpdigest/web/staff/staffconfig"
)

// Config is the whole file.
type Config struct {
	Database     string `toml:"database"`      // SQLite file
	Timezone     string `toml:"timezone"`      // default for digests and feeds
	TemplatesDir string `toml:"templates_dir"` // overrides for the embedded templates
	OutboxDir    string `toml:"outbox_dir"`    // where -dry-run writes .eml files
	// ThemesRulesFile keeps the phrases staff add to the themes from the
	// staff area (default: beside the database, NAME.rules.toml).
	ThemesRulesFile string `toml:"themes_rules_file"`

	HTTP   HTTP           `toml:"http"`
	Sender Sender         `toml:"sender"`
	SMTP   deliver.Config `toml:"smtp"`

	Fetch   feeds.Config    `toml:"fetch"`
	Feeds   []feeds.Source  `toml:"feeds"`
	Themes  []theme.Theme   `toml:"themes"`
	Digests []digest.Digest `toml:"digests"`
	Stories story.Config    `toml:"stories"`

	Subscribers subscribers.Config `toml:"subscribers"`
	Staff       staffconfig.Config `toml:"staff"`

	file string // the name errors give (the path it was loaded from)
	text []byte // the file, to find the line of a key in errors

	Metrics metrics.Config `toml:"metrics"`
	Backup  backup.Config  `toml:"backup"`

	// Inbound is the mail that comes back: bounces, complaints, unsubscribe requests.
	Inbound inbound.Config `toml:"inbound"`
	// DNSCheck configures -check-dns.
	DNSCheck dnscheck.Config `toml:"dns_check"`
	// Retention bounds the database: old items, outbox rows, reader events.
	Retention Retention `toml:"retention"`
}

// HTTP is the [http] section.
type HTTP struct {
	Listen  string `toml:"listen"`   // "127.0.0.1:8080"; "" disables the web server
	BaseURL string `toml:"base_url"` // public https URL, used in every link of every email
}

// Sender is the [sender] section: who the digest comes from.
type Sender struct {
	Name          string `toml:"name"`
	Address       string `toml:"address"`
	ReplyTo       string `toml:"reply_to"`
	PostalAddress string `toml:"postal_address"` // shown in every footer
	WebsiteURL    string `toml:"website_url"`
	// UnsubscribeAddress is the mailto: of List-Unsubscribe; default Address.
	UnsubscribeAddress string `toml:"unsubscribe_address"`
}

// Domain is the domain of the sender address (for Message-ID and List-Id).
func (s Sender) Domain() string {
	if i := strings.LastIndexByte(s.Address, '@'); i >= 0 {
		return strings.ToLower(s.Address[i+1:])
	}
	return "localhost"
}

// Load reads, defaults and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a config; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("config %s: line %d: %s", name, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		key := und[0].String()
		return nil, fmt.Errorf("config %s: %sunknown key %q (misspelt, or in the wrong section?)", name, lineOf(data, key), key)
	}
	c.file, c.text = name, data
	c.applyDefaults()
	c.resolveSecrets()
	if err := c.Validate(); err != nil {
		return nil, c.explain(err)
	}
	return &c, nil
}

// explain turns a validation error into one naming the file and, for an
// error about a key, the key's line.
func (c *Config) explain(err error) error {
	if ke := asKeyError(err); ke != nil {
		return fmt.Errorf("%s: %s", c.Where(ke.Key), ke.Reason)
	}
	return fmt.Errorf("%s: %w", c.name(), err)
}

// name is how errors name the config: "config" and its file, if any.
func (c *Config) name() string {
	if c.file != "" {
		return "config " + c.file
	}
	return "config"
}

// Where names the config file, the line of key in it (when it can tell)
// and key, as errors about key do: "config hpdigest.toml: line 12:
// digests[0].schedule".
func (c *Config) Where(key string) string {
	return c.name() + ": " + lineOf(c.text, key) + key
}

// Explain turns err, a problem with what key points at (a file or a
// directory the config names), into an error naming the config file, the
// key's line and the key, as Parse's errors do.
func (c *Config) Explain(key string, err error) error {
	return c.explain(&KeyError{key, err.Error()})
}

// File is the path the config was loaded from ("" for one built in code).
func (c *Config) File() string { return c.file }

// Default returns a config with every default filled in and no feeds: the
// base of the demo and of tests.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.Database == "" {
		c.Database = "hpdigest.db"
	}
	if c.ThemesRulesFile == "" {
		c.ThemesRulesFile = rulesFileBeside(c.Database)
	}
	if c.Timezone == "" {
		c.Timezone = "Asia/Ho_Chi_Minh"
	}
	if c.OutboxDir == "" {
		c.OutboxDir = "outbox"
	}
	if c.HTTP.BaseURL == "" {
		c.HTTP.BaseURL = "http://localhost:8080"
	}
	c.HTTP.BaseURL = strings.TrimRight(c.HTTP.BaseURL, "/")
	if c.Sender.Name == "" {
		c.Sender.Name = "Hai Phong Digest"
	}
	if c.Sender.Address == "" {
		c.Sender.Address = "digest@localhost"
	}
	if c.Sender.UnsubscribeAddress == "" {
		c.Sender.UnsubscribeAddress = c.Sender.Address
	}
	if len(c.Themes) == 0 {
		c.Themes = theme.Defaults()
	}
	keys := c.ThemeKeys()
	for i := range c.Digests {
		c.Digests[i].Defaults(c.Timezone, keys)
	}
	c.Subscribers.Defaults()
	c.Staff.Defaults()
	c.Backup.Defaults(c.Database)
	c.Inbound.Defaults(c.BounceAddress(), c.Sender.UnsubscribeAddress)
	c.Retention.defaults()
	for i := range c.Feeds {
		if c.Feeds[i].Timezone == "" {
			c.Feeds[i].Timezone = c.Timezone
		}
	}
}

// rulesFileBeside is the default themes_rules_file of a database.
func rulesFileBeside(database string) string {
	return strings.TrimSuffix(database, filepath.Ext(database)) + ".rules.toml"
}

// resolveSecrets reads the secrets named in the file from the environment;
// Require reports them when a command needs them and they are missing.
func (c *Config) resolveSecrets() {
	if c.SMTP.PasswordEnv != "" {
		c.SMTP.Password = os.Getenv(c.SMTP.PasswordEnv)
	}
	c.Metrics.ResolveToken()
	if c.Inbound.IMAP.PasswordEnv != "" {
		c.Inbound.IMAP.Password = os.Getenv(c.Inbound.IMAP.PasswordEnv)
	}
}

// BounceAddress is the envelope sender bounces go to: smtp.envelope_from,
// else the sender address.
func (c *Config) BounceAddress() string {
	if c.SMTP.EnvelopeFrom != "" {
		return c.SMTP.EnvelopeFrom
	}
	return c.Sender.Address
}

// Need names a part of the config that only some commands use, with what it
// needs from outside the file.
type Need int

const (
	// NeedSMTP: a relay to send through, with its password, CA file and
	// DKIM key (the daemon, -send-now, -resend-failed).
	NeedSMTP Need = iota + 1
	// NeedLinkKeys: the secrets of subscribers.keys, which sign the links in
	// mails and pages and check them when readers follow them.
	NeedLinkKeys
	// NeedMetricsToken: the bearer token of [metrics] token_env (the daemon).
	NeedMetricsToken
	// NeedIMAPPassword: the password of [inbound.imap] (the daemon polls it).
	NeedIMAPPassword
)

// Require checks the parts of the config a command uses beyond what Parse
// checked, reading their secrets from the environment. The error names the
// file, the line and the key, as Parse's do.
func (c *Config) Require(needs ...Need) error {
	for _, n := range needs {
		switch n {
		case NeedSMTP:
			if err := c.SMTP.Validate(); err != nil {
				return fmt.Errorf("%w (or use -dry-run to write .eml files instead)", c.explain(err))
			}
		case NeedLinkKeys:
			if err := c.Subscribers.ResolveKeys(); err != nil {
				return c.explain(err)
			}
		case NeedMetricsToken:
			if err := c.Metrics.RequireToken(); err != nil {
				return c.explain(err)
			}
		case NeedIMAPPassword:
			if err := c.Inbound.RequirePassword(); err != nil {
				return c.explain(err)
			}
		}
	}
	return nil
}

// ThemeKeys lists the configured theme keys in order.
func (c *Config) ThemeKeys() []string {
	keys := make([]string, len(c.Themes))
	for i, t := range c.Themes {
		keys[i] = t.Key
	}
	return keys
}

// Digest returns the digest with key ("" = the first one).
func (c *Config) Digest(key string) (digest.Digest, bool) {
	for _, d := range c.Digests {
		if key == "" || d.Key == key {
			return d, true
		}
	}
	return digest.Digest{}, false
}

// fieldError turns a domain package's field error into a KeyError.
func fieldError(err error) error {
	var fe *feeds.FieldError
	if errors.As(err, &fe) {
		return &KeyError{fe.Key, fe.Reason}
	}
	return err
}

// keyPrefix matches errors of the form "section.key[i].field: reason",
// which is how every domain package's Validate names the key at fault.
var keyPrefix = regexp.MustCompile(`^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.*)$`)

func asKeyError(err error) *KeyError {
	var ke *KeyError
	if errors.As(err, &ke) {
		return ke
	}
	if m := keyPrefix.FindStringSubmatch(err.Error()); m != nil {
		return &KeyError{m[1], m[2]}
	}
	return nil
}

// KeyError is a validation error about one key.
type KeyError struct {
	Key    string // dotted path, with [i] for array entries: "digests[0].schedule"
	Reason string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Reason }

// plainRelays refuses tls = "none" for a relay on another machine: the
// SMTP password and every reader's address would cross the network in
// clear text.
func (c *Config) plainRelays() error {
	type relay struct{ key, host, tls string }
	rs := []relay{{"smtp.tls", c.SMTP.Host, c.SMTP.TLS}}
	if len(c.SMTP.Relays) > 0 {
		rs = rs[:0]
		for i, r := range c.SMTP.Relays {
			rs = append(rs, relay{fmt.Sprintf("smtp.relays[%d].tls", i), r.Host, r.TLS})
		}
	}
	for _, r := range rs {
		if strings.EqualFold(r.tls, "none") && !isLoopback(r.host) {
			return &KeyError{r.key, fmt.Sprintf(`"none" sends the password and every reader's address in clear text to %s: only for a relay on this machine (localhost); use starttls or tls`, r.host)}
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Validate checks everything written in the config (see Require for what
// some commands need besides).
func (c *Config) Validate() error {
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return &KeyError{"timezone", fmt.Sprintf("unknown time zone %q", c.Timezone)}
	}
	u, err := url.Parse(c.HTTP.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &KeyError{"http.base_url", fmt.Sprintf("%q is not an absolute http(s) URL", c.HTTP.BaseURL)}
	}
	for _, a := range []struct{ key, addr string }{{"sender.address", c.Sender.Address}, {"sender.unsubscribe_address", c.Sender.UnsubscribeAddress}} {
		if _, err := mail.ParseAddress(a.addr); err != nil {
			return &KeyError{a.key, fmt.Sprintf("%q is not an email address", a.addr)}
		}
	}
	if c.Sender.ReplyTo != "" {
		if _, err := mail.ParseAddress(c.Sender.ReplyTo); err != nil {
			return &KeyError{"sender.reply_to", fmt.Sprintf("%q is not an email address", c.Sender.ReplyTo)}
		}
	}
	// An SMTP relay is checked when one is configured; the commands that send
	// (the daemon, -send-now without -dry-run) require one (see Require).
	if c.SMTP.Host != "" || len(c.SMTP.Relays) > 0 {
		if err := c.SMTP.ValidateSettings(); err != nil {
			return err
		}
		if err := c.plainRelays(); err != nil {
			return err
		}
	}
	if err := c.Fetch.Validate(); err != nil {
		return fieldError(err)
	}
	if err := feeds.ValidateSources(c.Feeds); err != nil {
		return fieldError(err)
	}
	themeKeys := map[string]bool{}
	for i, t := range c.Themes {
		if t.Key == "" || t.Key == theme.Other {
			return &KeyError{fmt.Sprintf("themes[%d].key", i), fmt.Sprintf("%q: must be set and not %q", t.Key, theme.Other)}
		}
		if themeKeys[t.Key] {
			return &KeyError{fmt.Sprintf("themes[%d].key", i), fmt.Sprintf("%q is used by two themes", t.Key)}
		}
		themeKeys[t.Key] = true
	}
	if _, err := theme.New(c.Themes); err != nil {
		return &KeyError{"themes", err.Error()}
	}
	if len(c.Digests) == 0 {
		return &KeyError{"digests", "at least one [[digests]] entry is needed"}
	}
	digestKeys := map[string]bool{}
	for i, d := range c.Digests {
		if err := d.Validate(c.ThemeKeys()); err != nil {
			field, reason, _ := strings.Cut(err.Error(), ": ")
			return &KeyError{fmt.Sprintf("digests[%d].%s", i, field), reason}
		}
		if digestKeys[d.Key] {
			return &KeyError{fmt.Sprintf("digests[%d].key", i), fmt.Sprintf("%q is used by two digests", d.Key)}
		}
		digestKeys[d.Key] = true
	}
	if err := c.Stories.Validate(); err != nil {
		return err
	}
	if c.Stories.Gazetteer != "" {
		// The staff gazetteer is read now, so a bad entry stops start-up
		// with its file and line.
		if _, err := story.New(c.Stories); err != nil {
			return err
		}
	}
	if err := c.Subscribers.ValidateSettings(); err != nil {
		return err
	}
	if err := c.Inbound.Validate(); err != nil {
		return err
	}
	if err := c.DNSCheck.Validate(); err != nil {
		return err
	}
	if err := c.Staff.Validate(); err != nil {
		if ke := asKeyError(err); ke != nil {
			return &KeyError{"staff." + ke.Key, ke.Reason}
		}
		return fmt.Errorf("staff: %w", err)
	}
	if err := c.Metrics.Validate(c.HTTP.Listen); err != nil {
		return err
	}
	var longestWindow time.Duration
	for _, d := range c.Digests {
		longestWindow = max(longestWindow, d.Window)
	}
	if err := c.Retention.validate(c.Subscribers.SoftBounceWindow, longestWindow); err != nil {
		return err
	}
	return c.Backup.Validate()
}
