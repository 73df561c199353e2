package inbound

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the [inbound] section: the built-in SMTP listener and the
// IMAP mailbox poller. Both are off until configured.
//
//	[inbound]
//	listen = "127.0.0.1:2526"           # the office MTA relays the bounce and unsubscribe addresses here
//	domains = ["haiphong.gov.vn"]       # default: the domains of smtp.envelope_from and sender.unsubscribe_address
//	bounce_local_part = "bounces"       # accepts bounces@ and bounces+TOKEN@ (VERP); default: from smtp.envelope_from
//	unsubscribe_local_part = "unsubscribe"  # default: from sender.unsubscribe_address
//	hostname = "digest.haiphong.gov.vn" # in the greeting; default: the machine's name
//	max_message_bytes = 10485760
//	max_connections = 10
//	connections_per_minute = 120
//	messages_per_minute = 600
//	tls_cert_file = "/etc/hpdigest/inbound.crt"   # offers STARTTLS when set (with tls_key_file)
//	tls_key_file = "/etc/hpdigest/inbound.key"
//
//	[inbound.imap]
//	host = "imap.haiphong.gov.vn"
//	...
type Config struct {
	Listen               string   `toml:"listen"` // "" = no listener
	Hostname             string   `toml:"hostname"`
	Domains              []string `toml:"domains"`
	BounceLocalPart      string   `toml:"bounce_local_part"`
	UnsubscribeLocalPart string   `toml:"unsubscribe_local_part"`
	MaxMessageBytes      int64    `toml:"max_message_bytes"`
	MaxConnections       int      `toml:"max_connections"`        // at once
	ConnectionsPerMinute int      `toml:"connections_per_minute"` // new connections, over all clients
	MessagesPerMinute    int      `toml:"messages_per_minute"`    // messages accepted, over all clients
	TLSCertFile          string   `toml:"tls_cert_file"`
	TLSKeyFile           string   `toml:"tls_key_file"`

	IMAP IMAPConfig `toml:"imap"`
}

// IMAPConfig is the [inbound.imap] section: a hosted mailbox (where the
// bounce and unsubscribe addresses deliver) polled on a schedule.
//
//	[inbound.imap]
//	host = "imap.haiphong.gov.vn"     # "" = no polling
//	port = 993                        # default: 993 for tls, 143 otherwise
//	tls = "tls"                       # tls (implicit) | starttls | none (loopback only)
//	tls_ca_file = ""                  # trust a private CA
//	username = "bounces@haiphong.gov.vn"
//	password_env = "HPDIGEST_IMAP_PASSWORD"
//	folder = "INBOX"
//	poll_interval = "5m"
//	processed = "move"                # move | flag
//	move_to = "hpdigest-processed"    # with processed = "move"; created when missing
//	keyword = "$HPDigestProcessed"    # with processed = "flag": \Seen and this keyword are set
type IMAPConfig struct {
	Host         string        `toml:"host"`
	Port         int           `toml:"port"`
	TLS          string        `toml:"tls"`
	TLSCAFile    string        `toml:"tls_ca_file"`
	Username     string        `toml:"username"`
	PasswordEnv  string        `toml:"password_env"`
	Password     string        `toml:"-"` // resolved from PasswordEnv by the config loader
	Folder       string        `toml:"folder"`
	PollInterval time.Duration `toml:"poll_interval"`
	Processed    string        `toml:"processed"`
	MoveTo       string        `toml:"move_to"`
	Keyword      string        `toml:"keyword"`
}

// Defaults fills unset fields. bounceAddress and unsubscribeAddress are
// the list's own addresses (the envelope sender and the List-Unsubscribe
// mailto), from which the local parts and domains default.
func (c *Config) Defaults(bounceAddress, unsubscribeAddress string) {
	bl, bd := splitAddress(bounceAddress)
	ul, ud := splitAddress(unsubscribeAddress)
	if c.BounceLocalPart == "" {
		c.BounceLocalPart = bl
		if i := strings.IndexByte(c.BounceLocalPart, '+'); i >= 0 {
			c.BounceLocalPart = c.BounceLocalPart[:i]
		}
	}
	if c.UnsubscribeLocalPart == "" {
		c.UnsubscribeLocalPart = ul
	}
	if len(c.Domains) == 0 {
		for _, d := range []string{bd, ud} {
			if d != "" && !containsFold(c.Domains, d) {
				c.Domains = append(c.Domains, d)
			}
		}
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 10 << 20
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 10
	}
	if c.ConnectionsPerMinute == 0 {
		c.ConnectionsPerMinute = 120
	}
	if c.MessagesPerMinute == 0 {
		c.MessagesPerMinute = 600
	}
	c.IMAP.defaults()
}

func (c *IMAPConfig) defaults() {
	if c.TLS == "" {
		c.TLS = "tls"
	}
	if c.Port == 0 {
		c.Port = 143
		if c.TLS == "tls" {
			c.Port = 993
		}
	}
	if c.Folder == "" {
		c.Folder = "INBOX"
	}
	if c.PollInterval == 0 {
		c.PollInterval = 5 * time.Minute
	}
	if c.Processed == "" {
		c.Processed = "move"
	}
	if c.MoveTo == "" {
		c.MoveTo = "hpdigest-processed"
	}
	if c.Keyword == "" {
		c.Keyword = "$HPDigestProcessed"
	}
}

