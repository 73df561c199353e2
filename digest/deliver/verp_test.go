package deliver

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	verpSecretA = "0123456789abcdef0123456789abcdef-verp-a"
	verpSecretB = "fedcba9876543210fedcba9876543210-verp-b"
)

func newTestVERP(t testing.TB, keys ...VERPKey) *VERP {
	t.Helper()
	if len(keys) == 0 {
		keys = []VERPKey{{Secret: verpSecretA}}
	}
	v, err := NewVERP(keys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A token is short, of lower-case letters and digits only, names its row,
// and reads the same after an MTA changed its case.
func TestVERPTokenRoundTrip(t *testing.T) {
	v := newTestVERP(t)
	shape := regexp.MustCompile(`^[a-z2-7]{20,24}$`)
	for _, c := range []struct{ issue, sid int64 }{{1, 1}, {12, 345}, {300, 1_000_000}, {1 << 40, 1 << 50}} {
		tok := v.Token(c.issue, c.sid)
		if c.issue < 1<<20 && !shape.MatchString(tok) {
			t.Errorf("token %q for %d/%d: want 20-24 characters of a-z, 2-7", tok, c.issue, c.sid)
		}
		for _, variant := range []string{tok, strings.ToUpper(tok)} {
			iss, sid, err := v.Check(variant)
			if err != nil || iss != c.issue || sid != c.sid {
				t.Errorf("Check(%q) = %d, %d, %v; want %d, %d", variant, iss, sid, err, c.issue, c.sid)
			}
		}
	}
	if got := v.Address("bounces@haiphong.example", 12, 345); got != "bounces+"+v.Token(12, 345)+"@haiphong.example" {
		t.Errorf("address %q", got)
	}
	if len(strings.Split(v.Address("bounces@haiphong.example", 300, 1_000_000), "@")[0]) > 64 {
		t.Error("the local part is longer than SMTP allows")
	}
}

// A token changed in any way, signed with a key not configured, or put
// together from another row's parts does not verify.
func TestVERPForgedTokens(t *testing.T) {
	v := newTestVERP(t)
	tok := v.Token(12, 345)
	other := newTestVERP(t, VERPKey{Secret: verpSecretB})
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := map[string]string{
		"empty":                  "",
		"first character":        flip(tok, 0),
		"last character":         flip(tok, len(tok)-1),
		"middle character":       flip(tok, len(tok)/2),
		"cut short":              tok[:len(tok)-2],
		"one more character":     tok + "a",
		"not base32":             strings.Replace(tok, tok[:1], "1", 1),
		"another key's token":    other.Token(12, 345),
		"another row's MAC":      v.Token(12, 346)[:3] + tok[3:],
		"a link token":           "k2026.9z.t9m2b3.ZaQwSxCdErFvBgTyHnMjUk",
		"much too long":          strings.Repeat(tok, 3),
		"padding where none is":  tok + "======",
		"white space around it":  " " + tok,
		"the row ids, no MAC":    tok[:4],
		"a valid token reversed": reverse(tok),
	}
	for name, c := range cases {
		if iss, sid, err := v.Check(c); !errors.Is(err, ErrForged) {
			t.Errorf("%s (%q): %d/%d %v, want ErrForged", name, c, iss, sid, err)
		}
	}
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// Keys rotate as the link-signing keys do: the first signs, the others
// verify until they retire.
func TestVERPKeyRotation(t *testing.T) {
	old := newTestVERP(t, VERPKey{Secret: verpSecretA})
	tok := old.Token(7, 8)
	retire := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	rotated := newTestVERP(t, VERPKey{Secret: verpSecretB}, VERPKey{Secret: verpSecretA, RetireAt: retire})
	rotated.SetClock(func() time.Time { return retire.Add(-time.Hour) })
	if iss, sid, err := rotated.Check(tok); err != nil || iss != 7 || sid != 8 {
		t.Fatalf("a token of the previous key: %d/%d %v", iss, sid, err)
	}
	if rotated.Token(7, 8) == tok {
		t.Error("the new key signs the same token as the old one")
	}
	if _, _, err := rotated.Check(rotated.Token(7, 8)); err != nil {
		t.Errorf("a token of the new key: %v", err)
	}
	rotated.SetClock(func() time.Time { return retire })
	if _, _, err := rotated.Check(tok); !errors.Is(err, ErrForged) {
		t.Errorf("a token of a retired key: %v", err)
	}
}

// The engine sends each message of an issue with its VERP envelope
// sender, and a bounce's token leads back to its row; transactional mail
// and smtp.no_verp keep the base address.
func TestEngineSendsWithVERPAndFindsTheRow(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	cfg := relayCfg(ts, 2)
	cfg.EnvelopeFrom = "bounces@haiphong.example"
	e := mk(cfg)
	v := newTestVERP(t)
	e.SetVERP(v)
	ctx := context.Background()
	if _, err := e.Send(ctx, job(4, newPeople(3))); err != nil {
		t.Fatal(err)
	}
	verpRe := regexp.MustCompile(`^bounces\+([a-z2-7]+)@haiphong\.example$`)
	for id := int64(1); id <= 3; id++ {
		from := ts.envelopeFrom(addr(id))
		m := verpRe.FindStringSubmatch(from)
		if m == nil {
			t.Fatalf("MAIL FROM %q for %s", from, addr(id))
		}
		d, how, err := e.FindDelivery(ctx, strings.ToUpper(m[1]), "")
		if err != nil || how != FoundByVERP || d.IssueID != 4 || d.SubscriberID != id || d.Email != addr(id) || d.State != StateSent {
			t.Fatalf("token of %s: %+v %s %v", addr(id), d, how, err)
		}
		// The Message-ID leads to the same row, when it is the one sent.
		if d2, how, err := e.FindDelivery(ctx, "", d.MessageID); err != nil || how != FoundByMessageID || d2 != d {
			t.Errorf("Message-ID %s: %+v %s %v", d.MessageID, d2, how, err)
		}
	}
	d, _ := e.Delivery(ctx, 4, 2)
	forgedID := strings.Replace(d.MessageID, "hpd.4.2.", "hpd.4.2.0", 1)
	for name, c := range map[string]struct{ token, id string }{
		"a forged token":                {v.Token(4, 2)[:10] + "aaaaaaaaaaaaaa", ""},
		"a token of a row never made":   {v.Token(9, 9), ""},
		"our Message-ID shape, wrong":   {"", forgedID},
		"a token wins over the Message": {"zzzzzzzzzzzzzzzzzzzzzz", d.MessageID},
	} {
		if got, _, err := e.FindDelivery(ctx, c.token, c.id); err == nil {
			t.Errorf("%s: found %+v", name, got)
		}
	}
	if _, _, err := e.FindDelivery(ctx, "", "<CAF=abc@mail.gmail.com>"); !errors.Is(err, ErrNoDelivery) {
		t.Errorf("a Message-ID of someone else: %v, want ErrNoDelivery", err)
	}

	m, _ := compose(ctx, Recipient{Email: "confirm@example.org"})
	if err := e.SendOne(ctx, m); err != nil {
		t.Fatal(err)
	}
	if from := ts.envelopeFrom("confirm@example.org"); from != "bounces@haiphong.example" {
		t.Errorf("transactional MAIL FROM %q", from)
	}

	cfg.NoVERP = true
	e2 := mk(cfg)
	e2.SetVERP(v)
	if _, err := e2.Send(ctx, job(5, newPeople(1))); err != nil {
		t.Fatal(err)
	}
	if from := ts.envelopeFrom(addr(1)); from != "bounces@haiphong.example" {
		t.Errorf("no_verp: MAIL FROM %q", from)
	}
}

// A report is recorded once per delivery and kind, however often it is
// offered; the issue's counts count deliveries, not reports.
func TestRecordOutcomeOnceAndIssueCounts(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 1))
	ctx := context.Background()
	if _, err := e.Send(ctx, job(3, newPeople(4))); err != nil {
		t.Fatal(err)
	}
	row := func(sid int64) Delivery { d, _ := e.Delivery(ctx, 3, sid); return d }
	for _, c := range []struct {
		sid    int64
		o      Outcome
		wantIn bool
	}{
		{1, Outcome{Kind: OutcomeHardBounce, Status: "5.1.1", Reason: "user unknown", ReportingMTA: "mx.example.org", FoundBy: FoundByVERP, ReportID: "<dsn1@mx>"}, true},
		{1, Outcome{Kind: OutcomeHardBounce, Status: "5.1.1", Reason: "user unknown", ReportingMTA: "mx.example.org", FoundBy: FoundByVERP, ReportID: "<dsn1@mx>"}, false},
		{1, Outcome{Kind: OutcomeHardBounce, Status: "5.1.1", Reason: "again", FoundBy: FoundByMessageID, ReportID: "<dsn2@mx>"}, true},
		{2, Outcome{Kind: OutcomeSoftBounce, Status: "4.2.2", Reason: "mailbox full", FoundBy: FoundByVERP, ReportID: "<dsn3@mx>"}, true},
		{3, Outcome{Kind: OutcomeComplaint, Reason: "abuse", FoundBy: FoundByMessageID, ReportID: "<arf1@fbl>"}, true},
		{4, Outcome{Kind: OutcomeDelayed, Status: "4.4.1", FoundBy: FoundByVERP, ReportID: "<delay@mx>"}, true},
	} {
		got, err := e.RecordOutcome(ctx, row(c.sid), c.o)
		if err != nil || got != c.wantIn {
			t.Errorf("%d %s %s: recorded %v %v, want %v", c.sid, c.o.Kind, c.o.ReportID, got, err, c.wantIn)
		}
	}
	if _, err := e.RecordOutcome(ctx, row(1), Outcome{Kind: "bounced", ReportID: "x"}); err == nil {
		t.Error("an unknown kind was recorded")
	}
	counts, err := e.IssueOutcomes(ctx, []int64{3, 99})
	if err != nil {
		t.Fatal(err)
	}
	if c := counts[3]; c != (OutcomeCounts{HardBounces: 1, SoftBounces: 1, Complaints: 1, Delayed: 1}) {
		t.Errorf("issue 3: %+v", c)
	}
	if _, ok := counts[99]; ok {
		t.Error("an issue without reports has counts")
	}
	os, err := e.Outcomes(ctx, 3, 1)
	if err != nil || len(os) != 2 || os[0].ReportingMTA != "mx.example.org" || os[1].FoundBy != FoundByMessageID {
		t.Errorf("outcomes of row 1: %+v %v", os, err)
	}
	// The row itself still says what the relay said.
	if d := row(1); d.State != StateSent {
		t.Errorf("row 1 is %s", d.State)
	}
	// Forgetting the reader erases the remote server's words (they quote
	// the address); the counts stay.
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Forget(ctx, tx, 1); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if os, _ := e.Outcomes(ctx, 3, 1); len(os) != 2 || os[0].Reason != "" || os[0].Status != "5.1.1" {
		t.Errorf("after forgetting: %+v", os)
	}
}

// BenchmarkVERPAddress is the per-message cost of a VERP envelope sender.
func BenchmarkVERPAddress(b *testing.B) {
	v := newTestVERP(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = v.Address("bounces@haiphong.example", 12, int64(i))
	}
}
