package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEvalStories(t *testing.T) {
	summary := regexp.MustCompile(`^same-story pairs: precision [01]\.\d{3} recall [01]\.\d{3} F1 [01]\.\d{3} \(TP \d+, FP \d+, FN \d+\)$`)

	// No config, no secret, no database: the shipped gazetteer.
	code, out, errOut := cli(t, "-eval-stories", "../../testdata/stories/heldout.jsonl")
	lines := strings.Split(out, "\n")
	if code != 0 || !summary.MatchString(lines[0]) || errOut != "" {
		t.Fatalf("exit %d, first line %q, stderr %q", code, lines[0], errOut)
	}

	// Without a config: the shipped gazetteer does not know the company.
	dir := t.TempDir()
	items := filepath.Join(dir, "items.jsonl")
	os.WriteFile(items, []byte(
		`{"id":"a","lang":"vi","title":"Tập đoàn Hoa Sen Phương Nam khánh thành nhà máy","summary":"","published":"2026-10-08","story":"s"}`+"\n"+
			`{"id":"b","lang":"en","title":"Southern Lotus Group inaugurates factory","summary":"","published":"2026-10-08","story":"s"}`+"\n"), 0o644)
	code, out, _ = cli(t, "-eval-stories", items)
	if code != 0 || !strings.HasPrefix(out, "same-story pairs: precision 0.000 recall 0.000 F1 0.000 (TP 0, FP 0, FN 1)\nmissed pair: a") {
		t.Fatalf("without the staff gazetteer: exit %d\n%s", code, out)
	}

	// A config with a staff gazetteer, read by the normal loader: the
	// relay's password is not in the environment and no database exists,
	// which this command does not need; the staff entry counts.
	gaz := filepath.Join(dir, "gazetteer.txt")
	os.WriteFile(gaz, []byte("company hoa-sen 3: Tập đoàn Hoa Sen Phương Nam | Southern Lotus Group\n"), 0o644)
	cfg := filepath.Join(dir, "config.toml")
	config := "database = \"nowhere/x.db\"\n" +
		"[smtp]\nhost = \"smtp.example.org\"\npassword_env = \"HPD_TEST_UNSET_PASSWORD\"\n" +
		"[[digests]]\nkey = \"weekly\"\nschedule = \"0 8 * * FRI\"\n" +
		"[stories]\ngazetteer = \"" + gaz + "\"\nthreshold = 5\n"
	os.WriteFile(cfg, []byte(config), 0o644)
	t.Setenv("HPD_TEST_UNSET_PASSWORD", "")
	code, out, errOut = cli(t, "-config", cfg, "-eval-stories", items)
	if code != 0 || out != "same-story pairs: precision 1.000 recall 1.000 F1 1.000 (TP 1, FP 0, FN 0)\n" {
		t.Fatalf("with the staff gazetteer: exit %d\n%s%s", code, out, errOut)
	}
	// The section's settings count: a threshold no pair reaches.
	os.WriteFile(cfg, []byte(strings.Replace(config, "threshold = 5", "threshold = 50\nsuggest = 3", 1)), 0o644)
	if code, out, errOut = cli(t, "-config", cfg, "-eval-stories", items); code != 0 || !strings.HasPrefix(out, "same-story pairs: precision 0.000 recall 0.000 F1 0.000 (TP 0, FP 0, FN 1)") {
		t.Errorf("threshold 50: exit %d\n%s%s", code, out, errOut)
	}
	// A bad setting is named with the config file, the line and the key.
	os.WriteFile(cfg, []byte(strings.Replace(config, "threshold = 5", "threshold = -2", 1)), 0o644)
	if code, _, errOut := cli(t, "-config", cfg, "-eval-stories", items); code == 0 || !strings.Contains(errOut, "config.toml: line 10: stories.threshold: must be a positive number, got -2") {
		t.Errorf("bad threshold: exit %d, stderr %q", code, errOut)
	}
	os.WriteFile(cfg, []byte(config), 0o644)

	// Bad input exits non-zero and names the line.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"id":"a","lang":"vi","title":"A"}`+"\n"+`{"id":"b","lang":"de","title":"B"}`+"\n"), 0o644)
	if code, _, errOut := cli(t, "-eval-stories", bad); code == 0 || !strings.Contains(errOut, `bad.jsonl: line 2 (b): lang "de": want vi or en`) {
		t.Errorf("bad input: exit %d, stderr %q", code, errOut)
	}
	os.WriteFile(gaz, []byte("company hoa-sen: Tập đoàn Hoa Sen | \n"), 0o644)
	if code, _, errOut := cli(t, "-config", cfg, "-eval-stories", items); code == 0 || !strings.Contains(errOut, "config.toml: line 9: stories.gazetteer: gazetteer "+gaz+": line 1: variant 2 is empty") {
		t.Errorf("bad gazetteer: exit %d, stderr %q", code, errOut)
	}
}
