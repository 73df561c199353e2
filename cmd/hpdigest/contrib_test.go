package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needTool finds a program a test drives: the test is skipped without it,
// except in CI (CI set), where .ci/run installs it and its absence fails.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (.ci/run installs it)", name)
		}
		t.Skipf("%s is not installed; set CI to make this a failure", name)
	}
	return path
}

// The service unit passes systemd-analyze verify without a single warning
// (verify exits 0 on unknown keys and bad values, so any line about the
// unit fails the test), and its sandbox scores as well exposed as it did
// when written.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	unit, err := os.ReadFile(filepath.Join("..", "..", "contrib", "systemd", "hpdigest.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/hpdigest ") {
		t.Fatal("the unit no longer starts /usr/local/bin/hpdigest")
	}
	// verify checks that ExecStart's program exists: point it at one that does.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hpdigest.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/hpdigest", exe)), 0o644)
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "hpdigest.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=true", "--threshold=20", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: exposure above 2.0 or an error: %v\n%s", err, out)
	}
}
