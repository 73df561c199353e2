package app_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/story"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/subscribers"
)

var (
	soakWeeks = flag.Int("soak.weeks", 0, "weeks of simulated operation for TestSoak (default 3; HPDIGEST_SOAK_WEEKS also sets it)")
	soakLog   = flag.String("soak.log", "", "write the daemon's log of TestSoak to this file")
)

// soakLength is the short form (3 weeks: every scenario once) unless the
// flag or HPDIGEST_SOAK_WEEKS (set by .ci/run) asks for more.
func soakLength(t *testing.T) int {
	if *soakWeeks > 0 {
		return *soakWeeks
	}
	if v := os.Getenv("HPDIGEST_SOAK_WEEKS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("HPDIGEST_SOAK_WEEKS=%q: want a number of weeks", v)
		}
		return n
	}
	return 3
}

const (
	zone         = "Asia/Ho_Chi_Minh"
	weeklySpec   = "0 8 * * FRI"
	flashSpec    = "*/2 8-9 * * MON" // every 2 minutes, shorter than a send
	feedInterval = time.Hour
	maxBackoff   = 6 * time.Hour
	fetchTimeout = 10 * time.Second
)

// phase is what the config says at the time.
type phase struct{ weeklyApproval, flashApproval bool }

func soakTOML(s *sim, ph phase) string {
	return fmt.Sprintf(`
database = %q
timezone = %q

[http]
base_url = "https://digest.example.org"

[sender]
name = "Bản tin Hải Phòng"
address = "digest@haiphong.example.org"
postal_address = "18 Hoàng Diệu, Hải Phòng"

[smtp]
host = %q
port = %d
tls = "none"
workers = 4
rate_per_second = 0.15
timeout = "30s"

[fetch]
timeout = "%s"
default_interval = "%s"
max_backoff = "%s"
max_errors = 100

[[feeds]]
name = "Cổng Hải Phòng"
url = "http://feeds.test/cong.rss"
language = "vi"

[[feeds]]
name = "World & Vietnam Report"
url = "http://feeds.test/wvr.rss"
language = "en"

[[feeds]]
name = "Báo chậm"
url = "http://feeds.test/slow.rss"
language = "vi"

[[feeds]]
name = "Tin nhanh"
url = "http://feeds.test/flash.rss"
language = "vi"

[[digests]]
key = "weekly"
schedule = %q
draft_schedule = "0 9 * * THU"
max_per_section = 2
require_approval = %v

[[digests]]
key = "flash"
title_vi = "Tin nhanh Hải Phòng"
title_en = "Hai Phong Flash"
schedule = %q
window = "2h"
require_approval = %v

# The shortest retention accepted: runs of more than four weeks fold old
# outboxes and prune old items nightly while everything else goes on.
[retention]
outbox = "720h"
items = "720h"
reader_events = "1440h"
`, s.dbPath, zone, s.smtp.Host, s.smtp.Port, fetchTimeout, feedInterval, maxBackoff, weeklySpec, ph.weeklyApproval, flashSpec, ph.flashApproval)
}

// reader is what the test knows of one subscriber.
type reader struct {
	email       string
	id          int64
	themes      []string
	confirmedAt time.Time
	stoppedAt   time.Time // unsubscribed or paused
	seqAtStop   int       // messages accepted by the server when the stop was committed
	lang        string
}

// pairedStory is a story published in both languages before a draft.
type pairedStory struct {
	story          int
	viLink, enLink string
}

// lateVersion is the English edition of a story, published after the
// Vietnamese one may have been mailed.
type lateVersion struct {
	story  int
	link   string
	at     time.Time
	looked bool  // looked up a day after publication
	itemID int64 // what the daemon stored it as (0: not stored)
}

// story topics: the words the theme rules recognise.
var topics = []struct{ title, summary string }{
	{"Đoàn kiều bào tại Nhật Bản thăm quê hương Hải Phòng", "Đoàn kiều bào đang sinh sống tại Nhật Bản về thăm quê hương và gặp mặt lãnh đạo thành phố."},
	{"Hải Phòng trao giấy chứng nhận đầu tư cho dự án FDI tại khu công nghiệp DEEP C", "Ban quản lý khu kinh tế trao giấy chứng nhận đầu tư cho nhà đầu tư nước ngoài vốn FDI."},
	{"Hải Phòng và Quảng Tây, Trung Quốc ký kết hợp tác thương mại", "Lãnh đạo thành phố tiếp đoàn công tác tỉnh Quảng Tây, Trung Quốc, trao đổi hợp tác thương mại và logistics."},
	{"Khai mạc lễ hội hoa phượng đỏ tại trung tâm thành phố", "Lễ hội hoa phượng đỏ khai mạc với nhiều hoạt động văn hóa, du lịch."},
}

