package postfixtest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/haiphong/hpdigest/internal/daemontest"
)

// Sink starts Postfix's smtp-sink, a real SMTP server that accepts every
// message and throws it away, as its own process on a free loopback port
// and returns that port. With dumpDir set it writes each message it
// receives to a file there (the directory must be writable by nobody when
// the test runs as root). It skips the test when smtp-sink is not
// installed, unless CI is set; the sink stops when the test ends.
func Sink(tb testing.TB, dumpDir string) (port int) {
	tb.Helper()
	bin := daemontest.Find(tb, "smtp-sink", "postfix")
	// smtp-sink binds the port itself, so the port is picked by listening on
	// port 0 and closing: another process may take it in between. A sink that
	// cannot bind it, or a greeting that is not the sink's, means another try.
	for try := 1; ; try++ {
		port, err := startSink(tb, bin, dumpDir)
		if err == nil {
			return port
		}
		if try == 5 {
			tb.Fatalf("smtp-sink did not start: %v", err)
		}
		tb.Logf("smtp-sink: %v; trying another port", err)
	}
}

// startSink runs smtp-sink on a port that was free a moment ago and waits
// until it greets with its own name.
func startSink(tb testing.TB, bin, dumpDir string) (int, error) {
	port := daemontest.FreePort(tb)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	name := "hpdigest-sink-" + strconv.Itoa(port)
	args := []string{"-h", name}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody") // smtp-sink refuses to keep root privileges
	}
	if dumpDir != "" {
		args = append(args, "-d", dumpDir+"/")
	}
	args = append(args, addr, "256")
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() { cmd.Process.Kill(); <-exited }
	for i := 0; ; i++ {
		select {
		case <-exited:
			return 0, fmt.Errorf("exited: %s", strings.TrimSpace(stderr.String()))
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			if i == 500 {
				stop()
				return 0, fmt.Errorf("not listening on %s: %v", addr, err)
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		greeting, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.Contains(greeting, name) {
			stop()
			return 0, fmt.Errorf("%s greets %q: another program has the port", addr, greeting)
		}
		// It may still fail on the dump directory or the user switch: give it a moment to say so.
		time.Sleep(100 * time.Millisecond)
		select {
		case <-exited:
			return 0, fmt.Errorf("exited: %s", strings.TrimSpace(stderr.String()))
		default:
		}
		tb.Cleanup(stop)
		sinkPIDs.Store(port, cmd.Process.Pid)
		return port, nil
	}
}

// sinkPIDs maps the port of each running sink to its process id.
var sinkPIDs sync.Map

// PinSink keeps the sink on port to one CPU (smtp-sink is one thread).
func PinSink(port, cpu int) error {
	pid, ok := sinkPIDs.Load(port)
	if !ok {
		return fmt.Errorf("no sink on port %d", port)
	}
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(pid.(int), &set)
}

// SinkCPU returns the CPU time (user and system) the sink on port has
// used so far, in clock ticks' precision (0 if unknown).
func SinkCPU(port int) time.Duration {
	pid, ok := sinkPIDs.Load(port)
	if !ok {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}
