package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/digest/story"
)

const valid = `
database = "x.db"

[http]
base_url = "https://digest.example.org/"

[sender]
address = "digest@example.org"

[smtp]
host = "smtp.example.org"

[[feeds]]
name = "A"
url = "https://a.example.org/rss"
language = "vi"
interval = "20m"

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
`

func TestValidConfigGetsDefaults(t *testing.T) {
	c, err := Parse("test.toml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.BaseURL != "https://digest.example.org" {
		t.Errorf("base_url keeps its trailing slash: %q", c.HTTP.BaseURL)
	}
	d := c.Digests[0]
	if d.Timezone != "Asia/Ho_Chi_Minh" || len(d.Themes) == 0 || d.Window == 0 || d.OtherLanguage != "badge" {
		t.Errorf("digest defaults not applied: %+v", d)
	}
	if c.Feeds[0].Interval.Minutes() != 20 {
		t.Errorf("interval = %v", c.Feeds[0].Interval)
	}
	if c.Sender.Domain() != "example.org" {
		t.Errorf("domain = %q", c.Sender.Domain())
	}
}

// Every broken config fails at start-up with the key, the line and the reason.
func TestBrokenConfigNamesKeyAndLine(t *testing.T) {
	cases := []struct {
		name, edit, want string
	}{
		{"bad cron", `schedule = "0 8 * * FRI"|schedule = "every friday"`, `line 21: digests[0].schedule: "every friday" is not a cron spec`},
		{"bad language", `language = "vi"|language = "fr"`, `line 16: feeds[0].language: "fr": must be vi or en`},
		{"bad url", `url = "https://a.example.org/rss"|url = "ftp://a"`, `line 15: feeds[0].url`},
		{"unknown key", `host = "smtp.example.org"|hots = "smtp.example.org"`, `line 11: unknown key "smtp.hots"`},
		{"syntax", `key = "weekly"|key = "weekly`, `line 20:`},
		{"bad tls", `host = "smtp.example.org"|host = "smtp.example.org"` + "\ntls = \"ssl\"", `line 12: smtp.tls: "ssl"`},
		{"bad tz", `key = "weekly"|key = "weekly"` + "\ntimezone = \"Mars/Olympus\"", `digests[0].timezone: unknown time zone`},
		{"bad sender", `address = "digest@example.org"|address = "not an address"`, `line 8: sender.address`},
		{"bad duration", `interval = "20m"|interval = "often"`, `line 17`},
		{"unknown theme", `key = "weekly"|key = "weekly"` + "\nthemes = [\"sport\"]", `digests[0].themes: unknown theme "sport"`},
		{"plain smtp to another machine", `host = "smtp.example.org"|host = "smtp.example.org"` + "\ntls = \"none\"", `line 12: smtp.tls: "none" sends`},
		{"plain smtp relay in a pool", `host = "smtp.example.org"|host = "smtp.example.org"` + "\n[[smtp.relays]]\nhost = \"127.0.0.1\"\ntls = \"none\"\n[[smtp.relays]]\nhost = \"10.0.0.5\"\ntls = \"none\"",
			`line 17: smtp.relays[1].tls: "none" sends`},
		{"bad other_language", `key = "weekly"|key = "weekly"` + "\nother_language = \"translate\"", `digests[0].other_language: "translate": must be "badge", "translated_only" or "omit"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from, to, _ := strings.Cut(c.edit, "|")
			if !strings.Contains(valid, from) {
				t.Fatalf("fixture lacks %q", from)
			}
			_, err := Parse("test.toml", []byte(strings.Replace(valid, from, to, 1)))
			if err == nil {
				t.Fatal("broken config accepted")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "test.toml") {
				t.Fatalf("error %q\nwant it to contain %q and the file name", err, c.want)
			}
		})
	}
}

// tls = "none" is fine for a relay on this machine (a local Postfix).
func TestPlainSMTPToThisMachine(t *testing.T) {
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		cfg := strings.Replace(valid, `host = "smtp.example.org"`, "host = \""+host+"\"\ntls = \"none\"", 1)
		if _, err := Parse("test.toml", []byte(cfg)); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}

// The SMTP password is needed by the commands that send: Parse accepts the
// file without it, Require(NeedSMTP) names the key and its line.
func TestSecretsFromEnvironment(t *testing.T) {
	cfg := strings.Replace(valid, `host = "smtp.example.org"`, `host = "smtp.example.org"
username = "digest"
password_env = "HPD_TEST_SMTP_PASSWORD"`, 1)
	t.Setenv("HPD_TEST_SMTP_PASSWORD", "")
	c, err := Parse("test.toml", []byte(cfg))
	if err != nil {
		t.Fatalf("a command that sends nothing needs no password: %v", err)
	}
	if err := c.Require(NeedLinkKeys); err != nil {
		t.Errorf("the link keys do not need the SMTP password: %v", err)
	}
	want := "config test.toml: line 13: smtp.password_env: environment variable HPD_TEST_SMTP_PASSWORD is empty or unset (or use -dry-run"
	if err := c.Require(NeedSMTP); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("missing password: %v\nwant %q", err, want)
	}
	t.Setenv("HPD_TEST_SMTP_PASSWORD", "s3cret")
	c, err = Parse("test.toml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Require(NeedSMTP); err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Password != "s3cret" {
		t.Errorf("password not read from the environment")
	}
}

// The link-signing keys' secrets are read by Require(NeedLinkKeys); a
// setting of the keys that is wrong in the file still fails Parse.
func TestLinkKeysOnDemand(t *testing.T) {
	cfg := valid + `
[[subscribers.keys]]
id = "k2026"
secret_env = "HPD_TEST_TOKEN_KEY"
`
	t.Setenv("HPD_TEST_TOKEN_KEY", "")
	c, err := Parse("test.toml", []byte(cfg))
	if err != nil {
		t.Fatalf("a command that signs no link needs no key: %v", err)
	}
	want := "config test.toml: line 25: subscribers.keys[0].secret_env: environment variable HPD_TEST_TOKEN_KEY is not set"
	if err := c.Require(NeedLinkKeys); err == nil || err.Error() != want {
		t.Fatalf("missing key: %v\nwant %q", err, want)
	}
	t.Setenv("HPD_TEST_TOKEN_KEY", strings.Repeat("k", 32))
	if err := c.Require(NeedLinkKeys); err != nil || c.Subscribers.Keys[0].Secret != strings.Repeat("k", 32) {
		t.Fatalf("key from the environment: %v, secret %q", err, c.Subscribers.Keys[0].Secret)
	}
	bad := strings.Replace(cfg, `id = "k2026"`, `id = "k 2026"`, 1)
	if _, err := Parse("test.toml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "line 24: subscribers.keys[0].id") {
		t.Fatalf("bad key id: %v", err)
	}
}

// The shipped example must load as it is, with or without its secrets in
// the environment; the commands that need them are told which key is missing.
func TestExampleConfigLoads(t *testing.T) {
	path := filepath.Join("..", "config.example.toml")
	t.Setenv("HPDIGEST_SMTP_PASSWORD", "")
	t.Setenv("HPDIGEST_TOKEN_KEY", "")
	c, err := Load(path)
	if err != nil {
		t.Fatalf("without secrets: %v", err)
	}
	if len(c.Feeds) < 3 || len(c.Digests) == 0 || len(c.Themes) < 3 {
		t.Errorf("example has %d feeds, %d digests, %d themes", len(c.Feeds), len(c.Digests), len(c.Themes))
	}
	for need, key := range map[Need]string{NeedSMTP: "smtp.password_env", NeedLinkKeys: "subscribers.keys[0].secret_env"} {
		if err := c.Require(need); err == nil || !strings.Contains(err.Error(), path+": line ") || !strings.Contains(err.Error(), key) {
			t.Errorf("Require(%d) without secrets: %v, want the file, a line and %s", need, err, key)
		}
	}
	t.Setenv("HPDIGEST_SMTP_PASSWORD", "x")
	t.Setenv("HPDIGEST_TOKEN_KEY", strings.Repeat("k", 32))
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if err := c.Require(NeedSMTP, NeedLinkKeys); err != nil {
		t.Fatalf("with secrets: %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// The [stories] section: defaults when absent, and every mistake named
// with the file, the line and the key (for the staff gazetteer, its own
// file and line too).
func TestStoriesSection(t *testing.T) {
	c, err := Parse("test.toml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stories != (story.Config{}) {
		t.Errorf("no [stories] section: %+v, want the zero value (the detector's defaults)", c.Stories)
	}
	dir := t.TempDir()
	gaz := filepath.Join(dir, "gazetteer.txt")
	if err := os.WriteFile(gaz, []byte("company hoa-sen: Tập đoàn Hoa Sen | Lotus Group\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	section := "\n[stories]\ngazetteer = \"" + gaz + "\"\nthreshold = 6\nsuggest = 4\nmax_days_apart = 5\n"
	c, err = Parse("test.toml", []byte(valid+section))
	if err != nil {
		t.Fatal(err)
	}
	if want := (story.Config{Gazetteer: gaz, Threshold: 6, Suggest: 4, MaxDaysApart: 5}); c.Stories != want {
		t.Errorf("stories %+v, want %+v", c.Stories, want)
	}
	if _, err := story.New(c.Stories); err != nil {
		t.Errorf("the detector refuses the loaded section: %v", err)
	}

	line := func(text, key string) string {
		for i, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, key+" =") {
				return "line " + strconv.Itoa(i+1) + ": "
			}
		}
		t.Fatalf("no %s in %q", key, text)
		return ""
	}
	bad := os.WriteFile(filepath.Join(dir, "bad.txt"), []byte("# staff\nplace y: A || B\n"), 0o644)
	if bad != nil {
		t.Fatal(bad)
	}
	for _, c := range []struct{ from, to, key, want string }{
		{"threshold = 6", "threshold = -1", "threshold", "stories.threshold: must be a positive number, got -1"},
		{"suggest = 4", "suggest = 7", "suggest", "stories.suggest: must be between 0 and the threshold (6), got 7"},
		{"max_days_apart = 5", "max_days_apart = -1", "max_days_apart", "stories.max_days_apart: must be 0 (the default, 7) or more, got -1"},
		{gaz, filepath.Join(dir, "bad.txt"), "gazetteer", "stories.gazetteer: gazetteer " + filepath.Join(dir, "bad.txt") + ": line 2: variant 2 is empty"},
		{gaz, filepath.Join(dir, "missing.txt"), "gazetteer", "stories.gazetteer: open " + filepath.Join(dir, "missing.txt") + ": no such file or directory"},
		{"threshold = 6", "treshold = 6", "treshold", `unknown key "stories.treshold" (misspelt, or in the wrong section?)`},
	} {
		text := valid + strings.Replace(section, c.from, c.to, 1)
		_, err := Parse("test.toml", []byte(text))
		want := "config test.toml: " + line(text, c.key) + c.want
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", c.to, err, want)
		}
	}
}