// news is what the simulated portals publish: the labelled stories of
// testdata/stories (real portal writing, so that stories are told apart
// as the daemon tells real ones apart), Vietnamese and English, and the
// stories published in both languages that the same-story rules pair.
type news struct {
	vi, en []newsText
	pairs  [][2]newsText // Vietnamese, English
	next   map[string]int
}

type newsText struct{ title, summary string }

// take returns the next text of a language, from the start again when all
// were published (weeks later: a new story for the rules, as for readers).
func (n *news) take(lang string) newsText {
	pool := n.vi
	if lang == "en" {
		pool = n.en
	}
	t := pool[n.next[lang]%len(pool)]
	n.next[lang]++
	return t
}

func loadNews(t *testing.T) *news {
	n := &news{next: map[string]int{}}
	type labelled struct {
		story.Labelled
		key string // file and story: "" for an item alone
	}
	var all []labelled
	byStory := map[string][]story.Labelled{}
	var keys []string
	// The sets the rules were tuned on and first measured on: they tell
	// their stories apart without a wrong merge, so what the daemon
	// pairs is what the portals published as one story.
	for _, name := range []string{"dev.jsonl", "heldout.jsonl"} {
		f, err := os.Open(filepath.Join("..", "testdata", "stories", name))
		if err != nil {
			t.Fatal(err)
		}
		items, err := story.ReadLabelled(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, it := range items {
			l := labelled{Labelled: it}
			if it.Story != "" {
				l.key = name + "/" + it.Story
				if byStory[l.key] == nil {
					keys = append(keys, l.key)
				}
				byStory[l.key] = append(byStory[l.key], it)
			}
			all = append(all, l)
		}
	}
	// The pairs: a Vietnamese and an English item of one story that the
	// rules pair (with the marks the portal adds), in a section of the
	// weekly digest.
	det := story.Default()
	classifier, err := theme.New(theme.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	mark := func(it story.Labelled) story.Item {
		x := it.Item
		x.Title, x.Summary, x.URL, x.Published = x.Title+" (tin 7)", x.Summary+" Mã tin 7.", "", time.Time{}
		return x
	}
	paired := map[string]bool{}
	for _, k := range keys {
		var vi, en *story.Labelled
		for i, it := range byStory[k] {
			switch {
			case it.Lang == "vi" && vi == nil:
				vi = &byStory[k][i]
			case it.Lang == "en" && en == nil:
				en = &byStory[k][i]
			}
		}
		if vi == nil || en == nil || !det.Compare(mark(*vi), mark(*en)).Same ||
			digest.Classify(classifier, feeds.Item{Title: vi.Title, SummaryText: vi.Summary}).Primary == theme.Other {
			continue
		}
		paired[k] = true
		n.pairs = append(n.pairs, [2]newsText{{vi.Title, vi.Summary}, {en.Title, en.Summary}})
	}
	// Everything else is published once each, by language.
	for _, it := range all {
		if it.Title == "" || it.Summary == "" || paired[it.key] {
			continue
		}
		if it.Lang == "en" {
			n.en = append(n.en, newsText{it.Title, it.Summary})
		} else {
			n.vi = append(n.vi, newsText{it.Title, it.Summary})
		}
	}
	if len(n.pairs) < 8 || len(n.vi) < 50 || len(n.en) < 30 {
		t.Fatalf("news: %d pairs, %d Vietnamese and %d English texts: too few to simulate with", len(n.pairs), len(n.vi), len(n.en))
	}
	return n
}

func TestSoak(t *testing.T) {
	weeks := soakLength(t)
	dir := t.TempDir()
	smtp := smtptest.Start(t)
	p := newPortal("cong", "wvr", "slow", "flash")
	nw := loadNews(t)
	var paired []pairedStory
	var late []*lateVersion
	mb := &mailbox{storyOf: p.storyOf}
	smtp.Keep = mb.keep
	started := time.Now()

	synctest.Test(t, func(t *testing.T) {
		ph := phase{}
		s := newSim(t, dir, smtp, mb, p, func(s *sim) string { return soakTOML(s, ph) })
		defer s.close()
		hcm, _ := time.LoadLocation(zone)
		week0 := time.Date(2000, 1, 1, 0, 0, 0, 0, hcm) // a Saturday
		at := func(week, day, hour, minute, second int) time.Time {
			return week0.AddDate(0, 0, 7*week+day).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute + time.Duration(second)*time.Second)
		}
		const (
			sat, sun, mon, tue, wed, thu, fri = 0, 1, 2, 3, 4, 5, 6
		)
		ctx := context.Background()

		// The installation: readers imported before the daemon's first start.
		sleepUntil(at(0, sat, 8, 0, 0))
		s.start()
		readers := map[string]*reader{}
		var order []*reader
		for i := 1; i <= 24; i++ {
			r := &reader{email: fmt.Sprintf("r%02d@example.jp", i), confirmedAt: time.Now()}
			lang := "vi"
			if i%5 == 0 {
				lang = "en"
			}
			r.lang = lang
			if i%6 == 0 {
				r.themes = []string{"fdi"}
			}
			sub, err := s.app.Subscribers.Add(ctx, subscribers.Subscriber{Email: r.email, Language: lang, Themes: r.themes})
			if err != nil {
				t.Fatal(err)
			}
			r.id = sub.ID
			readers[r.email] = r
			order = append(order, r)
		}

		// The scheduled sends skipped because a send was running, by
		// digest and tick.
		skips := map[string]map[time.Time]bool{}
		noteSkips := func(s *sim) {
			list, err := s.app.Digests.SkippedSends(ctx, "", 10000)
			if err != nil {
				t.Fatal(err)
			}
			for _, sk := range list {
				if skips[sk.Digest] == nil {
					skips[sk.Digest] = map[time.Time]bool{}
				}
				skips[sk.Digest][sk.TickAt] = true
			}
		}

		// Events, in time order; each runs once the daemon is idle.
		type event struct {
			at   time.Time
			what string
			do   func()
		}
		var events []event
		add := func(at time.Time, what string, do func()) { events = append(events, event{at, what, do}) }

		mailedStories := func(digestKey string) []int {
			var out []int
			seen := map[int]bool{}
			for _, m := range mb.all() {
				if m.issueID == 0 {
					continue
				}
				iss, err := s.app.Digests.Issue(ctx, m.issueID)
				if err != nil || iss.Digest != digestKey {
					continue
				}
				for _, st := range m.stories {
					if !seen[st] {
						seen[st] = true
						out = append(out, st)
					}
				}
			}
			sort.Ints(out)
			return out
		}
		congMailed := func() []int {
			var out []int
			for _, st := range mailedStories("weekly") {
				if _, ok := p.current("cong", st); ok {
					out = append(out, st)
				}
			}
			return out
		}
		stop := func(r *reader, how string) {
			r.seqAtStop = mb.count()
			r.stoppedAt = time.Now()
			switch how {
			case "unsubscribe": // the one-click POST of RFC 8058, with the link of their last mail
				link := ""
				for _, m := range mb.all() {
					if m.to == r.email && m.unsubURL != "" {
						link = m.unsubURL
					}
				}
				if link == "" { // no mail yet: the same link the first one will carry
					link = "/unsubscribe/" + s.app.Tokens.Sign(subscribers.PurposeUnsubscribe, r.id)
				}
				w := s.post(int(r.id), pathOf(link), url.Values{"List-Unsubscribe": {"One-Click"}}, nil)
				if w.Code >= 300 {
					t.Fatalf("one-click unsubscribe of %s: %d %s", r.email, w.Code, w.Body)
				}
			case "pause":
				if _, err := s.app.Subscribers.UpdatePreferences(ctx, r.id, subscribers.Prefs{Language: "vi", Themes: r.themes, Paused: true}); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The reader to stop during a send: the last in the send's order
		// (subscriber id), whose message has not left yet.
		nextToStop := func() *reader {
			for i := len(order) - 1; i >= 0; i-- {
				if r := order[i]; r.stoppedAt.IsZero() && len(r.themes) == 0 {
					return r
				}
			}
			t.Fatal("no reader left to stop")
			return nil
		}
		edited := func(s string) string { return s + " – cập nhật ảnh" }
		crashed := map[int64]bool{} // issues being sent when the process was killed

		for w := 0; w < weeks; w++ {
			c := w % 3
			// Portals publish all week.
			for h := 0; h < 7*24; h += 6 {
				hour := h
				add(week0.AddDate(0, 0, 7*w).Add(time.Duration(hour)*time.Hour+17*time.Minute), "cong publishes", func() {
					tp := nw.take("vi")
					p.publish("cong", tp.title, tp.summary)
				})
				if h%12 == 0 {
					add(week0.AddDate(0, 0, 7*w).Add(time.Duration(hour)*time.Hour+41*time.Minute), "wvr and slow publish", func() {
						tp := nw.take("en")
						p.publish("wvr", tp.title, tp.summary)
						tv := nw.take("vi")
						p.publish("slow", tv.title, tv.summary)
					})
				}
			}
			// Thursday morning, before the draft: a story in both
			// languages (one story for the daemon: each reader gets their
			// language's version, linked to the other), and a story whose
			// English edition comes out after the send.
			pairA, pairB := nw.pairs[(2*w)%len(nw.pairs)], nw.pairs[(2*w+1)%len(nw.pairs)]
			var lateStory int
			add(at(w, thu, 7, 0, 0), "cong and wvr publish one story in both languages", func() {
				st := p.publish("cong", pairA[0].title, pairA[0].summary)
				vi, _ := p.current("cong", st)
				en := p.publishVersion("wvr", st, pairA[1].title, pairA[1].summary)
				paired = append(paired, pairedStory{story: st, viLink: vi.link, enLink: en})
				lateStory = p.publish("cong", pairB[0].title, pairB[0].summary)
			})
			add(at(w+1, sat, 10, 0, 0), "wvr publishes the English edition of a story mailed in Vietnamese", func() {
				late = append(late, &lateVersion{story: lateStory, link: p.publishVersion("wvr", lateStory, pairB[1].title, pairB[1].summary), at: time.Now()})
			})
			// Looked up while it is young: retention later prunes items
			// that are in no issue, as this one must be.
			add(at(w+1, sun, 10, 0, 0), "the English edition published yesterday is looked up", func() {
				lv := late[len(late)-1]
				it, ok, err := s.app.Feeds.ItemByURL(ctx, lv.link)
				if err != nil {
					t.Fatal(err)
				}
				lv.looked = true
				if ok {
					lv.itemID = it.ID
				}
			})
			// Retention prunes the records of skipped sends after a while:
			// they are noted while they are young.
			add(at(w, mon, 12, 0, 0), "the scheduled sends skipped so far are noted", func() { noteSkips(s) })
			// Monday morning: a story every 3 minutes for the flash digest,
			// whose ticks (every 2 minutes) fire while sends run.
			for m := 0; m < 60; m += 3 {
				add(at(w, mon, 7, 59+m, 30), "flash publishes", func() {
					tp := nw.take("vi")
					p.publish("flash", "Tin nhanh: "+tp.title, tp.summary)
				})
			}
			if c == 0 {
				add(at(w, mon, 8, 1, 0), "a reader unsubscribes during a flash send", func() { stop(nextToStop(), "unsubscribe") })
			}
			// Failing feeds, over Monday morning's sends (each send fetches
			// first, and must leave a feed that backs off alone).
			if c == 0 {
				add(at(w, sun, 22, 0, 0), "wvr starts failing (500)", func() { p.setFail("wvr", "500") })
				add(at(w, mon, 22, 0, 0), "wvr recovers", func() { p.setFail("wvr", "") })
			}
			if c == 1 {
				add(at(w, mon, 6, 0, 0), "slow starts timing out", func() { p.setFail("slow", "timeout") })
				add(at(w, tue, 6, 0, 0), "slow recovers", func() { p.setFail("slow", "") })
			}
			// A reader signs up through the form and confirms by the link.
			newEmail := fmt.Sprintf("new%02d@example.de", w)
			add(at(w, wed, 10, 0, 0), "a reader subscribes", func() {
				if r := s.post(1000+w, "/subscribe", url.Values{"email": {newEmail}, "name": {"Người mới"}, "language": {"vi"}}, nil); r.Code >= 400 {
					t.Fatalf("subscribe: %d %s", r.Code, r.Body)
				}
			})
			add(at(w, wed, 10, 5, 0), "the reader confirms", func() {
				link := ""
				for _, m := range mb.all() {
					if m.to == newEmail && m.confirmURL != "" {
						link = m.confirmURL
					}
				}
				if link == "" {
					t.Fatalf("no confirmation mail for %s", newEmail)
				}
				if r := s.post(1000+w, pathOf(link), url.Values{}, nil); r.Code >= 400 {
					t.Fatalf("confirm: %d %s", r.Code, r.Body)
				}
				sub, err := s.app.Subscribers.ByEmail(ctx, newEmail)
				if err != nil || sub.Status != subscribers.Confirmed {
					t.Fatalf("after confirming: %+v %v", sub, err)
				}
				r := &reader{email: newEmail, id: sub.ID, confirmedAt: time.Now()}
				readers[newEmail] = r
				order = append(order, r)
			})
			// The draft is assembled on Thursday at 9; at noon the portal
			// edits the title of a story in it (same GUID).
			add(at(w, thu, 12, 0, 0), "a title is edited before the send", func() {
				iss, err := s.app.Digests.OpenIssue(ctx, "weekly")
				if err != nil {
					t.Fatalf("no weekly draft on Thursday: %v", err)
				}
				for _, it := range iss.Items {
					if st := p.storyOf(it.Item.URL); st != 0 && p.editTitle("cong", st, edited) {
						return
					}
				}
			})
			if c == 2 {
				add(at(w, thu, 15, 0, 0), "staff approve the weekly issue", func() {
					iss, err := s.app.Digests.OpenIssue(ctx, "weekly")
					if err != nil {
						t.Fatal(err)
					}
					if err := s.app.Digests.Approve(ctx, iss.ID, iss.Version, "editor@haiphong.gov.vn"); err != nil {
						t.Fatal(err)
					}
				})
			}
			// Friday 8:00 the weekly send starts; it takes minutes.
			add(at(w, fri, 8, 1, 0), "a reader unsubscribes during the weekly send", func() { stop(nextToStop(), "unsubscribe") })
			if c == 1 {
				add(at(w, fri, 8, 1, 10), "a reader pauses during the weekly send", func() { stop(nextToStop(), "pause") })
			}
			switch c {
			case 1:
				add(at(w, fri, 8, 1, 20), "SIGTERM during the send", func() { s.stop() })
				add(at(w, fri, 8, 5, 0), "restart, with approval required", func() {
					ph = phase{weeklyApproval: true, flashApproval: true}
					s.start()
				})
			case 2:
				add(at(w, fri, 8, 1, 40), "kill -9 during the send", func() {
					if iss, err := s.app.Digests.OpenIssueHeader(ctx, "weekly"); err == nil {
						crashed[iss.ID] = true
					}
					s.crash()
				})
				add(at(w, fri, 8, 10, 0), "restart after the crash, approval off", func() {
					ph = phase{}
					s.start()
				})
			}
			// The next Wednesday evening, before the draft: the portal
			// publishes stories mailed on Friday again.
			add(at(w+1, wed, 20, 0, 0), "mailed stories come back", func() {
				mailed := congMailed()
				if len(mailed) < 3 {
					t.Fatalf("week %d: only %d cong stories mailed so far", w, len(mailed))
				}
				n := len(mailed)
				a, b, c := mailed[n-1], mailed[n-2], mailed[n-3]
				p.republish("cong", a, nil, nil) // a copy under a new GUID and link
				// The original edited after sending, and a copy of the old
				// version listed above it.
				p.editAfterCopy("cong", b, edited)
				// A correction.
				p.republish("cong", c, func(s string) string { return "[Đính chính] " + s },
					func(s string) string { return strings.Replace(s, "Mã tin", "Số liệu đã sửa. Mã tin", 1) })
			})
		}
		end := at(weeks, sat, 12, 0, 0)
		sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
		for _, ev := range events {
			if ev.at.After(end) {
				break
			}
			sleepUntil(ev.at)
			synctest.Wait()
			ev.do()
			if t.Failed() {
				t.Fatalf("stopped at %s (%s)", ev.at.Format(time.RFC3339), ev.what)
			}
		}
		sleepUntil(end)
		synctest.Wait()

		noteSkips(s)
		checkSoak(t, s, mb, p, readers, crashed, skips, weeks)
		checkVersions(t, s, mb, readers, paired, late)
		s.stop()
		if *soakLog != "" {
			if err := os.WriteFile(*soakLog, []byte(s.logs.String()), 0o644); err != nil {
				t.Error(err)
			}
		}
		t.Logf("%d messages, %d readers", mb.count(), len(readers))
	})
	t.Logf("%d weeks simulated in %v", weeks, time.Since(started).Round(time.Millisecond))
}

// checkSoak asserts what the weeks must have kept true.
func checkSoak(t *testing.T, s *sim, mb *mailbox, p *portal, readers map[string]*reader, crashed map[int64]bool, skips map[string]map[time.Time]bool, weeks int) {
	ctx := context.Background()
	a := s.app
	for _, b := range mb.bad {
		t.Error(b)
	}
	mails := mb.all()
	byIssue := map[int64][]mailRecord{}
	for _, m := range mails {
		if m.issueID != 0 {
			byIssue[m.issueID] = append(byIssue[m.issueID], m)
		}
	}

	for _, d := range a.Cfg().Digests {
		issues, err := a.Digests.Issues(ctx, d.Key, "")
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(issues, func(i, j int) bool { return issues[i].Number < issues[j].Number })
		sched, err := cron.ParseStandard("CRON_TZ=" + d.Timezone + " " + d.Schedule)
		if err != nil {
			t.Fatal(err)
		}
		// One issue per tick: every issue started at a tick of its schedule
		// (plus at most the fetch before it), and no tick started two.
		byTick := map[time.Time]int{}
		sent := 0
		storyIssue := map[int]int{}
		for _, iss := range issues {
			if iss.Status != digest.StatusSent && iss.Status != digest.StatusSending {
				continue
			}
			if iss.Status != digest.StatusSent {
				t.Errorf("%s #%d is still %s at the end", d.Key, iss.Number, iss.Status)
			}
			sent++
			tick := sched.Next(iss.SendingAt.Add(-fetchTimeout - 5*time.Second))
			if iss.SendingAt.Sub(tick) < 0 || iss.SendingAt.Sub(tick) > fetchTimeout+5*time.Second {
				t.Errorf("%s #%d started at %v, not at a tick of %q (nearest %v): an unscheduled issue", d.Key, iss.Number, iss.SendingAt, d.Schedule, tick)
			}
			if prev, ok := byTick[tick]; ok {
				t.Errorf("%s: the tick of %v started #%d and #%d", d.Key, tick, prev, iss.Number)
			}
			byTick[tick] = iss.Number

			// No story in two issues of the digest.
			full, err := a.Digests.Issue(ctx, iss.ID)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[int]bool{}
			for _, m := range byIssue[iss.ID] {
				for _, st := range m.stories {
					if seen[st] {
						continue
					}
					seen[st] = true
					if other, ok := storyIssue[st]; ok {
						t.Errorf("%s: story %d (%q) mailed in #%d and again in #%d", d.Key, st, p.titles[st], other, iss.Number)
					}
					storyIssue[st] = iss.Number
				}
			}

			// Every reader mailable during the whole send got it once, if
			// it had something for their themes; nobody got it twice.
			// A kill -9 may leave one message per SMTP connection sent but
			// not recorded: those few are sent again, nothing else is.
			got := map[string]int{}
			for _, m := range byIssue[iss.ID] {
				got[m.to]++
			}
			twice := 0
			for _, r := range readers {
				if got[r.email] > 1 {
					twice++
					if !crashed[iss.ID] || got[r.email] > 2 {
						t.Errorf("%s #%d: %s got it %d times", d.Key, iss.Number, r.email, got[r.email])
					}
					got[r.email] = 1
				}
				if r.confirmedAt.IsZero() || !r.confirmedAt.Before(iss.SendingAt) || (!r.stoppedAt.IsZero() && !r.stoppedAt.After(full.SentAt)) {
					continue
				}
				if a.RenderIssue(d, full, chosen(d, r.themes)).Sections == nil {
					continue // nothing for their themes
				}
				if got[r.email] != 1 {
					t.Errorf("%s #%d: %s (confirmed %v) got %d copies, want 1", d.Key, iss.Number, r.email, r.confirmedAt, got[r.email])
				}
			}
			if twice > 0 {
				t.Logf("%s #%d: %d readers got it twice after the kill -9", d.Key, iss.Number, twice)
			}
			if workers := max(a.Cfg().SMTP.Workers, 1); twice > workers {
				t.Errorf("%s #%d: %d readers got it twice; a kill -9 can leave at most one per connection (%d)", d.Key, iss.Number, twice, workers)
			}
		}
		skipped := len(skips[d.Key])
		t.Logf("%s: %d issues sent, %d scheduled sends skipped (a send was running)", d.Key, sent, skipped)
		if d.Key == "flash" && skipped == 0 {
			t.Errorf("flash: no tick came during a send: the scenario did not happen")
		}
		if d.Key == "weekly" && sent == 0 {
			t.Errorf("weekly: nothing sent")
		}
	}

	// No mail after an unsubscribe or a pause.
	stops := 0
	for _, r := range readers {
		if r.stoppedAt.IsZero() {
			continue
		}
		stops++
		for _, m := range mails {
			if m.to == r.email && m.seq > r.seqAtStop {
				t.Errorf("%s stopped at %v and still got message %d (issue %d)", r.email, r.stoppedAt, m.seq, m.issueID)
			}
		}
	}
	if stops == 0 {
		t.Error("nobody unsubscribed: the scenario did not happen")
	}

	// Corrections of mailed stories: never mailed, shown to staff.
	updates := 0
	all, _ := a.Digests.Issues(ctx, "weekly", "")
	for _, h := range all {
		iss, _ := a.Digests.Issue(ctx, h.ID)
		for _, it := range iss.Items {
			if it.ExcludedBy == digest.ExcludedByUpdate {
				updates++
				if it.Included {
					t.Errorf("#%d includes the correction %q", iss.Number, it.Item.Title)
				}
			}
		}
	}
	if updates == 0 {
		t.Error("no correction was shown to staff as an update of a mailed story")
	}

	// Fetches respect back-off: after a failure the next request waits at
	// least the back-off (interval doubled per failure, capped, -20% jitter).
	for _, feed := range []string{"wvr", "slow"} {
		reqs := p.requests(feed)
		failures, checked := 0, 0
		for i, r := range reqs {
			if i > 0 && failures > 0 {
				want := feedInterval << (failures - 1)
				if want > maxBackoff {
					want = maxBackoff
				}
				want = want * 8 / 10
				if gap := r.at.Sub(reqs[i-1].at); gap < want-time.Second {
					t.Errorf("%s: request at %v came %v after failure %d; the back-off is at least %v", feed, r.at, gap, failures, want)
				}
				checked++
			}
			if r.status == 500 || r.status == 0 {
				failures++
			} else {
				failures = 0
			}
		}
		t.Logf("%s: %d requests, %d made after a failure, all after the back-off", feed, len(reqs), checked)
		if checked == 0 {
			t.Errorf("%s never failed: the scenario did not happen", feed)
		}
	}
	n304 := 0
	for _, r := range p.requests("cong") {
		if r.status == 304 {
			n304++
		}
	}
	if n304 == 0 {
		t.Error("no conditional GET was answered 304")
	}

	// Retention: in a run of more than five weeks, the outboxes of the
	// issues sent more than 30 days before its end are folded into their
	// counts, which the history still reads.
	logs := s.logs.String()
	if weeks > 5 {
		folded := 0
		for _, key := range []string{"weekly", "flash"} {
			issues, _ := a.Digests.Issues(ctx, key, "")
			var ids []int64
			for _, iss := range issues {
				ids = append(ids, iss.ID)
			}
			totals, err := a.Engine.IssueTotals(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			for _, iss := range issues {
				if tot := totals[iss.ID]; !tot.Folded.IsZero() {
					folded++
					if tot.Total == 0 || tot.Sent+tot.Skipped+tot.Failed != tot.Total {
						t.Errorf("%s #%d folded into counts that do not add up: %+v", key, iss.Number, tot)
					}
				}
			}
		}
		if folded == 0 || !strings.Contains(logs, `msg="retention applied"`) {
			t.Errorf("no outbox was folded by retention in %d weeks (%d folded)", weeks, folded)
		}
		t.Logf("retention folded the outboxes of %d issues", folded)
	}

	// The logs read clearly.
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "(all feeds)") {
			t.Errorf("log: %s", line)
		}
	}
	if n := strings.Count(logs, "send interrupted by shutdown"); n < 1 {
		t.Errorf("no INFO line says what resumes after the SIGTERM during a send")
	}
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	for i, line := range lines {
		if strings.Contains(line, "draft assembled") && strings.Contains(line, "status=sending") {
			t.Errorf("log: %s", line)
		}
		// Each start of the daemon says so first, before it resumes.
		if (i == 0 || strings.Contains(lines[i-1], "msg=stopped")) && !strings.Contains(line, `msg="daemon started"`) {
			t.Errorf("the daemon's first line is %s", line)
		}
	}
}

// checkVersions asserts that each reader got a story published in both
// languages in their own language, with the other version linked (in a
// story with more versions, the first of its language), and that an
// English edition published after its Vietnamese story was mailed was not
// mailed again (checkSoak finds any story mailed in two issues).
func checkVersions(t *testing.T, s *sim, mb *mailbox, readers map[string]*reader, paired []pairedStory, late []*lateVersion) {
	mails := mb.all()
	delivered := 0
	for _, ps := range paired {
		got := map[string]bool{}
		for _, m := range mails {
			if m.issueID == 0 || !slices.Contains(m.links, ps.enLink) && !slices.Contains(m.links, ps.viLink) {
				continue
			}
			lang := "vi"
			if r, ok := readers[m.to]; ok && r.lang != "" {
				lang = r.lang
			}
			en := slices.Index(m.links, ps.enLink)
			enAlso := slices.Contains(m.also, ps.enLink)
			switch {
			case lang == "vi" && en >= 0 && !enAlso:
				t.Errorf("story %d: the Vietnamese reader %s got the English edition as the story (links %v, other-language links %v)", ps.story, m.to, m.links, m.also)
			case lang == "en" && (en < 0 || enAlso):
				t.Errorf("story %d: the English reader %s did not get the English edition as the story (links %v, other-language links %v)", ps.story, m.to, m.links, m.also)
			case lang == "vi" && en > 0:
				got["vi"] = true // the English edition linked after the Vietnamese version
			case lang == "en" && en+1 < len(m.links) && slices.Contains(m.also, m.links[en+1]):
				got["en"] = true // the Vietnamese version linked after the English edition
			}
		}
		if got["vi"] && got["en"] {
			delivered++
		}
	}
	t.Logf("%d of %d stories published in both languages reached both editions with the other version linked", delivered, len(paired))
	if delivered == 0 {
		t.Error("no story published in both languages reached readers of both languages as one story")
	}
	// The late English editions of mailed stories: not news, never placed
	// in an issue (not even left out for lack of room).
	ctx := context.Background()
	placed := map[int64]int{} // item → issue number
	for _, d := range s.app.Cfg().Digests {
		issues, err := s.app.Digests.Issues(ctx, d.Key, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range issues {
			iss, err := s.app.Digests.Issue(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range iss.Items {
				placed[it.ItemID] = iss.Number
				for _, v := range it.Versions {
					placed[v.ItemID] = iss.Number
				}
			}
		}
	}
	sentBefore := 0
	for _, lv := range late {
		mailedBefore := false
		for _, m := range mails {
			if m.issueID == 0 || !slices.Contains(m.stories, lv.story) {
				continue
			}
			iss, err := s.app.Digests.Issue(ctx, m.issueID)
			if err == nil && iss.SendingAt.Before(lv.at) {
				mailedBefore = true
				break
			}
		}
		if !mailedBefore {
			continue
		}
		if !lv.looked {
			continue // published at the end of the run
		}
		sentBefore++
		if lv.itemID == 0 {
			t.Errorf("the English edition %s was not stored a day after it came out", lv.link)
			continue
		}
		if n, in := placed[lv.itemID]; in {
			t.Errorf("story %d was mailed in Vietnamese, and its English edition %s, published after, was placed in issue #%d", lv.story, lv.link, n)
		}
	}
	t.Logf("%d English editions came out after their story was mailed in Vietnamese", sentBefore)
	if sentBefore == 0 {
		t.Error("no English edition came out after its story was mailed: the scenario did not happen")
	}
}

// chosen is the digest's themes a reader chose, in the digest's order.
func chosen(d digest.Digest, themes []string) []string {
	if len(themes) == 0 {
		return d.Themes
	}
	var out []string
	for _, t := range d.Themes {
		for _, c := range themes {
			if t == c {
				out = append(out, t)
			}
		}
	}
	return out
}
