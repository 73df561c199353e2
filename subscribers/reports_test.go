package subscribers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Soft bounces count within the window and since the reader last
// confirmed; one delivery counts once; a soft bounce never touches a
// reader who left already.
func TestRecordReportSoftBounceWindow(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := &clock{t: time.Date(2026, 3, 6, 8, 0, 0, 0, time.UTC)}
	s.SetClock(c.now)
	s.Configure(Config{SoftBounceLimit: 2, SoftBounceWindow: 7 * 24 * time.Hour})
	r, _ := s.Add(ctx, Subscriber{Email: "full@example.net"})
	soft := func(ref string) ReportResult {
		t.Helper()
		res, err := s.RecordReport(ctx, r.ID, Report{Kind: EventSoftBounce, Ref: ref, Status: "4.2.2", Detail: "mailbox full", ReportingMTA: "mx.example.net"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := soft("issue 1 to 1"); res.Count != 1 || res.Changed {
		t.Fatalf("first: %+v", res)
	}
	if res := soft("issue 1 to 1"); !res.Duplicate {
		t.Fatalf("the same delivery again: %+v", res)
	}
	c.advance(8 * 24 * time.Hour)
	if res := soft("issue 2 to 1"); res.Count != 1 || res.Changed {
		t.Fatalf("eight days later the first is out of the window: %+v", res)
	}
	c.advance(24 * time.Hour)
	res := soft("issue 3 to 1")
	if res.Count != 2 || !res.Changed || res.Status != Bounced {
		t.Fatalf("two within a week: %+v", res)
	}
	got, _ := s.Get(ctx, r.ID)
	if got.Status != Bounced || got.BounceCount != 0 {
		t.Fatalf("reader %+v", got)
	}
	ev, _ := s.Events(ctx, r.ID)
	last := ev[len(ev)-1]
	if last.Kind != Bounced || !strings.Contains(last.Detail, "2 soft bounces in 7 days") {
		t.Errorf("last event %+v", last)
	}

	// Confirmed again: earlier soft bounces no longer count.
	tx, _ := s.db.BeginTx(ctx, nil)
	if _, err := setStatus(ctx, tx, r.ID, Confirmed, "confirmed again", c.now()); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	c.advance(time.Hour)
	if res := soft("issue 4 to 1"); res.Count != 1 || res.Changed {
		t.Errorf("after confirming again: %+v", res)
	}

	if _, err := s.RecordReport(ctx, 999, Report{Kind: EventBounce, Ref: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown reader: %v", err)
	}
	if _, err := s.RecordReport(ctx, r.ID, Report{Kind: EventUnsubscribed, Ref: "x"}); err == nil {
		t.Error("an unsubscribe recorded as a report")
	}
}

// A complaint unsubscribes a confirmed reader, leaves a bounced one
// bounced, and is counted once: as a complaint in the charts and the
// metrics, not as an unsubscribe too.
func TestRecordReportComplaintCountsOnce(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := time.Date(2026, 3, 6, 8, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	a, _ := s.Add(ctx, Subscriber{Email: "angry@example.net"})
	b, _ := s.Add(ctx, Subscriber{Email: "gone@example.net", Status: Bounced})
	for _, r := range []Subscriber{a, a, b} {
		if _, err := s.RecordReport(ctx, r.ID, Report{Kind: EventComplained, Ref: "issue 1 to " + r.Email, Detail: "complaint (abuse)", ReportingMTA: "Yahoo!-Mail-Feedback/2.0"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Get(ctx, a.ID); got.Status != Unsubscribed {
		t.Errorf("angry@ is %s", got.Status)
	}
	if got, _ := s.Get(ctx, b.ID); got.Status != Bounced {
		t.Errorf("gone@ is %s", got.Status)
	}
	after, err := s.AftermathBetween(ctx, now, now.Add(24*time.Hour))
	if err != nil || after.Complained != 2 || after.Unsubscribed != 0 {
		t.Errorf("aftermath %+v %v: want 2 complaints, no other unsubscribe", after, err)
	}
	counts, err := s.CountEvents(ctx)
	if err != nil || counts.Complaints != 2 || counts.Unsubscribes != 0 {
		t.Errorf("metrics %+v %v", counts, err)
	}
}
