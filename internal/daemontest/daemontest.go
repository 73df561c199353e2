// Package daemontest holds what the helpers that start real servers for
// tests (Postfix, dovecot) share: finding the program, skipping outside CI
// when it cannot run, a free port, and waiting for the server's greeting.
package daemontest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SkipOrFail skips the test, or fails it when CI is set: in CI every real
// part must run.
func SkipOrFail(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatal(why)
	}
	tb.Skip(why)
}

// Find returns the path of a program, looking in PATH and then in
// /usr/sbin (Debian's daemons live there); it skips (or fails in CI) when
// the program is missing, naming the package to install.
func Find(tb testing.TB, name, pkg string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/" + name); err == nil {
		return "/usr/sbin/" + name
	}
	SkipOrFail(tb, name+" not found (apt-get install "+pkg+")")
	return ""
}

// FreePort returns a loopback TCP port nothing listens on.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitGreeting waits until the server at addr greets with a line starting
// with prefix ("220", "* OK"). It skips (or fails in CI) with logs() when
// the server exits first or does not answer within 20 seconds.
func WaitGreeting(tb testing.TB, addr, prefix string, exited <-chan struct{}, logs func() string) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			SkipOrFail(tb, "the server exited: "+logs())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, prefix) {
				return
			}
		}
		if time.Now().After(deadline) {
			SkipOrFail(tb, "the server does not answer on "+addr+": "+logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Run starts cmd as the test's child and stops it with SIGTERM (then
// SIGKILL after 10 s) when the test ends; the returned channel is closed
// when it has exited.
func Run(tb testing.TB, cmd *exec.Cmd) <-chan struct{} {
	tb.Helper()
	if err := cmd.Start(); err != nil {
		SkipOrFail(tb, cmd.Path+" cannot start: "+err.Error())
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	return exited
}
