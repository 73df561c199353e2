package deliver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/store"
)

const crashEnv = "HPD_DELIVER_CRASH_CHILD"

// TestCrashChild is the child process of TestCrashResumesWithoutDuplicates:
// it sends one issue to the server named in the environment.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("child process of TestCrashResumesWithoutDuplicates")
	}
	var dbPath string
	var port, n, workers int
	if _, err := fmt.Sscanf(spec, "%d %d %d %s", &port, &n, &workers, &dbPath); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background(), db, Migrations()); err != nil {
		t.Fatal(err)
	}
	e := NewSMTPEngine(db, Config{Host: "127.0.0.1", Port: port, TLS: "none", Workers: workers, PerConn: 50, Timeout: 10 * time.Second}, nil)
	e.BatchSize = 100
	sum, err := e.Send(context.Background(), job(1, newPeople(n)))
	if err != nil || !sum.Done {
		t.Fatalf("%+v %v", sum, err)
	}
}

func TestCrashResumesWithoutDuplicates(t *testing.T) {
	const n, workers = 1500, 4
	ts := newTestServer(t)
	ts.keep = false
	dbPath := filepath.Join(t.TempDir(), "crash.db")
	var mu sync.Mutex
	var child *exec.Cmd
	killAt := 0
	ts.set(func() {
		ts.onData = func(_ string, total int) {
			mu.Lock()
			defer mu.Unlock()
			if killAt > 0 && total >= killAt && child != nil && child.Process != nil {
				child.Process.Kill() // SIGKILL, mid-send
				killAt = 0
			}
		}
	})
	run := func(kill int) error {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+strconv.Itoa(ts.port)+" "+strconv.Itoa(n)+" "+strconv.Itoa(workers)+" "+dbPath)
		out := &limitedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		mu.Lock()
		child, killAt = cmd, kill
		err := cmd.Start()
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		if err != nil && kill == 0 {
			t.Logf("child output:\n%s", out.String())
		}
		return err
	}
	received := func() int {
		total := 0
		for _, c := range ts.counts() {
			total += c
		}
		return total
	}
	kills := 0
	for _, at := range []int{1, n / 3, 2 * n / 3} {
		before := received()
		if err := run(before + at); err == nil {
			t.Fatalf("child finished before the kill at %d", before+at)
		}
		kills++
		if got := received(); got >= before+n {
			t.Fatalf("kill did not land part-way: %d received", got)
		}
	}
	if err := run(0); err != nil {
		t.Fatalf("final run: %v", err)
	}
	dups := 0
	got := ts.counts()
	for id := int64(1); id <= n; id++ {
		c := got[addr(id)]
		if c == 0 {
			t.Errorf("%s never got the issue", addr(id))
		}
		if c > 1 {
			dups += c - 1
		}
	}
	t.Logf("%d kills, %d messages, %d duplicates (allowed %d)", kills, received(), dups, kills*workers)
	if dups > kills*workers {
		t.Errorf("%d duplicates after %d kills with %d workers", dups, kills, workers)
	}
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sent int
	db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE issue_id = 1 AND state = 'sent'`).Scan(&sent)
	if sent != n {
		t.Errorf("outbox has %d sent rows, want %d", sent, n)
	}
}

type limitedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.b) < 1<<16 {
		l.b = append(l.b, p...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return string(l.b) }
