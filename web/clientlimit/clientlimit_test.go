package clientlimit

import (
	"net/http/httptest"
	"testing"
	"time"
)

// A limit that counts only some outcomes: peek with Exhausted, Take after
// the outcome; Wait says when the next token comes.
func TestExhaustedTakeWait(t *testing.T) {
	tb := New(6*time.Second, 2)
	now := time.Unix(1_800_000_000, 0)
	if tb.Exhausted("a", now) || tb.Wait("a", now) != 0 {
		t.Fatal("an unknown key is limited")
	}
	tb.Take("a", now)
	tb.Take("a", now)
	if !tb.Exhausted("a", now) || tb.Exhausted("b", now) {
		t.Fatal("two takes of a burst of two do not exhaust exactly that key")
	}
	if w := tb.Wait("a", now); w < 5*time.Second || w > 6*time.Second {
		t.Errorf("wait %v, want about 6s", w)
	}
	if tb.Exhausted("a", now.Add(6*time.Second)) {
		t.Error("no token back after the interval")
	}
	allowed := 0
	for i := 0; i < 3; i++ {
		if tb.Allow("b", now) {
			allowed++
		}
	}
	if allowed != 2 {
		t.Errorf("Allow let %d through at once, burst is 2", allowed)
	}
}

func TestRemoteNetwork(t *testing.T) {
	for addr, want := range map[string]string{
		"203.0.113.9:4000":           "203.0.113.9",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[::ffff:198.51.100.7]:80":   "198.51.100.7",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		if got := RemoteNetwork(r); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
}
