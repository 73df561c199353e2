package subscribers

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"mime"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNormalizeEmail(t *testing.T) {
	good := map[string]string{
		"An@Example.COM":          "An@example.com",
		"  ban@hảiphòng.vn ":      "ban@xn--hiphng-6wa8191d.vn",
		"ban@HẢIPHÒNG.VN":         "ban@xn--hiphng-6wa8191d.vn",
		"first.last+tag@sub.x.io": "first.last+tag@sub.x.io",
	}
	for in, want := range good {
		got, err := NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{"", "plain", "@example.com", "a@", "a@localhost", "a b@example.com", "a@exa mple.com",
		"An <an@example.com>", "a@example.com\r\nBcc: x@y.z", "người@example.com", "a@-bad-.com", "a@[127.0.0.1]",
		strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b", 250) + ".com", "a..b@example.com", "<b>@x.com"}
	for _, in := range bad {
		if got, err := NormalizeEmail(in); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want an error", in, got, err)
		}
	}
}

func TestAddGetByEmailCaseInsensitive(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	sub, err := s.Add(ctx, Subscriber{Email: "An@Example.COM", Name: " An  Nguyễn ", Language: "en", Themes: []string{"fdi;china"}})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Email != "An@example.com" || sub.Name != "An Nguyễn" || sub.Status != Confirmed || strings.Join(sub.Themes, ",") != "fdi,china" {
		t.Fatalf("added %+v", sub)
	}
	if _, err := s.Add(ctx, Subscriber{Email: "an@EXAMPLE.com"}); !errors.Is(err, ErrExists) {
		t.Fatalf("same address in other case: %v", err)
	}
	got, err := s.ByEmail(ctx, "an@example.com")
	if err != nil || got.ID != sub.ID {
		t.Fatalf("ByEmail: %+v %v", got, err)
	}
	if _, err := s.Get(ctx, sub.ID+100); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown: %v", err)
	}
	if _, err := s.Add(ctx, Subscriber{Email: "x@example.com", Themes: []string{"sports"}}); err == nil {
		t.Fatal("unknown theme accepted")
	}
	if _, err := s.Add(ctx, Subscriber{Email: "x@example.com", Language: "fr"}); err == nil {
		t.Fatal("language fr accepted")
	}
}

func TestConfirmedAfterSkipsOthers(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	var ids []int64
	for i, st := range []string{Confirmed, Pending, Confirmed, Unsubscribed, Bounced, Confirmed, Confirmed} {
		sub, err := s.Add(ctx, Subscriber{Email: "r" + string(rune('a'+i)) + "@example.com", Status: st})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	// The last one pauses.
	if _, err := s.UpdatePreferences(ctx, ids[6], Prefs{Language: "vi", Paused: true}); err != nil {
		t.Fatal(err)
	}
	var got []int64
	after := int64(0)
	for {
		page, err := s.ConfirmedAfter(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			got = append(got, p.ID)
			after = p.ID
		}
	}
	want := []int64{ids[0], ids[2], ids[5]}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("ConfirmedAfter streamed %v, want %v", got, want)
	}
}

func TestSubscribeConfirmUnsubscribeEvents(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s.SetClock(c.now)
	tk, _ := NewTokens([]Key{testKey("k1")})
	tk.SetClock(c.now)

	res, err := s.Subscribe(ctx, SubscribeRequest{Email: "Reader@Example.com", Language: "en", Themes: []string{"fdi"}})
	if err != nil || !res.New || !res.SendConfirmation || res.Subscriber.Status != Pending {
		t.Fatalf("first subscribe: %+v %v", res, err)
	}
	id := res.Subscriber.ID
	s.ConfirmationSent(ctx, id, nil)

	c.advance(10 * time.Minute)
	res2, err := s.Subscribe(ctx, SubscribeRequest{Email: "reader@example.com", Language: "vi"})
	if err != nil || res2.New || res2.SendConfirmation {
		t.Fatalf("second subscribe within the hour must not send: %+v %v", res2, err)
	}
	c.advance(61 * time.Minute)
	res3, _ := s.Subscribe(ctx, SubscribeRequest{Email: "reader@example.com", Language: "vi"})
	if !res3.SendConfirmation {
		t.Fatal("subscribe after an hour must send again")
	}

	claims, err := tk.Check(tk.Sign(PurposeConfirm, id), PurposeConfirm)
	if err != nil {
		t.Fatal(err)
	}
	oldConfirm := claims
	sub, err := s.Confirm(ctx, claims)
	if err != nil || sub.Status != Confirmed || sub.Language != "vi" {
		t.Fatalf("confirm: %+v %v", sub, err)
	}
	// A confirmed reader's choices do not change from the anonymous form.
	s.Subscribe(ctx, SubscribeRequest{Email: "reader@example.com", Language: "en", Themes: []string{"china"}})
	if sub, _ = s.Get(ctx, id); sub.Language != "vi" || len(sub.Themes) != 0 {
		t.Fatalf("anonymous form changed a confirmed reader: %+v", sub)
	}

	c.advance(time.Hour)
	if err := s.Unsubscribe(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx, id, "again"); err != nil {
		t.Fatal(err)
	}
	// An old confirmation link does not bring them back.
	if _, err := s.Confirm(ctx, oldConfirm); !errors.Is(err, ErrStaleToken) {
		t.Fatalf("stale confirm: %v", err)
	}
	if sub, _ = s.Get(ctx, id); sub.Status != Unsubscribed {
		t.Fatalf("status %s", sub.Status)
	}
	ev, _ := s.Events(ctx, id)
	var kinds []string
	for _, e := range ev {
		kinds = append(kinds, e.Kind)
		if e.At.IsZero() {
			t.Errorf("event %s without time", e.Kind)
		}
	}
	want := "subscribed confirmation_sent resubscribe_requested resubscribe_requested confirmed resubscribe_requested unsubscribed"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("events:\n got %s\nwant %s", strings.Join(kinds, " "), want)
	}
}

