package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// SIGHUP does not stop the daemon: it says why it did not reload and keeps
// serving; SIGTERM afterwards still stops it cleanly.
func TestSIGHUPKeepsTheDaemonRunning(t *testing.T) {
	_, addr, logs, stop := startDaemon(t, func(cfg string) string { return cfg })
	waitFor(t, "the daemon to start", func() bool { return strings.Contains(logs.String(), "daemon started") })
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SIGHUP line", func() bool { return strings.Contains(logs.String(), "SIGHUP received") })
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("the daemon stopped serving after SIGHUP: %v", err)
	}
	resp.Body.Close()
	if code := stop(); code != 0 {
		t.Fatalf("exit %d after SIGTERM-like stop; log:\n%s", code, logs.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors in the log:\n%s", logs.String())
	}
}
