package staffconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestDecodeAndDefaults(t *testing.T) {
	var f struct {
		Staff Config `toml:"staff"`
	}
	src := `
[staff]
session_lifetime = "8h"
lockout = "30m"

[[staff.accounts]]
email = "Lan@HaiPhong.gov.vn"
name = "Nguyễn Thị Lan"
password_hash = "$2a$04$1Jg0q9cDC9Ke2a7KN0y7a.5VvCoWn1HKdYyRSlzGr6LnRHaGOGAJa"
`
	md, err := toml.Decode(src, &f)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("undecoded keys %v", u)
	}
	c := f.Staff
	c.Defaults()
	if c.SessionLifetime != 8*time.Hour || c.Lockout != 30*time.Minute || c.MaxFailures != 5 || c.Language != "vi" {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Accounts[0].PasswordHash = "plain text"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "accounts[0].password_hash") {
		t.Errorf("a plain-text password passed: %v", err)
	}
}
