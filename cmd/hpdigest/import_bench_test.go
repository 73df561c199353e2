package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/store"
)

// BenchmarkImport1M imports a 1,000,000-line CSV file with the real
// command (hpdigest -import, built for the benchmark) and, in the same run,
// puts the same rows in with bare INSERTs (one prepared statement, 1,000
// rows per transaction, no checks): the baseline. Each runs as its own
// process, so its peak memory (max RSS) is its own.
//
//	go test -run XXX -bench Import1M -benchtime 1x ./cmd/hpdigest
//
// HPDIGEST_BENCH_LINES changes the size.
func BenchmarkImport1M(b *testing.B) {
	lines := 1_000_000
	if v := os.Getenv("HPDIGEST_BENCH_LINES"); v != "" {
		fmt.Sscan(v, &lines)
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "hpdigest")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	csv := filepath.Join(dir, "readers.csv")
	writeImportFile(b, csv, lines)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run := filepath.Join(dir, fmt.Sprint("run", i))
		os.Mkdir(run, 0o700)
		cfg := filepath.Join(run, "config.toml")
		os.WriteFile(cfg, []byte(fmt.Sprintf("database = %q\n\n[[digests]]\nkey = \"weekly\"\nschedule = \"0 8 * * FRI\"\n", filepath.Join(run, "import.db"))), 0o600)
		imp := measure(b, exec.Command(bin, "-config", cfg, "-import", csv))
		base := measure(b, benchChild(filepath.Join(run, "insert.db"), csv))
		b.ReportMetric(imp.took.Seconds(), "import-s")
		b.ReportMetric(base.took.Seconds(), "bare-insert-s")
		b.ReportMetric(imp.took.Seconds()/base.took.Seconds(), "time-ratio")
		b.ReportMetric(float64(imp.maxRSS)/(1<<20), "import-peak-MB")
		b.ReportMetric(float64(base.maxRSS)/(1<<20), "bare-insert-peak-MB")
	}
}

type measured struct {
	took   time.Duration
	maxRSS int64 // bytes
}

// measure runs cmd to its end and returns its wall time and peak RSS.
func measure(b *testing.B, cmd *exec.Cmd) measured {
	b.Helper()
	var errOut strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", cmd.Path, err, errOut.String())
	}
	m := measured{took: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = int64(ru.Maxrss) * 1024 // kilobytes on Linux
	}
	return m
}

const benchChildEnv = "HPDIGEST_BENCH_INSERT"

// benchChild is this test binary run as the baseline process.
func benchChild(db, csv string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBareInsertProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), benchChildEnv+"="+db+"|"+csv)
	return cmd
}

// TestBareInsertProcess is the baseline of BenchmarkImport1M when run as
// its child: the rows of the CSV file inserted into a new database as they
// are, with the same schema (and so the same triggers).
func TestBareInsertProcess(t *testing.T) {
	arg := os.Getenv(benchChildEnv)
	if arg == "" {
		t.Skip("the baseline process of BenchmarkImport1M")
	}
	dbPath, csvPath, _ := strings.Cut(arg, "|")
	ctx := context.Background()
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.Migrate(ctx, db, app.Migrations()...); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	now := time.Now().Unix()
	for more := true; more; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO subscribers (email, name, language, themes, status, created_at, updated_at, status_at)
			VALUES (?, ?, ?, ?, 'confirmed', ?, ?, ?)`)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < 1000; n++ {
			if more = sc.Scan(); !more {
				break
			}
			p := strings.Split(sc.Text(), ",")
			if _, err := st.ExecContext(ctx, p[0], p[1], p[2], strings.ReplaceAll(p[3], ";", " "), now, now, now); err != nil {
				t.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
