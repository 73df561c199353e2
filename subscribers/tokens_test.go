package subscribers

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestTokenRoundTripAndURLSafe(t *testing.T) {
	tk, err := NewTokens([]Key{testKey("k1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 42, 1 << 40} {
		for _, p := range []string{PurposeConfirm, PurposePreferences, PurposeUnsubscribe} {
			tok := tk.Sign(p, id)
			for _, r := range tok {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
					t.Fatalf("token %q has a character that is not URL-safe: %q", tok, r)
				}
			}
			got, err := tk.Verify(tok, p)
			if err != nil || got != id {
				t.Fatalf("Verify(%s, %s) = %d, %v; want %d", tok, p, got, err, id)
			}
		}
	}
}

func TestTokenWrongPurpose(t *testing.T) {
	tk, _ := NewTokens([]Key{testKey("k1")})
	tok := tk.Sign(PurposeUnsubscribe, 7)
	for _, p := range []string{PurposeConfirm, PurposePreferences, "other"} {
		if _, err := tk.Verify(tok, p); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("unsubscribe token verified for %q: %v", p, err)
		}
	}
}

func TestTokenForged(t *testing.T) {
	tk, _ := NewTokens([]Key{testKey("k1")})
	other, _ := NewTokens([]Key{{ID: "k1", Secret: strings.Repeat("x", 40)}})
	tok := tk.Sign(PurposeUnsubscribe, 7)
	parts := strings.Split(tok, ".")
	cases := map[string]string{
		"other secret, same key id": other.Sign(PurposeUnsubscribe, 7),
		"changed subscriber id":     parts[0] + ".8." + parts[2] + "." + parts[3],
		"changed issue time":        parts[0] + "." + parts[1] + ".1." + parts[3],
		"unknown key id":            "k9." + parts[1] + "." + parts[2] + "." + parts[3],
		"truncated mac":             tok[:len(tok)-2],
		"non-canonical id":          parts[0] + ".07." + parts[2] + "." + parts[3],
		"empty":                     "",
		"garbage":                   "....",
		"too long":                  tok + strings.Repeat("A", 200),
	}
	for name, forged := range cases {
		if _, err := tk.Verify(forged, PurposeUnsubscribe); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %q accepted (err %v)", name, forged, err)
		}
	}
}

func TestTokenLifetimes(t *testing.T) {
	tk, _ := NewTokens([]Key{testKey("k1")})
	issued := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	unsub := tk.SignAt(PurposeUnsubscribe, 5, issued)
	if _, err := tk.CheckAt(unsub, PurposeUnsubscribe, issued.Add(61*24*time.Hour)); err != nil {
		t.Fatalf("unsubscribe token rejected after 61 days: %v", err)
	}
	if _, err := tk.CheckAt(unsub, PurposeUnsubscribe, issued.Add(401*24*time.Hour)); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("unsubscribe token after 401 days: %v, want expired", err)
	}
	conf := tk.SignAt(PurposeConfirm, 5, issued)
	if _, err := tk.CheckAt(conf, PurposeConfirm, issued.Add(6*24*time.Hour)); err != nil {
		t.Fatalf("confirm token after 6 days: %v", err)
	}
	if _, err := tk.CheckAt(conf, PurposeConfirm, issued.Add(8*24*time.Hour)); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("confirm token after 8 days: %v, want expired", err)
	}
	if _, err := tk.CheckAt(conf, PurposeConfirm, issued.Add(-time.Hour)); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token from the future accepted: %v", err)
	}
}

func TestTokenKeyRotation(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	oldKey, newKey := testKey("old"), testKey("new")
	before, _ := NewTokens([]Key{oldKey})
	tok := before.SignAt(PurposeUnsubscribe, 9, now)

	oldKey.RetireAt = now.Add(30 * 24 * time.Hour)
	after, _ := NewTokens([]Key{newKey, oldKey})
	if id, err := after.CheckAt(tok, PurposeUnsubscribe, now.Add(24*time.Hour)); err != nil || id.SubscriberID != 9 {
		t.Fatalf("old-key token during overlap: %v %v", id, err)
	}
	if _, err := after.CheckAt(tok, PurposeUnsubscribe, now.Add(31*24*time.Hour)); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("old-key token after retire_at accepted: %v", err)
	}
	fresh := after.SignAt(PurposeUnsubscribe, 9, now)
	if !strings.HasPrefix(fresh, "new.") {
		t.Fatalf("new tokens must be signed by the first key: %s", fresh)
	}
	if _, err := before.CheckAt(fresh, PurposeUnsubscribe, now); err == nil {
		t.Fatal("a signer without the new key accepted its token")
	}
}

func TestNewTokensRejectsWeakKeys(t *testing.T) {
	if _, err := NewTokens(nil); err == nil {
		t.Error("no keys accepted")
	}
	if _, err := NewTokens([]Key{{ID: "k", Secret: "short"}}); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := NewTokens([]Key{{ID: "a.b", Secret: strings.Repeat("s", 40)}}); err == nil {
		t.Error("key id with a dot accepted")
	}
	if _, err := NewTokens([]Key{testKey("k1"), testKey("k1")}); err == nil {
		t.Error("duplicate key ids accepted")
	}
}

