package deliver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"
)

// VERP (variable envelope return path): each message of an issue leaves
// with its own envelope sender, bounces+TOKEN@domain, whose token names
// the outbox row (issue and subscriber) and is signed, so that a bounce
// finds its delivery without reading the bounce text and a forged one
// changes nothing.
//
// A token is the issue id and the subscriber id (unsigned varints) and the
// first 10 bytes of an HMAC-SHA256 over them, in lower-case base32 without
// padding: 20 to 24 characters of a-z and 2-7 for up to 16,000 issues and
// 2 million readers, so an MTA that lower-cases the local part changes
// nothing. The MAC key is derived from a link-signing secret; the first
// key signs, and every key not yet retired verifies, so keys rotate as
// the link keys do.

// VERPKey is one secret tokens are signed with.
type VERPKey struct {
	Secret   string
	RetireAt time.Time // zero: never
}

// ErrForged is returned for a VERP token that does not verify, and by
// FindDelivery for a Message-ID that names a delivery sent with another.
var ErrForged = errors.New("forged: does not match what was sent")

const verpMACLen = 10

var verpEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// VERP signs and checks envelope sender tokens.
type VERP struct {
	keys []verpKey
	now  func() time.Time
}

type verpKey struct {
	macs     sync.Pool // of hash.Hash keyed with the derived key
	retireAt time.Time
}

// NewVERP makes a signer: the first key signs.
func NewVERP(keys []VERPKey) (*VERP, error) {
	if len(keys) == 0 {
		return nil, errors.New("deliver: VERP needs a key")
	}
	v := &VERP{now: time.Now, keys: make([]verpKey, len(keys))}
	for i, k := range keys {
		if len(k.Secret) < 16 {
			return nil, errors.New("deliver: VERP key shorter than 16 bytes")
		}
		m := hmac.New(sha256.New, []byte(k.Secret))
		m.Write([]byte("hpdigest VERP key v1"))
		derived := m.Sum(nil)
		v.keys[i].retireAt = k.RetireAt
		v.keys[i].macs.New = func() any { return hmac.New(sha256.New, derived) }
	}
	return v, nil
}

// SetClock replaces the clock that retires keys (tests).
func (v *VERP) SetClock(now func() time.Time) { v.now = now }

func (k *verpKey) mac(payload []byte, out []byte) []byte {
	h := k.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(payload)
	out = h.Sum(out)
	k.macs.Put(h)
	return out
}

// Token returns the token of one outbox row.
func (v *VERP) Token(issueID, subscriberID int64) string {
	var raw [2*binary.MaxVarintLen64 + sha256.Size]byte
	b := binary.AppendUvarint(raw[:0], uint64(issueID))
	b = binary.AppendUvarint(b, uint64(subscriberID))
	n := len(b)
	b = v.keys[0].mac(b, b)[:n+verpMACLen]
	return verpEncoding.EncodeToString(b)
}

// Address returns base ("bounces@example.org") with the row's token as
// its tag: "bounces+TOKEN@example.org". A base without "@" is returned
// as it is.
func (v *VERP) Address(base string, issueID, subscriberID int64) string {
	at := strings.LastIndexByte(base, '@')
	if at < 0 {
		return base
	}
	return base[:at] + "+" + v.Token(issueID, subscriberID) + base[at:]
}

// Check returns the outbox row a token names, or ErrForged. Case
// does not matter.
func (v *VERP) Check(token string) (issueID, subscriberID int64, err error) {
	if len(token) < 16 || len(token) > 40 {
		return 0, 0, ErrForged
	}
	raw, err := verpEncoding.DecodeString(strings.ToLower(token))
	if err != nil || len(raw) <= verpMACLen {
		return 0, 0, ErrForged
	}
	payload, mac := raw[:len(raw)-verpMACLen], raw[len(raw)-verpMACLen:]
	iss, n := binary.Uvarint(payload)
	if n <= 0 {
		return 0, 0, ErrForged
	}
	sid, m := binary.Uvarint(payload[n:])
	if m <= 0 || n+m != len(payload) || iss == 0 || sid == 0 || iss > 1<<62 || sid > 1<<62 {
		return 0, 0, ErrForged
	}
	now := v.now()
	var sum [sha256.Size]byte
	for i := range v.keys {
		k := &v.keys[i]
		if !k.retireAt.IsZero() && !now.Before(k.retireAt) {
			continue
		}
		if hmac.Equal(k.mac(payload, sum[:0])[:verpMACLen], mac) {
			return int64(iss), int64(sid), nil
		}
	}
	return 0, 0, ErrForged
}
