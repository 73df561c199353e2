package inbound

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCorpusShare measures the classifier on an outside corpus of real
// bounces that the fixtures were not written from and the rules were not
// tuned on, e.g. the maildir/bsd directory of github.com/sisimai/set-of-emails
// (files named lhost-*, rhost-*, rfc3464-* are bounces or delays, arf-*
// feedback reports, rfc3834-* auto-replies):
//
//	INBOUND_CORPUS=/path/to/set-of-emails/maildir/bsd go test -run TestCorpusShare -v ./digest/deliver/inbound/
//
// The floors are the shares of the first run on that corpus.
func TestCorpusShare(t *testing.T) {
	dir := os.Getenv("INBOUND_CORPUS")
	if dir == "" {
		t.Skip("INBOUND_CORPUS is not set: no outside corpus to measure on")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .eml files in %s (%v)", dir, err)
	}
	groups := []struct {
		prefix []string
		want   []Kind
		floor  float64
		n, ok  int
	}{
		{prefix: []string{"lhost-", "rhost-", "rfc3464-"}, want: []Kind{KindBounce, KindDelay}, floor: 0.90},
		{prefix: []string{"arf-"}, want: []Kind{KindComplaint, KindOther}, floor: 0.94},
		{prefix: []string{"rfc3834-"}, want: []Kind{KindAutoReply}, floor: 1},
	}
	for _, f := range files {
		base := filepath.Base(f)
		for i := range groups {
			g := &groups[i]
			if !hasAnyPrefix(base, g.prefix) {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g.n++
			rep, err := testParser().Parse(data, Envelope{})
			if err == nil && slices.Contains(g.want, rep.Kind) {
				g.ok++
			} else if err == nil {
				t.Logf("%s: %s (%s)", base, rep.Kind, rep.Reason)
			}
		}
	}
	for _, g := range groups {
		if g.n == 0 {
			continue
		}
		share := float64(g.ok) / float64(g.n)
		t.Logf("%v: %d of %d as %v (%.1f%%)", g.prefix, g.ok, g.n, g.want, 100*share)
		if share < g.floor {
			t.Errorf("%v: %.1f%% recognised, below the floor of %.0f%%", g.prefix, 100*share, 100*g.floor)
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