func TestConfigFromTOML(t *testing.T) {
	t.Setenv("HP_TEST_KEY", strings.Repeat("n", 40))
	var wrap struct {
		Subscribers Config `toml:"subscribers"`
	}
	_, err := toml.Decode(`
[subscribers]
bounce_limit = 2
confirm_resend_interval = "30m"
default_language = "en"
pending_expiry = "240h"

[[subscribers.keys]]
id = "k2026b"
secret_env = "HP_TEST_KEY"

[[subscribers.keys]]
id = "k2026a"
secret = "an-old-secret-that-is-long-enough-000"
retire_at = 2027-03-01T00:00:00Z
`, &wrap)
	if err != nil {
		t.Fatal(err)
	}
	c := wrap.Subscribers
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BounceLimit != 2 || c.ConfirmResendInterval != 30*time.Minute || c.PendingExpiry != 240*time.Hour || c.Keys[0].Secret != strings.Repeat("n", 40) ||
		!c.Keys[1].RetireAt.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("decoded %+v", c)
	}
	if _, err := NewTokens(c.Keys); err != nil {
		t.Fatal(err)
	}
}

func FuzzVerify(f *testing.F) {
	tk, _ := NewTokens([]Key{testKey("k1"), testKey("k2")})
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Add(tk.SignAt(PurposeUnsubscribe, 3, now))
	f.Add(tk.SignAt(PurposeConfirm, 1<<50, now))
	f.Add("k1.1.1.AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("k2..-1.=")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		for _, p := range []string{PurposeConfirm, PurposePreferences, PurposeUnsubscribe} {
			c, err := tk.CheckAt(tok, p, now)
			if err != nil {
				continue
			}
			// Anything accepted must be exactly what the signer produces.
			if c.SubscriberID <= 0 {
				t.Fatalf("accepted %q with id %d", tok, c.SubscriberID)
			}
			if again := tk.SignAt(p, c.SubscriberID, c.IssuedAt); c.KeyID == "k1" && again != tok {
				t.Fatalf("accepted %q which differs from the signed form %q", tok, again)
			}
		}
	})
}

func TestConfigValidate(t *testing.T) {
	t.Setenv("HP_TEST_KEY", strings.Repeat("z", 48))
	c := Config{Keys: []Key{{ID: "k1", SecretEnv: "HP_TEST_KEY"}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Keys[0].Secret == "" || c.BounceLimit != 3 || c.ConfirmResendInterval != time.Hour || c.DefaultLanguage != "vi" {
		t.Fatalf("defaults/env not applied: %+v", c)
	}
	if err := (&Config{}).Validate(); err != nil {
		t.Errorf("no keys (the app then generates one): %v", err)
	}
	bad := []Config{
		{PendingExpiry: time.Hour},
		{Keys: []Key{{ID: "k1", SecretEnv: "HP_TEST_MISSING"}}},
		{Keys: []Key{{ID: "k1", Secret: "short"}}},
		{DefaultLanguage: "fr", Keys: []Key{testKey("k1")}},
		{DefaultTimezone: "Mars/Base", Keys: []Key{testKey("k1")}},
		{Keys: []Key{{ID: "k1", Secret: strings.Repeat("s", 40), RetireAt: time.Now().Add(-time.Hour)}}},
	}
	for i, c := range bad {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "subscribers.") {
			t.Errorf("bad config %d: %v", i, err)
		}
	}
}

// Commands that sign no link check the settings without the keys' secrets;
// the secrets are read (and reported when missing) by ResolveKeys.
func TestKeySecretsAreResolvedOnDemand(t *testing.T) {
	os.Unsetenv("HP_TEST_UNSET_KEY")
	c := Config{Keys: []Key{{ID: "k1", SecretEnv: "HP_TEST_UNSET_KEY"}}}
	if err := c.ValidateSettings(); err != nil {
		t.Fatalf("settings without the secret in the environment: %v", err)
	}
	if err := c.ResolveKeys(); err == nil || !strings.Contains(err.Error(), "subscribers.keys[0].secret_env: environment variable HP_TEST_UNSET_KEY is not set") {
		t.Fatalf("ResolveKeys: %v", err)
	}
	t.Setenv("HP_TEST_UNSET_KEY", "short")
	if err := c.ResolveKeys(); err == nil || !strings.Contains(err.Error(), "subscribers.keys[0].secret_env: HP_TEST_UNSET_KEY must hold at least 32 bytes") {
		t.Fatalf("ResolveKeys with a short secret: %v", err)
	}
	t.Setenv("HP_TEST_UNSET_KEY", strings.Repeat("q", 32))
	if err := c.ResolveKeys(); err != nil || c.Keys[0].Secret != strings.Repeat("q", 32) {
		t.Fatalf("ResolveKeys: %v, secret %q", err, c.Keys[0].Secret)
	}
	// Checking again after the secret was read is not "secret and secret_env both set".
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after ResolveKeys: %v", err)
	}
	both := Config{Keys: []Key{{ID: "k1", SecretEnv: "HP_TEST_UNSET_KEY", Secret: strings.Repeat("s", 40)}}}
	if err := both.ValidateSettings(); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("secret and secret_env both in the file: %v", err)
	}
}
