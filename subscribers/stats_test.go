package subscribers

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// week0 is a Monday (UTC); the tests' weeks run Monday to Sunday.
var week0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func day(n int) time.Time { return week0.Add(time.Duration(n) * 24 * time.Hour) }

// The tallies follow every way a reader changes, and the weekly history
// adds up: readers by language at each week's end, unsubscribes and
// bounces in the week.
func TestReaderStatistics(t *testing.T) {
	s := openStore(t)
	s.Configure(Config{BounceLimit: 1})
	ctx := context.Background()
	clk := &clock{t: day(0)}
	s.SetClock(clk.now)
	add := func(email, lang string, status string) Subscriber {
		t.Helper()
		sub, err := s.Add(ctx, Subscriber{Email: email, Language: lang, Status: status})
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	// Week 0: three Vietnamese readers, one English, one never confirmed.
	lan := add("lan@example.jp", "vi", "")
	add("minh@example.de", "vi", "")
	hoa := add("hoa@example.au", "vi", "")
	john := add("john@example.us", "en", "")
	add("pending@example.org", "en", Pending)
	// Week 1: one unsubscribes, one switches to Vietnamese, one sets a zone.
	clk.t = day(8)
	if err := s.Unsubscribe(ctx, lan.ID, "one-click"); err != nil {
		t.Fatal(err)
	}
	tokyo := "Asia/Tokyo"
	if _, err := s.UpdatePreferences(ctx, john.ID, Prefs{Language: "vi", Timezone: &tokyo}); err != nil {
		t.Fatal(err)
	}
	// Week 2: a bounce, a spam complaint, a reader forgotten on request.
	clk.t = day(15)
	if err := s.RecordBounce(ctx, hoa.ID, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	clk.t = day(16)
	late := add("late@example.ca", "en", "")
	if err := s.Unsubscribe(ctx, late.ID, "complaint (feedback report)"); err != nil {
		t.Fatal(err)
	}

	weeks, err := s.ReadersByWeek(ctx, day(20), 3)
	if err != nil {
		t.Fatal(err)
	}
	type w struct{ vi, en, unsub, bounced int }
	var got []w
	for _, x := range weeks {
		got = append(got, w{x.Confirmed["vi"], x.Confirmed["en"], x.Unsubscribed, x.Bounced})
	}
	want := []w{{3, 1, 0, 0}, {3, 0, 1, 0}, {2, 0, 1, 1}} // week 2: the complaint is an unsubscribe too
	if !reflect.DeepEqual(got, want) {
		t.Errorf("weeks (vi, en, unsubscribed, bounced) = %v, want %v", got, want)
	}
	if !weeks[2].End.Equal(time.Date(2026, 1, 25, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("last week ends %v", weeks[2].End)
	}
	zones, err := s.ReadersByTimezone(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(zones) != "[{ 1} {Asia/Tokyo 1}]" {
		t.Errorf("zones %v", zones)
	}
	after, err := s.AftermathBetween(ctx, day(14), day(21))
	if err != nil {
		t.Fatal(err)
	}
	if after != (Aftermath{Bounced: 1, Complained: 1, Unsubscribed: 0}) {
		t.Errorf("week 2 aftermath %+v", after)
	}
	if after, _ := s.AftermathBetween(ctx, day(7), day(14)); after != (Aftermath{Unsubscribed: 1}) {
		t.Errorf("week 1 aftermath %+v", after)
	}

	// Forgetting a reader takes them out of the counts.
	if err := s.Remove(ctx, "minh@example.de"); err != nil {
		t.Fatal(err)
	}
	checkTallies(t, s)
}

// checkTallies compares the running tallies with a count of the rows.
func checkTallies(t *testing.T, s *Store) {
	t.Helper()
	got, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	rows, err := s.db.Query(`SELECT status, COUNT(*) FROM subscribers GROUP BY status`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		rows.Scan(&st, &n)
		want[st] = n
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Counts from the tallies = %v, rows say %v", got, want)
	}
}

// A database from before the tallies gets them filled from its rows, the
// past rebuilt from confirmation and status times.
func TestStatisticsFilledForExistingReaders(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "hp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	m := Migrations()
	before := m
	before.Steps = m.Steps[:1]
	if err := store.Migrate(ctx, db, before); err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct {
		lang, status, tz    string
		confirmed, statusAt time.Time
	}{
		{"vi", Confirmed, "", day(1), day(1)},
		{"vi", Confirmed, "Europe/Berlin", day(2), day(2)},
		{"en", Confirmed, "", day(9), day(9)},
		{"vi", Unsubscribed, "", day(3), day(10)},
		{"en", Bounced, "", day(4), day(16)},
		{"en", Pending, "", time.Time{}, day(5)},
	} {
		var conf int64
		if !r.confirmed.IsZero() {
			conf = r.confirmed.Unix()
		}
		if _, err := db.Exec(`INSERT INTO subscribers (email, language, status, timezone, created_at, updated_at, confirmed_at, status_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			fmt.Sprintf("r%d@example.org", i), r.lang, r.status, r.tz, day(0).Unix(), r.statusAt.Unix(), conf, r.statusAt.Unix()); err != nil {
			t.Fatal(err)
		}
		kind := map[string]string{Unsubscribed: EventUnsubscribed, Bounced: EventBounce}[r.status]
		if kind != "" {
			if _, err := db.Exec(`INSERT INTO subscriber_events (subscriber_id, kind, detail, at) VALUES (?, ?, '', ?)`, i+1, kind, r.statusAt.Unix()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := store.Migrate(ctx, db, m); err != nil {
		t.Fatal(err)
	}
	s := NewStore(db)
	checkTallies(t, s)
	weeks, err := s.ReadersByWeek(ctx, day(20), 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range weeks {
		got = append(got, fmt.Sprintf("vi%d en%d u%d b%d", x.Confirmed["vi"], x.Confirmed["en"], x.Unsubscribed, x.Bounced))
	}
	want := []string{"vi3 en1 u0 b0", "vi2 en2 u1 b0", "vi2 en1 u0 b1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("weeks %v, want %v", got, want)
	}
	if a, err := s.AftermathBetween(ctx, day(7), day(21)); err != nil || a != (Aftermath{Unsubscribed: 1, Bounced: 1}) {
		t.Errorf("events after the fill: %+v, %v", a, err)
	}
}
