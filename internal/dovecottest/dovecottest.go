// Package dovecottest starts Debian's dovecot for tests: IMAP on a free
// loopback port, its own configuration, state and maildir in a temporary
// directory, and one user who logs in with a password (a passwd-file). As
// root its login and mail processes run as the dovenull and dovecot users
// the package creates (dovecot refuses root for them); otherwise every
// process runs as the current user. It skips the test when dovecot cannot
// run, unless CI is set.
package dovecottest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/haiphong/hpdigest/internal/daemontest"
)

// Server is a running dovecot.
type Server struct {
	Addr               string // host:port, plain IMAP (no TLS)
	Username, Password string
	Dir                string
}

// Start runs dovecot until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := daemontest.Find(tb, "dovecot", "dovecot-imapd")
	dir, err := os.MkdirTemp("", "hpdigest-dovecot-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	// The login and mail processes run as other users: they must reach it.
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	loginUser, internalUser, mailUser := current(tb), current(tb), current(tb)
	if os.Geteuid() == 0 {
		loginUser, internalUser, mailUser = system(tb, "dovenull"), system(tb, "dovecot"), system(tb, "dovecot")
	}
	mailDir := filepath.Join(dir, "mail")
	for _, d := range []string{mailDir, filepath.Join(dir, "state")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(mailUser.Uid)
	gid, _ := strconv.Atoi(mailUser.Gid)
	if os.Geteuid() == 0 {
		if err := os.Chown(mailDir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	group, err := user.LookupGroupId(strconv.Itoa(gid))
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{Username: "bounces", Password: "s3cret-for-the-test", Dir: dir}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(s.Username+":{PLAIN}"+s.Password+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	port := daemontest.FreePort(tb)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = %[2]s
default_internal_user = %[3]s
default_internal_group = %[4]s
first_valid_uid = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[5]d gid=%[6]d home=%[1]s/mail/%%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[7]d
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
service auth-worker {
  user = %[3]s
}
`, dir, loginUser.Username, internalUser.Username, group.Name, uid, gid, port)
	cfg := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "-F", "-c", cfg) // -F: in the foreground, the test's own child
	cmd.Stdout, cmd.Stderr = out, out
	exited := daemontest.Run(tb, cmd)
	daemontest.WaitGreeting(tb, s.Addr, "* OK", exited, s.Logs)
	return s
}

// Logs returns what dovecot wrote so far.
func (s *Server) Logs() string {
	a, _ := os.ReadFile(filepath.Join(s.Dir, "stderr"))
	b, _ := os.ReadFile(filepath.Join(s.Dir, "dovecot.log"))
	return string(a) + string(b)
}

func current(tb testing.TB) *user.User {
	u, err := user.Current()
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func system(tb testing.TB, name string) *user.User {
	u, err := user.Lookup(name)
	if err != nil {
		daemontest.SkipOrFail(tb, "dovecot's system user "+name+" is missing (is dovecot-core installed?)")
	}
	return u
}
