package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Retention is on by default with half a year of items and outbox, reader
// events for as long as the reader, nightly; "forever" turns a part off.
func TestRetentionDefaultsAndForever(t *testing.T) {
	c, err := Parse("test.toml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Retention
	if r.Items.Age != DefaultRetainItems || r.Outbox.Age != DefaultRetainOutbox || !r.ReaderEvents.Forever || r.Schedule != DefaultRetentionSchedule {
		t.Errorf("defaults: %+v", r)
	}
	c, err = Parse("test.toml", []byte(valid+"\n[retention]\nitems = \"forever\"\noutbox = \"2160h\"\nreader_events = \"8760h\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, ok := c.Retention.Items.Before(now); ok {
		t.Error(`items = "forever" has a cutoff`)
	}
	if cut, ok := c.Retention.Outbox.Before(now); !ok || !cut.Equal(now.Add(-90*24*time.Hour)) {
		t.Errorf("outbox cutoff = %v %v", cut, ok)
	}
}

// Settings that would lose what is still needed are refused, with the line.
func TestRetentionTooShortIsRefused(t *testing.T) {
	for _, c := range []struct{ edit, want string }{
		{"\n[retention]\noutbox = \"24h\"\n", "line 24: retention.outbox: 24h0m0s is too short"},
		{"\n[retention]\nitems = \"1 week\"\n", `line 24: "1 week": use a duration`},
		{"\n[retention]\nreader_events = \"744h\"\n", "retention.reader_events: 744h0m0s is shorter than subscribers.soft_bounce_window"},
		{"\n[retention]\nschedule = \"nightly\"\n", "line 24: retention.schedule"},
	} {
		_, err := Parse("test.toml", []byte(valid+c.edit))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.edit, err, c.want)
		}
	}
	// Drafts pick from the items of their window: those are never pruned.
	long := strings.Replace(valid, `schedule = "0 8 * * FRI"`, "schedule = \"0 8 * * FRI\"\nwindow = \"2400h\"", 1)
	if _, err := Parse("test.toml", []byte(long+"\n[retention]\nitems = \"1440h\"\n")); err == nil || !strings.Contains(err.Error(), "longest digest window") {
		t.Errorf("items shorter than a window: %v", err)
	}
}

// A reload keeps the running value of what needs a restart, says which,
// and takes every other setting from the file.
func TestKeepRestartOnly(t *testing.T) {
	t.Setenv("HP_TEST_KEY", strings.Repeat("k", 40))
	withKey := valid + "\n[[subscribers.keys]]\nid = \"k1\"\nsecret_env = \"HP_TEST_KEY\"\n"
	running, err := Parse("test.toml", []byte(withKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := running.Require(NeedLinkKeys); err != nil {
		t.Fatal(err)
	}
	same, err := Parse("test.toml", []byte(withKey))
	if err != nil {
		t.Fatal(err)
	}
	if changed := same.KeepRestartOnly(running); len(changed) != 0 {
		t.Errorf("an unchanged file needs a restart for %v (a secret read from the environment is not a change)", changed)
	}

	edited := strings.NewReplacer(`database = "x.db"`, `database = "y.db"`,
		`host = "smtp.example.org"`, `host = "smtp2.example.org"`,
		`interval = "20m"`, `interval = "40m"`,
		"[http]\n", "[http]\nlisten = \"127.0.0.1:9000\"\n").Replace(withKey)
	next, err := Parse("test.toml", []byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	changed := next.KeepRestartOnly(running)
	slices.Sort(changed)
	if want := []string{"database", "http.listen", "smtp"}; !slices.Equal(changed, want) {
		t.Errorf("needs a restart: %v, want %v", changed, want)
	}
	if next.Database != "x.db" || next.SMTP.Host != "smtp.example.org" || next.HTTP.Listen != "" {
		t.Errorf("restart-only settings took the file's values: %q %q %q", next.Database, next.SMTP.Host, next.HTTP.Listen)
	}
	if next.Feeds[0].Interval != 40*time.Minute {
		t.Errorf("a feed's interval was not taken from the file: %v", next.Feeds[0].Interval)
	}
	if next.ThemesRulesFile != "x.rules.toml" || next.Backup.Dir != "backups" {
		t.Errorf("what defaults to beside the database moved with the new path: %q %q", next.ThemesRulesFile, next.Backup.Dir)
	}
	if next.File() != "test.toml" {
		t.Errorf("File() = %q", next.File())
	}
}
