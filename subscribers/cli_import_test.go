package subscribers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A partial import succeeds with a summary of the rejected lines; it fails
// only when nothing could be imported or the file cannot be read.
func TestCLIImportFailsOnlyWhenNothingWasImported(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var out bytes.Buffer
	partial := write("partial.csv", "email,name,language,themes\nminh@example.de,Minh,en,fdi\nnot-an-address,Bad,vi,\nbad2,Bad,vi,\nhoa@example.com.au,Hoa,vi,\n")
	if err := s.CLIImport(ctx, &out, partial, nil); err != nil {
		t.Fatalf("partial import: %v", err)
	}
	for _, want := range []string{"2 added", "line 3: rejected", "line 4: rejected", "2 lines rejected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "some lines") {
		t.Errorf("report: %s", out.String())
	}

	out.Reset()
	allBad := write("bad.csv", "email,name,language,themes\nnope,A,vi,\nstill-nope,B,xx,\n")
	err := s.CLIImport(ctx, &out, allBad, nil)
	if !errors.Is(err, ErrNothingImported) || !strings.Contains(err.Error(), "2 lines") {
		t.Errorf("every line rejected: err = %v, want ErrNothingImported naming 2 lines", err)
	}
	if err := s.CLIImport(ctx, &out, filepath.Join(dir, "missing.csv"), nil); err == nil {
		t.Error("an unreadable file imported without error")
	}
	// Lines already on the list count as imported (nothing to change).
	out.Reset()
	if err := s.CLIImport(ctx, &out, partial, nil); err != nil {
		t.Errorf("re-import of the same file: %v", err)
	}
}