func TestRecordBounceLimit(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	s.Configure(Config{BounceLimit: 2})
	sub, _ := s.Add(ctx, Subscriber{Email: "gone@example.com"})
	if err := s.RecordBounce(ctx, sub.ID, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, sub.ID); got.Status != Confirmed || got.BounceCount != 1 {
		t.Fatalf("after 1 bounce: %+v", got)
	}
	s.RecordBounce(ctx, sub.ID, "550 no such user")
	if got, _ := s.Get(ctx, sub.ID); got.Status != Bounced {
		t.Fatalf("after 2 bounces: %+v", got)
	}
	if page, _ := s.ConfirmedAfter(ctx, 0, 10); len(page) != 0 {
		t.Fatal("bounced reader still streamed")
	}
	if err := s.RecordBounce(ctx, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestImportCSVReportsLinesKeepsValid(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	f, err := os.Open("../testdata/subscribers/import_mixed.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := s.ImportCSV(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[int]bool{}
	for _, p := range rep.Problems {
		bad[p.Line] = true
	}
	for _, line := range []int{3, 5, 6, 8, 9} {
		if !bad[line] {
			t.Errorf("line %d not reported; problems: %v", line, rep.Problems)
		}
	}
	if len(rep.Problems) != 5 {
		t.Errorf("problems: %v", rep.Problems)
	}
	if rep.Added != 4 || len(rep.SkippedLines) != 1 || rep.SkippedLines[0].Line != 11 {
		t.Errorf("report %+v", rep)
	}
	for _, e := range []string{"an.nguyen@example.com", "binh@example.org", "em@xn--hiphng-6wa8191d.vn", "hoa@example.com"} {
		sub, err := s.ByEmail(ctx, e)
		if err != nil || sub.Status != Confirmed {
			t.Errorf("%s: %+v %v", e, sub, err)
		}
	}
	if sub, _ := s.ByEmail(ctx, "binh@example.org"); sub.Name != "Trần, Bình" || sub.Language != "en" {
		t.Errorf("quoted name lost: %+v", sub)
	}
	if sub, _ := s.ByEmail(ctx, "hoa@example.com"); sub.Language != "vi" {
		t.Errorf("empty language should default to vi: %+v", sub)
	}
	var out bytes.Buffer
	PrintImportReport(&out, "import_mixed.csv", rep)
	if !strings.Contains(out.String(), "line 3: rejected") || !strings.Contains(out.String(), "4 added") {
		t.Errorf("printed report:\n%s", out.String())
	}
}

func TestImportNeverResurrects(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	s.Configure(Config{BounceLimit: 1})
	csv := "unsub@example.com,U,en,\nbounce@example.com,B,en,\nforget@example.com,F,vi,\nstay@example.com,S,vi,\n"
	if _, err := s.ImportCSV(ctx, strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	u, _ := s.ByEmail(ctx, "unsub@example.com")
	s.Unsubscribe(ctx, u.ID, "one-click")
	b, _ := s.ByEmail(ctx, "bounce@example.com")
	s.RecordBounce(ctx, b.ID, "550")
	if err := s.Remove(ctx, "FORGET@example.com"); err != nil {
		t.Fatal(err)
	}
	rep, err := s.ImportCSV(ctx, strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 0 || len(rep.SkippedLines) != 3 || len(rep.Problems) != 0 {
		t.Fatalf("re-import: %+v", rep)
	}
	for e, want := range map[string]string{"unsub@example.com": Unsubscribed, "bounce@example.com": Bounced, "stay@example.com": Confirmed} {
		if sub, _ := s.ByEmail(ctx, e); sub.Status != want {
			t.Errorf("%s is %s, want %s", e, sub.Status, want)
		}
	}
	if _, err := s.ByEmail(ctx, "forget@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted reader re-imported: %v", err)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := openStore(t)
	a.ImportCSV(ctx, strings.NewReader("x@example.com,=cmd(),en,fdi\ny@example.com,Y,vi,\n"))
	y, _ := a.ByEmail(ctx, "y@example.com")
	a.Unsubscribe(ctx, y.ID, "test")
	var buf bytes.Buffer
	if err := a.ExportCSV(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "email,name,language,themes,status") || !strings.Contains(buf.String(), "'=cmd()") {
		t.Fatalf("export:\n%s", buf.String())
	}
	b := openStore(t)
	rep, err := b.ImportCSV(ctx, &buf)
	if err != nil || rep.Added != 2 || len(rep.Problems) != 0 {
		t.Fatalf("round trip: %+v %v", rep, err)
	}
	if sub, _ := b.ByEmail(ctx, "y@example.com"); sub.Status != Unsubscribed {
		t.Fatalf("unsubscribed reader came back as %s", sub.Status)
	}
	if sub, _ := b.ByEmail(ctx, "x@example.com"); sub.Status != Confirmed || sub.Themes[0] != "fdi" {
		t.Fatalf("x: %+v", sub)
	}
}

func TestExportOneAndForget(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	var out bytes.Buffer
	if err := s.CLIAdd(ctx, &out, "me@example.com", "Mê", "en", "fdi,china"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := s.CLIExportSubscriber(ctx, &out, "ME@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"email": "me@example.com"`, `"name": "Mê"`, `"kind": "subscribed"`, `"kind": "confirmed"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("export lacks %s:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := s.CLIForget(ctx, &out, "me@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ByEmail(ctx, "me@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatal("still there after forget")
	}
	var n int
	s.db.QueryRow(`SELECT COUNT(*) FROM subscriber_events`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d events left after forget", n)
	}
	if err := s.CLIList(ctx, &out); err != nil || !strings.Contains(out.String(), "0 subscribers") {
		t.Fatalf("list: %v\n%s", err, out.String())
	}
}

func TestUnsubscribeByMail(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tk, _ := NewTokens([]Key{testKey("k1")})
	a, _ := s.Add(ctx, Subscriber{Email: "a@example.com"})
	b, _ := s.Add(ctx, Subscriber{Email: "b@example.com"})
	// The subject as the digest's mailto sets it, once plain and once as a
	// mail client may encode it.
	plain := "From: Someone Else <other@example.net>\r\nTo: digest@haiphong.test\r\nSubject: unsubscribe " + tk.Sign(PurposeUnsubscribe, a.ID) + "\r\n\r\nplease\r\n"
	if sub, err := s.UnsubscribeByMail(ctx, tk, strings.NewReader(plain)); err != nil || sub.Status != Unsubscribed || sub.ID != a.ID {
		t.Fatalf("plain subject: %+v %v", sub, err)
	}
	encoded := "From: b@example.com\r\nSubject: " + mime.QEncoding.Encode("utf-8", "Hủy đăng ký: unsubscribe "+tk.Sign(PurposeUnsubscribe, b.ID)) + "\r\n\r\n"
	if !strings.Contains(encoded, "=?utf-8?q?") {
		t.Fatalf("subject not encoded: %s", encoded)
	}
	if sub, err := s.UnsubscribeByMail(ctx, tk, strings.NewReader(encoded)); err != nil || sub.ID != b.ID || sub.Status != Unsubscribed {
		t.Fatalf("encoded subject: %+v %v", sub, err)
	}
	c, _ := s.Add(ctx, Subscriber{Email: "c@example.com"})
	for name, msg := range map[string]string{
		"no token":      "From: c@example.com\r\nSubject: unsubscribe me\r\n\r\n",
		"wrong purpose": "From: c@example.com\r\nSubject: unsubscribe " + tk.Sign(PurposePreferences, c.ID) + "\r\n\r\n",
		"forged":        "From: c@example.com\r\nSubject: unsubscribe k1." + strconv.FormatInt(c.ID, 36) + ".t0aaaa.AAAAAAAAAAAAAAAAAAAAAA\r\n\r\n",
	} {
		if _, err := s.UnsubscribeByMail(ctx, tk, strings.NewReader(msg)); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got, _ := s.Get(ctx, c.ID); got.Status != Confirmed {
		t.Fatalf("c was unsubscribed by an invalid mail: %s", got.Status)
	}
}

func TestRemoveHookRunsInTransaction(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	s.Add(ctx, Subscriber{Email: "h@example.com"})
	s.SetRemoveHook(func(ctx context.Context, tx *sql.Tx, id int64, email string) error {
		return errors.New("outbox busy")
	})
	if err := s.Remove(ctx, "h@example.com"); err == nil {
		t.Fatal("hook error ignored")
	}
	if _, err := s.ByEmail(ctx, "h@example.com"); err != nil {
		t.Fatalf("a failed removal deleted the row: %v", err)
	}
	var seen string
	s.SetRemoveHook(func(ctx context.Context, tx *sql.Tx, id int64, email string) error {
		seen = email
		return nil
	})
	if err := s.Remove(ctx, "h@example.com"); err != nil || seen != "h@example.com" {
		t.Fatalf("remove: %v, hook saw %q", err, seen)
	}
}

func TestPurgePending(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.SetClock(c.now)
	old, _ := s.Subscribe(ctx, SubscribeRequest{Email: "old@example.com"})
	s.Add(ctx, Subscriber{Email: "kept@example.com"})
	c.advance(20 * 24 * time.Hour)
	s.Subscribe(ctx, SubscribeRequest{Email: "recent@example.com"})
	c.advance(11 * 24 * time.Hour)
	n, err := s.PurgePending(ctx)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	if _, err := s.Get(ctx, old.Subscriber.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("old pending sign-up kept")
	}
	for _, e := range []string{"kept@example.com", "recent@example.com"} {
		if _, err := s.ByEmail(ctx, e); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
}

func TestComplaintReportUnsubscribes(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tk, _ := NewTokens([]Key{testKey("k1")})
	sub, _ := s.Add(ctx, Subscriber{Email: "angry@example.com"})
	tok := tk.Sign(PurposeUnsubscribe, sub.ID)
	arf := "From: fbl@isp.example\r\nSubject: complaint about message\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n" +
		"--b1\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: isp/1.0\r\nVersion: 1\r\n" +
		"--b1\r\nContent-Type: message/rfc822-headers\r\n\r\nFrom: digest@haiphong.test\r\nTo: angry@example.com\r\n" +
		"List-Unsubscribe: <https://digest.example/unsubscribe/" + tok + ">, <mailto:digest@haiphong.test?subject=unsubscribe%20" + tok + ">\r\n" +
		"--b1--\r\n"
	got, err := s.UnsubscribeByMail(ctx, tk, strings.NewReader(arf))
	if err != nil || got.Status != Unsubscribed {
		t.Fatalf("%+v %v", got, err)
	}
	ev, _ := s.Events(ctx, sub.ID)
	if last := ev[len(ev)-1]; last.Kind != EventUnsubscribed || !strings.Contains(last.Detail, "complaint") {
		t.Fatalf("event %+v", last)
	}
}

func TestImportSemicolonCSV(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	in := "Email;Name;Language;Themes\r\nx@example.com;Trần, X;en;fdi china\r\nbad;Bad;vi;\r\ny@example.com;Y;vi;diaspora,fdi\r\n"
	rep, err := s.ImportCSV(ctx, strings.NewReader(in))
	if err != nil || rep.Added != 2 || len(rep.Problems) != 1 || rep.Problems[0].Line != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	if x := mustGet(t, s, "x@example.com"); x.Name != "Trần, X" || strings.Join(x.Themes, ",") != "fdi,china" {
		t.Fatalf("x: %+v", x)
	}
	if y := mustGet(t, s, "y@example.com"); strings.Join(y.Themes, ",") != "diaspora,fdi" {
		t.Fatalf("y: %+v", y)
	}
}

func mustGet(t *testing.T, s *Store, email string) Subscriber {
	t.Helper()
	sub, err := s.ByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestPreferencesTimezone(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	sub, _ := s.Add(ctx, Subscriber{Email: "tz@example.com", Timezone: "Asia/Tokyo"})
	if got, _ := s.UpdatePreferences(ctx, sub.ID, Prefs{Language: "vi"}); got.Timezone != "Asia/Tokyo" {
		t.Fatalf("nil Timezone changed it: %q", got.Timezone)
	}
	bad := "Nowhere/City"
	if _, err := s.UpdatePreferences(ctx, sub.ID, Prefs{Language: "vi", Timezone: &bad}); err == nil {
		t.Fatal("bad zone accepted")
	}
	def := ""
	if got, _ := s.UpdatePreferences(ctx, sub.ID, Prefs{Language: "vi", Timezone: &def}); got.Timezone != "" {
		t.Fatalf("reset to default: %q", got.Timezone)
	}
}
