package subscribers

import "time"

// Token purposes: a token signed for one never verifies for another.
const (
	PurposeConfirm     = "confirm"
	PurposePreferences = "prefs"
	PurposeUnsubscribe = "unsub"
)

// Key is one HMAC key; the newest is used to sign, older ones still verify
// until their RetireAt.
type Key struct {
	ID       string    `toml:"id"`
	Secret   string    `toml:"secret"` // or from the environment, see config
	RetireAt time.Time `toml:"retire_at"`
}

// Tokens signs and verifies URL tokens: HMAC-SHA256 over purpose, subscriber
// id, issue time and key id.
type Tokens struct{ keys []Key }

// NewTokens makes a signer; the first key signs.
func NewTokens(keys []Key) (*Tokens, error) { return &Tokens{keys: keys}, errTODO }

// Sign returns a URL-safe token for purpose and subscriber id.
func (t *Tokens) Sign(purpose string, subscriberID int64) string { return "" }

// Verify checks a token for purpose and returns the subscriber id.
func (t *Tokens) Verify(token, purpose string) (int64, error) { return 0, errTODO }
