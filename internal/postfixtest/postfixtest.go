// Package postfixtest starts a private Postfix instance for tests: its own
// configuration, queue and log in a temporary directory, SMTP on a free
// loopback port, nothing delivered off the machine. Mail for LocalDomain is
// delivered locally, where every user is unknown, so Postfix accepts it and
// then bounces it with a real delivery status notification; mail for the
// Relay domains goes to the given loopback SMTP server (the way an office
// MTA relays the bounce address to the inbound listener).
//
// Postfix's master must start as root (it drops to the postfix user); the
// helper skips the test when it cannot run, unless CI is set.
package postfixtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/internal/daemontest"
)

// Options says what the instance does with mail.
type Options struct {
	Hostname    string   // myhostname; default "mail.test.example"
	LocalDomain string   // delivered locally, every user unknown: bounced with a DSN; default "readers.test.example"
	Relay       []string // domains relayed to RelayTo
	RelayTo     string   // host:port of an SMTP server on loopback
	// Routes relays more domains, each to its own SMTP server on loopback
	// (domain -> host:port): where a reader's mailbox is, say.
	Routes map[string]string
}

// Instance is a running Postfix.
type Instance struct {
	Addr string // host:port of its SMTP server
	Dir  string // its configuration, queue and log
}

// Log returns Postfix's log so far.
func (in *Instance) Log() string { return readFile(filepath.Join(in.Dir, "maillog")) }

// WaitLog waits until the log holds s (or fails the test after timeout).
func (in *Instance) WaitLog(tb testing.TB, s string, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(in.Log(), s) {
		if time.Now().After(deadline) {
			tb.Fatalf("postfix log never showed %q:\n%s", s, in.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Start runs an instance until the test ends.
func Start(tb testing.TB, o Options) *Instance {
	tb.Helper()
	postfix := daemontest.Find(tb, "postfix", "postfix")
	if os.Geteuid() != 0 {
		daemontest.SkipOrFail(tb, "postfix's master must start as root")
	}
	owner, err := user.Lookup("postfix")
	if err != nil {
		daemontest.SkipOrFail(tb, "no postfix user (is the postfix package installed?)")
	}
	if o.Hostname == "" {
		o.Hostname = "mail.test.example"
	}
	if o.LocalDomain == "" {
		o.LocalDomain = "readers.test.example"
	}
	dir, err := os.MkdirTemp("", "hpdigest-postfix-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	uid, _ := strconv.Atoi(owner.Uid)
	for _, d := range []string{"etc", "spool", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	// The postfix user must reach the queue and own its data directory.
	os.Chmod(dir, 0o755)
	if err := os.Chown(filepath.Join(dir, "data"), uid, -1); err != nil {
		tb.Fatal(err)
	}
	port := daemontest.FreePort(tb)
	var transport strings.Builder
	relayDomains := append([]string(nil), o.Relay...)
	for _, d := range o.Relay {
		fmt.Fprintf(&transport, "%s smtp:[%s]:%s\n", d, hostOf(o.RelayTo), portOf(o.RelayTo))
	}
	for d, to := range o.Routes {
		relayDomains = append(relayDomains, d)
		fmt.Fprintf(&transport, "%s smtp:[%s]:%s\n", d, hostOf(to), portOf(to))
	}
	write(tb, filepath.Join(dir, "etc", "transport"), transport.String())
	write(tb, filepath.Join(dir, "etc", "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/spool
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = %[2]s
mydomain = %[2]s
myorigin = $myhostname
mydestination = %[3]s
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = %[4]s
transport_maps = texthash:%[1]s/etc/transport
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
default_transport = error:this test instance delivers nowhere else
disable_dns_lookups = yes
smtp_dns_support_level = disabled
biff = no
`, dir, o.Hostname, o.LocalDomain, strings.Join(relayDomains, ", ")))
	write(tb, filepath.Join(dir, "etc", "master.cf"), fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`, port))
	// "postfix check" creates the queue; then the master runs as this
	// test's own child (it stays in the foreground without -w), so the
	// test stops it, and with it every Postfix process, by its id.
	etc := filepath.Join(dir, "etc")
	logFile, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		tb.Fatal(err)
	}
	defer logFile.Close()
	check := exec.Command(postfix, "-c", etc, "check")
	check.Stdout, check.Stderr = logFile, logFile
	if err := check.Run(); err != nil {
		daemontest.SkipOrFail(tb, "postfix check: "+err.Error()+": "+readFile(filepath.Join(dir, "stderr"))+readFile(filepath.Join(dir, "maillog")))
	}
	daemons, err := exec.Command(postconf(postfix), "-c", etc, "-h", "daemon_directory").Output()
	if err != nil {
		daemontest.SkipOrFail(tb, "postconf: "+err.Error())
	}
	cmd := exec.Command(filepath.Join(strings.TrimSpace(string(daemons)), "master"), "-c", etc)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	exited := daemontest.Run(tb, cmd)
	in := &Instance{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir}
	daemontest.WaitGreeting(tb, in.Addr, "220", exited, func() string { return readFile(filepath.Join(dir, "stderr")) + in.Log() })
	return in
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// postconf is the postconf next to the postfix command.
func postconf(postfix string) string {
	return filepath.Join(filepath.Dir(postfix), "postconf")
}

func write(tb testing.TB, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func hostOf(hostport string) string { h, _, _ := net.SplitHostPort(hostport); return h }
func portOf(hostport string) string { _, p, _ := net.SplitHostPort(hostport); return p }