func splitAddress(addr string) (local, domain string) {
	addr = trimAngle(addr)
	if i := strings.LastIndexByte(addr, '<'); i >= 0 {
		addr = strings.TrimSuffix(addr[i+1:], ">")
	}
	l, d, ok := cutLast(addr, "@")
	if !ok {
		return "", ""
	}
	return strings.ToLower(l), strings.ToLower(d)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Validate checks the section; errors name the key ("inbound.listen: ...").
func (c *Config) Validate() error {
	if c.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
			return fmt.Errorf("inbound.listen: %q is not host:port", c.Listen)
		}
		if len(c.Domains) == 0 {
			return errors.New("inbound.domains: the listener needs the domains it accepts mail for")
		}
		for _, d := range c.Domains {
			if d == "" || strings.ContainsAny(d, "@ <>") || !strings.Contains(d, ".") && d != "localhost" {
				return fmt.Errorf("inbound.domains: %q is not a domain name", d)
			}
		}
		for _, lp := range []struct{ key, v string }{{"bounce_local_part", c.BounceLocalPart}, {"unsubscribe_local_part", c.UnsubscribeLocalPart}} {
			if lp.v == "" || strings.ContainsAny(lp.v, "@+ <>\"") {
				return fmt.Errorf("inbound.%s: %q must be a plain local part (no @, + or spaces)", lp.key, lp.v)
			}
		}
		if c.MaxMessageBytes < 64<<10 {
			return fmt.Errorf("inbound.max_message_bytes: %d is too small for a bounce with its returned message (at least 65536)", c.MaxMessageBytes)
		}
		for _, n := range []struct {
			key string
			v   int
		}{{"max_connections", c.MaxConnections}, {"connections_per_minute", c.ConnectionsPerMinute}, {"messages_per_minute", c.MessagesPerMinute}} {
			if n.v < 1 {
				return fmt.Errorf("inbound.%s: %d must be at least 1", n.key, n.v)
			}
		}
		if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
			return errors.New("inbound.tls_cert_file: set both tls_cert_file and tls_key_file, or neither")
		}
		if c.TLSCertFile != "" {
			if _, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile); err != nil {
				return fmt.Errorf("inbound.tls_cert_file: %v", err)
			}
		}
	}
	if c.IMAP.Host != "" {
		if err := c.IMAP.validate(); err != nil {
			return err
		}
	}
	return nil
}

// RequirePassword reports an IMAP mailbox whose password variable is empty
// or unset: only the daemon polls the mailbox, so only it needs the password.
func (c *Config) RequirePassword() error {
	if c.IMAP.Host != "" && c.IMAP.Password == "" {
		return fmt.Errorf("inbound.imap.password_env: environment variable %s is empty or unset", c.IMAP.PasswordEnv)
	}
	return nil
}

func (c *IMAPConfig) validate() error {
	switch c.TLS {
	case "tls", "starttls":
	case "none":
		if !isLoopback(c.Host) {
			return fmt.Errorf("inbound.imap.tls: \"none\" sends the password in clear: only for a server on this machine (host %q)", c.Host)
		}
	default:
		return fmt.Errorf("inbound.imap.tls: %q: use tls, starttls or none", c.TLS)
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("inbound.imap.port: %d is not a port", c.Port)
	}
	if c.TLSCAFile != "" {
		if _, err := os.ReadFile(c.TLSCAFile); err != nil {
			return fmt.Errorf("inbound.imap.tls_ca_file: %v", err)
		}
	}
	if c.Username == "" {
		return errors.New("inbound.imap.username: is empty (required with inbound.imap.host)")
	}
	if c.PasswordEnv == "" {
		return errors.New("inbound.imap.password_env: name the environment variable that holds the password")
	}
	if c.Folder == "" {
		return errors.New("inbound.imap.folder: is empty")
	}
	if c.PollInterval < 10*time.Second {
		return fmt.Errorf("inbound.imap.poll_interval: %s is too short (at least 10s)", c.PollInterval)
	}
	switch c.Processed {
	case "move":
		if c.MoveTo == "" || strings.EqualFold(c.MoveTo, c.Folder) {
			return fmt.Errorf("inbound.imap.move_to: %q must be a folder other than %q", c.MoveTo, c.Folder)
		}
	case "flag":
		if !validKeyword(c.Keyword) {
			return fmt.Errorf("inbound.imap.keyword: %q is not an IMAP keyword (letters, digits, $ - _ . only)", c.Keyword)
		}
	default:
		return fmt.Errorf("inbound.imap.processed: %q: use move or flag", c.Processed)
	}
	return nil
}

func validKeyword(k string) bool {
	if k == "" || k[0] == '\\' {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("$-_.", r)) {
			return false
		}
	}
	return true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Accepts reports whether the listener takes mail for addr: the bounce
// address and its VERP forms (bounces+TAG@) and the unsubscribe address,
// at one of the domains. Everything else is refused: it never relays.
func (c *Config) Accepts(addr string) bool {
	local, domain := splitAddress(addr)
	if local == "" || !containsFold(c.Domains, domain) {
		return false
	}
	base := strings.ToLower(c.BounceLocalPart)
	return local == base || strings.HasPrefix(local, base+"+") && len(local) > len(base)+1 ||
		local == strings.ToLower(c.UnsubscribeLocalPart)
}

// address is host:port of the IMAP server.
func (c *IMAPConfig) address() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }
