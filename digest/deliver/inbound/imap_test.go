package inbound

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// dovecot starts Debian's dovecot on a free loopback port with its own
// configuration, state and maildir in a temporary directory, and one user
// (password-file login). As root it runs its login and mail processes as
// the dovenull and dovecot users the package creates; otherwise everything
// runs as the current user. It skips the test when dovecot is missing,
// unless CI is set.
func dovecot(t *testing.T) (addr, username, password string) {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/dovecot"); err2 == nil {
			bin, err = "/usr/sbin/dovecot", nil
		}
	}
	if err != nil {
		skipOrFail(t, "dovecot not found (apt-get install dovecot-imapd)")
	}
	dir, err := os.MkdirTemp("", "hpdigest-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The login and mail processes run as other users: they must reach it.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	loginUser, internalUser, mailUser := currentUser(t), currentUser(t), currentUser(t)
	if os.Geteuid() == 0 {
		loginUser, internalUser, mailUser = systemUser(t, "dovenull"), systemUser(t, "dovecot"), systemUser(t, "dovecot")
	}
	mailDir := filepath.Join(dir, "mail")
	for _, d := range []string{mailDir, filepath.Join(dir, "state")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(mailUser.Uid)
	gid, _ := strconv.Atoi(mailUser.Gid)
	if os.Geteuid() == 0 {
		if err := os.Chown(mailDir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	username, password = "bounces", "s3cret-for-the-test"
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(username+":{PLAIN}"+password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	group, err := user.LookupGroupId(strconv.Itoa(gid))
	if err != nil {
		t.Fatal(err)
	}
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
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-c", cfg)
	out, _ := os.Create(filepath.Join(dir, "stderr"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		skipOrFail(t, "dovecot cannot start: "+err.Error())
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			skipOrFail(t, "dovecot exited: "+dovecotLogs(dir))
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "* OK") {
				return addr, username, password
			}
		}
		if time.Now().After(deadline) {
			skipOrFail(t, "dovecot does not answer on "+addr+": "+dovecotLogs(dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dovecotLogs(dir string) string {
	a, _ := os.ReadFile(filepath.Join(dir, "stderr"))
	b, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
	return string(a) + string(b)
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func currentUser(t *testing.T) *user.User {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func systemUser(t *testing.T, name string) *user.User {
	u, err := user.Lookup(name)
	if err != nil {
		skipOrFail(t, "dovecot's system user "+name+" is missing (is dovecot-core installed?)")
	}
	return u
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// mailbox is a test's own IMAP session, to put mail in and look.
type mailbox struct {
	t *testing.T
	c *imapclient.Client
}

func openMailbox(t *testing.T, addr, user, pass string) *mailbox {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	return &mailbox{t, c}
}

func (m *mailbox) append(folder string, msg []byte) {
	m.t.Helper()
	cmd := m.c.Append(folder, int64(len(msg)), nil)
	if _, err := cmd.Write(msg); err != nil {
		m.t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		m.t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		m.t.Fatalf("append to %s: %v", folder, err)
	}
}

func (m *mailbox) count(folder string) int {
	m.t.Helper()
	st, err := m.c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return -1 // no such folder
	}
	return int(*st.NumMessages)
}

// flags returns the flags of every message in folder.
func (m *mailbox) flags(folder string) [][]imap.Flag {
	m.t.Helper()
	if _, err := m.c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		m.t.Fatal(err)
	}
	msgs, err := m.c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		m.t.Fatal(err)
	}
	var out [][]imap.Flag
	for _, msg := range msgs {
		out = append(out, msg.Flags)
	}
	m.c.Unselect().Wait()
	return out
}

func imapConfig(addr, user, pass string) IMAPConfig {
	host, port, _ := net.SplitHostPort(addr)
	c := IMAPConfig{Host: host, TLS: "none", Username: user, Password: pass, PasswordEnv: "X"}
	c.Port, _ = strconv.Atoi(port)
	c.defaults()
	return c
}

// A DSN and an ARF complaint put in the mailbox are processed once and
// moved; a second poll, and a poller started afresh (a restart), find
// nothing to do. A message the handler cannot take now stays for the next
// poll.
func TestIMAPPollMovesProcessedMail(t *testing.T) {
	addr, user, pass := dovecot(t)
	box := openMailbox(t, addr, user, pass)
	box.append("INBOX", fixture(t, "postfix-dsn-user-unknown.eml"))
	box.append("INBOX", fixture(t, "arf-yahoo.eml"))
	box.append("INBOX", fixture(t, "vacation-gmail.eml"))

	cfg := imapConfig(addr, user, pass)
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	h := &recorder{}
	proc := &Processor{Parser: testParser(), Handler: h, Log: quietLog()}
	ctx := context.Background()
	res, err := NewPoller(cfg, proc, 1<<20).Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := h.got()
	if res.Processed != 3 || len(got) != 2 || got[0].Kind != KindBounce || got[1].Kind != KindComplaint {
		t.Fatalf("first poll: %+v, handler got %d reports", res, len(got))
	}
	if got[0].MessageID != "<hpd.12.345.1772758839@haiphong.example.org>" || got[1].Tokens[0] != "k2026.9t.t9m2b3.QwErTyUiOpAsDfGhJkLzXc" {
		t.Errorf("reports: %+v / %+v", got[0], got[1])
	}
	if n, moved := box.count("INBOX"), box.count(cfg.MoveTo); n != 0 || moved != 3 {
		t.Fatalf("INBOX holds %d, %s holds %d; want 0 and 3", n, cfg.MoveTo, moved)
	}
	for i := 0; i < 2; i++ { // the same poller again, then a new one
		res, err = NewPoller(cfg, proc, 1<<20).Poll(ctx)
		if err != nil || res.Processed != 0 || len(h.got()) != 2 {
			t.Fatalf("poll %d after: %+v %v, handler got %d", i+2, res, err, len(h.got()))
		}
	}

	// The database is busy: the message stays for the next poll.
	box.append("INBOX", fixture(t, "qmail-text.eml"))
	h.setFailing(true)
	res, err = NewPoller(cfg, proc, 1<<20).Poll(ctx)
	if err != nil || res.Deferred != 1 || res.Processed != 0 || box.count("INBOX") != 1 {
		t.Fatalf("poll with a failing handler: %+v %v, INBOX %d", res, err, box.count("INBOX"))
	}
	h.setFailing(false)
	res, err = NewPoller(cfg, proc, 1<<20).Poll(ctx)
	if err != nil || res.Processed != 1 || box.count("INBOX") != 0 || len(h.got()) != 3 {
		t.Fatalf("poll after recovery: %+v %v, INBOX %d", res, err, box.count("INBOX"))
	}
}

// With processed = "flag" the mail stays in its folder, \Seen and with the
// keyword, and is not processed again.
func TestIMAPPollFlagsProcessedMail(t *testing.T) {
	addr, user, pass := dovecot(t)
	box := openMailbox(t, addr, user, pass)
	if err := box.c.Create("Bounces", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	box.append("Bounces", fixture(t, "exchange-ndr.eml"))
	box.append("Bounces", fixture(t, "arf-aol.eml"))

	cfg := imapConfig(addr, user, pass)
	cfg.Folder, cfg.Processed = "Bounces", "flag"
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	h := &recorder{}
	proc := &Processor{Parser: testParser(), Handler: h, Log: quietLog()}
	for i, want := range []int{2, 0} {
		res, err := NewPoller(cfg, proc, 1<<20).Poll(context.Background())
		if err != nil || res.Processed != want {
			t.Fatalf("poll %d: %+v %v, want %d processed", i+1, res, err, want)
		}
	}
	if n := len(h.got()); n != 2 {
		t.Fatalf("handler got %d reports, want 2", n)
	}
	flags := box.flags("Bounces")
	if len(flags) != 2 {
		t.Fatalf("Bounces holds %d messages, want 2", len(flags))
	}
	for _, f := range flags {
		if !slices.Contains(f, imap.FlagSeen) || !slices.Contains(f, imap.Flag(cfg.Keyword)) {
			t.Errorf("flags %v, want \\Seen and %s", f, cfg.Keyword)
		}
	}
}

func TestIMAPLoginFailureIsAnError(t *testing.T) {
	addr, user, _ := dovecot(t)
	cfg := imapConfig(addr, user, "wrong")
	_, err := NewPoller(cfg, &Processor{Parser: testParser(), Handler: &recorder{}, Log: quietLog()}, 1<<20).Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "imap login as bounces") {
		t.Fatalf("wrong password: %v", err)
	}
}
