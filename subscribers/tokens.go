package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token purposes: a token signed for one never verifies for another.
const (
	PurposeConfirm     = "confirm"
	PurposePreferences = "prefs"
	PurposeUnsubscribe = "unsub"
)

// Token lifetimes by purpose. Unsubscribe links must keep working in old
// emails for a long time (at least 60 days is the requirement); a
// confirmation link is only meant for the next few days.
var lifetimes = map[string]time.Duration{
	PurposeConfirm:     7 * 24 * time.Hour,
	PurposePreferences: 400 * 24 * time.Hour,
	PurposeUnsubscribe: 400 * 24 * time.Hour,
}

// Lifetime returns how long a token of purpose stays valid (0 for an
// unknown purpose).
func Lifetime(purpose string) time.Duration { return lifetimes[purpose] }

// clockSkew tolerates tokens issued slightly "in the future" by another
// process whose clock runs ahead.
const clockSkew = 5 * time.Minute

// maxTokenLen bounds the work done on hostile input.
const maxTokenLen = 128

// macLen is the number of HMAC-SHA256 bytes kept in a token (128 bits).
const macLen = 16

// Errors from Verify. ErrTokenExpired wraps ErrInvalidToken, so a caller
// that does not care about the difference checks only ErrInvalidToken.
var (
	ErrInvalidToken = errors.New("invalid token")
	ErrTokenExpired = fmt.Errorf("%w: expired", ErrInvalidToken)
)

// Key is one HMAC key; the first configured key signs, the others still
// verify until their RetireAt (zero: never retires).
type Key struct {
	ID        string    `toml:"id"`
	Secret    string    `toml:"secret"`     // the secret itself, or:
	SecretEnv string    `toml:"secret_env"` // name of the environment variable holding it (resolved by Config.ResolveKeys)
	RetireAt  time.Time `toml:"retire_at"`

	fromEnv bool // Secret was read from SecretEnv
}

// Written is the key as the config file writes it: without a secret read
// from the environment.
func (k Key) Written() Key {
	if k.fromEnv {
		k.Secret, k.fromEnv = "", false
	}
	return k
}

// Tokens signs and verifies URL tokens: HMAC-SHA256 over purpose, subscriber
// id, issue time and key id.
//
// A token reads "<key id>.<subscriber id, base 36>.<issued at, unix seconds
// base 36>.<first 16 bytes of the MAC, base64url>", e.g.
// "k1.2s.t4x1kg.3q2d…": only URL-safe characters, about 50 of them. The
// purpose is not written in the token but is part of the MAC, so a token
// verifies only for the purpose it was signed for.
type Tokens struct {
	keys []Key
	macs []*sync.Pool // per key: HMAC-SHA256 states keyed with it (a send signs two tokens per reader)
	now  func() time.Time
}

// NewTokens makes a signer; the first key signs. Keys need an id of letters,
// digits, '-' or '_' and a secret of at least MinSecretLen bytes.
func NewTokens(keys []Key) (*Tokens, error) {
	if len(keys) == 0 {
		return nil, errors.New("subscribers: no token keys configured")
	}
	seen := map[string]bool{}
	for i, k := range keys {
		if !keyIDRe.MatchString(k.ID) {
			return nil, fmt.Errorf("subscribers: token key %d: bad id %q", i, k.ID)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("subscribers: token key %d: duplicate id %q", i, k.ID)
		}
		seen[k.ID] = true
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("subscribers: token key %q: secret shorter than %d bytes", k.ID, MinSecretLen)
		}
	}
	t := &Tokens{keys: append([]Key(nil), keys...), now: time.Now}
	for _, k := range t.keys {
		secret := []byte(k.Secret)
		t.macs = append(t.macs, &sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }})
	}
	return t, nil
}

// SetClock replaces the clock (tests).
func (t *Tokens) SetClock(now func() time.Time) { t.now = now }

// Sign returns a URL-safe token for purpose and subscriber id, issued now.
func (t *Tokens) Sign(purpose string, subscriberID int64) string {
	return t.SignAt(purpose, subscriberID, t.now())
}

