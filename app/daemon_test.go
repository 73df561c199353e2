package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/internal/clock"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/subscribers"
)

// After a restart the interrupted send resumes beside the schedules: the
// daemon says it started first, runs the draft schedule while the resume
// is still sending, and the resume makes no new issue.
func TestRestartResumesBesideTheSchedules(t *testing.T) {
	dir := t.TempDir()
	smtp := smtptest.Start(t)
	p := newPortal("cong", "wvr", "slow", "flash")
	mb := &mailbox{storyOf: p.storyOf}
	smtp.Keep = mb.keep
	synctest.Test(t, func(t *testing.T) {
		s := newSim(t, dir, smtp, mb, p, func(s *sim) string {
			// A draft every 2 minutes, so that one falls inside the resume.
			return strings.Replace(soakTOML(s, phase{}), `draft_schedule = "0 9 * * THU"`, `draft_schedule = "*/2 * * * *"`, 1)
		})
		defer s.close()
		ctx := context.Background()
		hcm, _ := time.LoadLocation(zone)
		sleepUntil(time.Date(2000, 1, 7, 7, 0, 0, 0, hcm)) // Friday
		s.start()
		for i := 0; i < 30; i++ {
			if _, err := s.app.Subscribers.Add(ctx, subscribers.Subscriber{Email: fmt.Sprintf("r%02d@example.jp", i)}); err != nil {
				t.Fatal(err)
			}
		}
		p.publish("cong", topics[0].title, topics[0].summary)
		sleepUntil(time.Date(2000, 1, 7, 8, 1, 0, 0, hcm)) // the 8:00 send runs (30 readers at 0.15/s: over 3 minutes)
		synctest.Wait()
		s.stop()
		sent := mb.count()
		if sent == 0 || sent >= 30 {
			t.Fatalf("%d messages before the stop: the send was not interrupted midway", sent)
		}
		restart := len(strings.Split(s.logs.String(), "\n")) - 1
		s.start()
		sleepUntil(time.Date(2000, 1, 7, 8, 10, 0, 0, hcm))
		synctest.Wait()

		lines := strings.Split(s.logs.String(), "\n")[restart:]
		find := func(what string) int {
			for i, l := range lines {
				if strings.Contains(l, what) {
					return i
				}
			}
			t.Errorf("after the restart, no log line has %q:\n%s", what, strings.Join(lines, "\n"))
			return -1
		}
		started, sending, draft, finished := find(`msg="daemon started"`), find(`msg="deliver: sending"`),
			find(`msg="no draft assembled: the open issue is sending`), find(`msg="send finished"`)
		if started != 0 {
			t.Errorf("the first line after the restart is %q", lines[0])
		}
		if !(sending < draft && draft < finished) {
			t.Errorf("the draft schedule (line %d) did not run during the resume (lines %d to %d)", draft, sending, finished)
		}
		issues, err := s.app.Digests.Issues(ctx, "weekly", "sent")
		if err != nil {
			t.Fatal(err)
		}
		if len(issues) != 1 || mb.count() != 30 {
			t.Errorf("%d issues sent and %d messages after the resume; want 1 issue, 30 messages", len(issues), mb.count())
		}
	})
}

// The daemon's schedules run on the clock it is given: here one moved by
// hand, while the SMTP server holds the first message so that the send
// lasts past the next send time. That send time is skipped and recorded;
// the send goes on and makes the only issue.
func TestSendTimeDuringASendIsSkippedAndRecorded(t *testing.T) {
	dir := t.TempDir()
	smtp := smtptest.Start(t)
	p := newPortal("cong", "wvr", "slow", "flash")
	mb := &mailbox{storyOf: p.storyOf}
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	smtp.Keep = func(m smtptest.Message) bool {
		once.Do(func() { close(held); <-release })
		return mb.keep(m)
	}
	hcm, _ := time.LoadLocation(zone)
	mc := clock.NewManual(time.Date(2026, 3, 6, 7, 58, 0, 0, hcm))
	s := newSim(t, dir, smtp, mb, p, func(s *sim) string {
		toml := strings.Replace(soakTOML(s, phase{}), `schedule = "0 8 * * FRI"`, `schedule = "*/5 * * * *"`, 1)
		return strings.Replace(toml, "rate_per_second = 0.15", "rate_per_second = 0", 1)
	})
	s.clock = mc
	defer s.close()
	ctx := context.Background()
	// Published before the start: the send must not depend on whether its
	// fetch joins the start-up poll or comes after it.
	p.publish("cong", topics[1].title, topics[1].summary)
	s.start()
	for i := 0; i < 5; i++ {
		if _, err := s.app.Subscribers.Add(ctx, subscribers.Subscriber{Email: fmt.Sprintf("r%d@example.jp", i)}); err != nil {
			t.Fatal(err)
		}
	}
	at8, at805 := time.Date(2026, 3, 6, 8, 0, 0, 0, hcm), time.Date(2026, 3, 6, 8, 5, 0, 0, hcm)
	waitUntil(t, "the schedule to wait for 08:00", func() bool { return mc.WaitsFor(at8) })
	mc.Set(at8)
	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatalf("the 08:00 send did not start; log:\n%s", s.logs.String())
	}
	waitUntil(t, "the schedule to wait for 08:05", func() bool { return mc.WaitsFor(at805) })
	mc.Set(at805)
	var skipped []digest.SkippedSend
	waitUntil(t, "the 08:05 send time to be recorded as skipped", func() bool {
		skipped, _ = s.app.Digests.SkippedSends(ctx, "weekly", 10)
		return len(skipped) == 1
	})
	if sk := skipped[0]; sk.Reason != digest.SkipRunning || sk.Issue != 1 || !sk.TickAt.Equal(at805) {
		t.Errorf("skipped send %+v", sk)
	}
	close(release)
	waitUntil(t, "the send to finish", func() bool {
		iss, err := s.app.Digests.IssueByNumber(ctx, "weekly", 1)
		return err == nil && iss.Status == digest.StatusSent
	})
	if issues, _ := s.app.Digests.Issues(ctx, "weekly", ""); len(issues) != 1 || mb.count() != 5 {
		t.Errorf("%d issues, %d messages: want 1 issue to 5 readers", len(issues), mb.count())
	}
}

// waitUntil polls cond in real time; the deadline only stops a broken test.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
