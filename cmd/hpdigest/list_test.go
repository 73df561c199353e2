package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/internal/smtptest"
)

// -subscribers lists a list longer than the pages it is read in: every
// reader once, in id order, in columns that line up across the pages
// (the widest address and name come after the first page), and the
// count per status.
func TestListSubscribersAcrossPages(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, feedServer(t).URL, smtptest.Start(t))
	const n = 2500
	statuses := []string{"confirmed", "pending", "unsubscribed", "bounced"}
	names := []string{"Nguyễn Thị Lan", "", "Minh Tran", "Đặng Văn Đức"}
	emails := make([]string, n+1) // by id
	var csv strings.Builder
	csv.WriteString("email,name,language,themes,status\n")
	for i := 1; i <= n; i++ {
		emails[i] = fmt.Sprintf("reader%d@example%d.org", i, i%7)
		name := names[i%len(names)]
		switch i {
		case 1001:
			name = "Nguyễn Thị Phương Thảo (Hội người Việt tại Nhật Bản)"
		case 2345:
			emails[i] = "nguyen.thi.phuong.thao.hai.phong@dai-hoc-quoc-gia.example.edu.vn"
		}
		fmt.Fprintf(&csv, "%s,%s,%s,%s,%s\n", emails[i], name, []string{"vi", "en"}[i%2], []string{"", "fdi", "diaspora;china"}[i%3], statuses[i%4])
	}
	csvPath := filepath.Join(dir, "subs.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := cli(t, "-config", cfgPath, "-import", csvPath); code != 0 || !strings.Contains(out, fmt.Sprintf("%d added", n)) {
		t.Fatalf("import: exit %d %s %s", code, out, errOut)
	}

	code, out, errOut := cli(t, "-config", cfgPath, "-subscribers")
	if code != 0 {
		t.Fatalf("-subscribers: exit %d %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != n+2 {
		t.Fatalf("%d lines, want a heading, %d readers and the counts", len(lines), n)
	}
	if want := "2500 subscribers: 625 confirmed, 625 pending, 625 unsubscribed, 625 bounced"; lines[n+1] != want {
		t.Errorf("last line %q, want %q", lines[n+1], want)
	}
	heading := []rune(lines[0])
	var starts []int // where each column starts, in characters
	for i, r := range heading {
		if r != ' ' && (i == 0 || heading[i-1] == ' ') {
			starts = append(starts, i)
		}
	}
	if len(starts) != 8 || string(heading[starts[1]:starts[1]+5]) != "EMAIL" {
		t.Fatalf("heading %q", lines[0])
	}
	for id := 1; id <= n; id++ {
		line := []rune(lines[id])
		cell := func(col int) string {
			end := len(line)
			if col+1 < len(starts) {
				end = starts[col+1]
			}
			if end > len(line) || end-starts[col] < 1 {
				t.Fatalf("line %q: column %d out of line with the heading %q", lines[id], col, lines[0])
			}
			c := string(line[starts[col]:end])
			if c[0] == ' ' || (col+1 < len(starts) && !strings.HasSuffix(c, "  ")) {
				t.Fatalf("line %q: column %d out of line with the heading %q", lines[id], col, lines[0])
			}
			return strings.TrimSpace(c)
		}
		if got := cell(0); got != strconv.Itoa(id) {
			t.Fatalf("line %d lists id %s: want every reader once, in id order", id, got)
		}
		if cell(1) != emails[id] || cell(5) != statuses[id%4] {
			t.Fatalf("line %q: want %s, %s", lines[id], emails[id], statuses[id%4])
		}
		for col := 2; col < len(starts); col++ {
			cell(col)
		}
	}
}