// SignAt is Sign with an explicit issue time.
func (t *Tokens) SignAt(purpose string, subscriberID int64, issued time.Time) string {
	k := t.keys[0]
	id := strconv.FormatInt(subscriberID, 36)
	iat := strconv.FormatInt(issued.Unix(), 36)
	mac := t.computeMAC(0, purpose, id, iat)
	return k.ID + "." + id + "." + iat + "." + base64.RawURLEncoding.EncodeToString(mac)
}

// Claims is what a verified token says.
type Claims struct {
	SubscriberID int64
	IssuedAt     time.Time
	KeyID        string
}

// Verify checks a token for purpose and returns the subscriber id.
func (t *Tokens) Verify(token, purpose string) (int64, error) {
	c, err := t.Check(token, purpose)
	return c.SubscriberID, err
}

// Check verifies a token for purpose at the current time and returns its
// claims.
func (t *Tokens) Check(token, purpose string) (Claims, error) {
	return t.CheckAt(token, purpose, t.now())
}

// CheckAt verifies a token for purpose as of now.
func (t *Tokens) CheckAt(token, purpose string, now time.Time) (Claims, error) {
	ttl, ok := lifetimes[purpose]
	if !ok {
		return Claims{}, fmt.Errorf("%w: unknown purpose %q", ErrInvalidToken, purpose)
	}
	if len(token) > maxTokenLen {
		return Claims{}, ErrInvalidToken
	}
	parts := strings.Split(token, ".")
	if len(parts) != 4 {
		return Claims{}, ErrInvalidToken
	}
	kid, idS, iatS, macS := parts[0], parts[1], parts[2], parts[3]
	var key *Key
	ki := 0
	for i := range t.keys {
		if t.keys[i].ID == kid {
			key, ki = &t.keys[i], i
			break
		}
	}
	if key == nil {
		return Claims{}, ErrInvalidToken
	}
	id, err := strconv.ParseInt(idS, 36, 64)
	// Only the canonical spelling is accepted: one token per (id, time).
	if err != nil || id <= 0 || strconv.FormatInt(id, 36) != idS {
		return Claims{}, ErrInvalidToken
	}
	iat, err := strconv.ParseInt(iatS, 36, 64)
	if err != nil || iat <= 0 || strconv.FormatInt(iat, 36) != iatS {
		return Claims{}, ErrInvalidToken
	}
	// The decoder skips \r and \n, so the length check is what keeps the
	// encoding canonical (found by FuzzVerify).
	mac, err := base64.RawURLEncoding.Strict().DecodeString(macS)
	if err != nil || len(mac) != macLen || len(macS) != base64.RawURLEncoding.EncodedLen(macLen) {
		return Claims{}, ErrInvalidToken
	}
	if !hmac.Equal(mac, t.computeMAC(ki, purpose, idS, iatS)) {
		return Claims{}, ErrInvalidToken
	}
	// Checked after the MAC so that an attacker learns nothing about keys.
	if !key.RetireAt.IsZero() && !now.Before(key.RetireAt) {
		return Claims{}, fmt.Errorf("%w: signing key %s retired", ErrTokenExpired, kid)
	}
	issued := time.Unix(iat, 0).UTC()
	if issued.After(now.Add(clockSkew)) {
		return Claims{}, ErrInvalidToken
	}
	if now.Sub(issued) > ttl {
		return Claims{}, ErrTokenExpired
	}
	return Claims{SubscriberID: id, IssuedAt: issued, KeyID: kid}, nil
}

// computeMAC is the MAC of a token with key i.
func (t *Tokens) computeMAC(i int, purpose, id, iat string) []byte {
	m := t.macs[i].Get().(hash.Hash)
	m.Reset()
	// NUL separators: no field contains NUL, so no two inputs collide.
	var buf [128]byte
	in := append(buf[:0], "hpdigest-token-v1\x00"...)
	in = append(append(in, purpose...), 0)
	in = append(append(in, t.keys[i].ID...), 0)
	in = append(append(in, id...), 0)
	m.Write(append(in, iat...))
	sum := m.Sum(make([]byte, 0, sha256.Size))[:macLen]
	t.macs[i].Put(m)
	return sum
}
