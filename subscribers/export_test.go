package subscribers

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A spreadsheet runs a cell that starts with = + - @ (or a tab or CR) as a
// formula. Addresses may legally start with them ("=cmd|calc@evil.example"),
// so every field of the export is defused, not only the name, and an
// import of the export gets the same readers back.
func TestExportDefusesFormulasInEveryField(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	for _, sub := range []Subscriber{
		{Email: "=cmd|'/C_calc'!A0@evil.example", Name: "+SUM(A1:A9)"},
		{Email: "-2+3@evil.example", Name: "@HYPERLINK(\"http://evil.example\")"},
		{Email: "+84912345678@example.vn", Name: "\t=1+1"},
		{Email: "plain@example.org", Name: "Nguyễn Văn An"},
	} {
		if _, err := s.Add(ctx, sub); err != nil {
			t.Fatalf("add %q: %v", sub.Email, err)
		}
	}
	var buf bytes.Buffer
	if err := s.ExportCSV(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		for i, f := range row {
			if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
				t.Errorf("column %s of %q starts a formula: %q", ExportHeader[i], row[0], f)
			}
		}
	}
	back := openStore(t)
	rep, err := back.ImportCSV(ctx, &buf)
	if err != nil || rep.Added != 4 || rep.Rejected != 0 {
		t.Fatalf("import of the export: %+v %v", rep, err)
	}
	for _, email := range []string{"=cmd|'/C_calc'!A0@evil.example", "-2+3@evil.example", "+84912345678@example.vn"} {
		if _, err := back.ByEmail(ctx, email); err != nil {
			t.Errorf("%q did not come back: %v", email, err)
		}
	}
	if sub, _ := back.ByEmail(ctx, "-2+3@evil.example"); sub.Name != "@HYPERLINK(\"http://evil.example\")" {
		t.Errorf("name after the round trip: %q", sub.Name)
	}
}

// -export FILE writes a new private file beside FILE and renames it into
// place: a FILE.tmp planted as a link to another file is neither followed
// nor truncated.
func TestCLIExportNeverWritesThroughALink(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	s.Add(ctx, Subscriber{Email: "an@example.org"})
	dir, elsewhere := t.TempDir(), t.TempDir()
	victim := filepath.Join(elsewhere, "victim")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	path := filepath.Join(dir, "readers.csv")
	if err := os.Symlink(victim, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.CLIExport(ctx, &out, path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Errorf("the file behind the planted link was written: %q", b)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "an@example.org") {
		t.Fatalf("export: %q %v", b, err)
	}
	if st, _ := os.Lstat(path); st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSymlink != 0 {
		t.Errorf("export file mode %v, want a plain 0600 file", st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // the export and the planted link, no leftovers
		t.Errorf("files left in the directory: %v", entries)
	}
}
