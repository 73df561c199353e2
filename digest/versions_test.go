package digest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/story"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/store"
)

// Stories of the labelled set (testdata/stories/dev.jsonl): the LG Display
// capital increase in both editions of VietnamPlus, a near miss (another LG
// company), and the Kitakyushu anniversary, whose two versions the rules
// score just under the threshold (a suggestion for staff).
var (
	lgdVI = storyText{"LG Display tăng vốn đầu tư thêm 1,4 tỷ USD tại Hải Phòng",
		"Chiều 8/10, Ban Quản lý Khu kinh tế Hải Phòng trao giấy chứng nhận đăng ký đầu tư điều chỉnh cho Công ty TNHH LG Display Việt Nam Hải Phòng, nâng tổng vốn đầu tư của doanh nghiệp tại Khu công nghiệp Tràng Duệ lên 6,65 tỷ USD.",
		"https://www.vietnamplus.vn/lg-display-tang-von-dau-tu-them-14-ty-usd-tai-hai-phong-post1071203.vnp"}
	lgdEN = storyText{"LG Display pours additional 1.4 billion USD into Hai Phong plant",
		"The Hai Phong Economic Zone Authority on October 8 handed over an amended investment registration certificate to LG Display Vietnam Hai Phong, raising the South Korean firm's total capital at Trang Due Industrial Park to 6.65 billion USD.",
		"https://en.vietnamplus.vn/lg-display-pours-additional-14-billion-usd-into-hai-phong-plant-post302115.vnp"}
	innotekEN = storyText{"LG Innotek opens R&D centre in Hai Phong",
		"South Korea's LG Innotek has opened a research and development centre at its camera module plant in Trang Due Industrial Park, with 200 Vietnamese engineers to be trained by 2028.",
		"https://vir.com.vn/lg-innotek-opens-rd-centre-in-hai-phong-118402.html"}
	kitaEN = storyText{"Hai Phong and Kitakyushu celebrate sister-city relationship",
		"HAI PHONG — Leaders of Hai Phong and Japan's Kitakyushu on Friday celebrated the 12th anniversary of their sister-city relationship, which has brought Japanese know-how in clean water and waste treatment to the city.",
		"https://vietnamnews.vn/politics-laws/1709981/hai-phong-and-kitakyushu-celebrate-sister-city-relationship.html"}
	kitaVI = storyText{"Kỷ niệm 12 năm quan hệ thành phố kết nghĩa Hải Phòng – Kitakyushu",
		"Bí thư Thành ủy Hải Phòng Lê Tiến Châu và Thị trưởng thành phố Kitakyushu Takeuchi Kazuhisa dự lễ kỷ niệm; hai bên nhất trí mở rộng hợp tác sang lĩnh vực đô thị thông minh và năng lượng sạch.",
		"https://baoquocte.vn/ky-niem-12-nam-quan-he-thanh-pho-ket-nghia-hai-phong-kitakyushu-302260.html"}
)

type storyText struct{ title, summary, link string }

func (f *fixture) publish(path, guid string, s storyText, published time.Time) {
	f.portal.put(path, guid, s.title, s.summary, s.link, published)
}

// publishLGD publishes the LG Display story in both languages, hours
// before now.
func (f *fixture) publishLGD(now time.Time) {
	f.publish("/a", "vi-1", lgdVI, now.Add(-3*time.Hour))
	f.publish("/b", "en-1", lgdEN, now.Add(-2*time.Hour))
}

// newStoryFixture is the fixture with same-story detection on, every item
// in the fdi section, and room for 4 stories.
func newStoryFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.issues.SetStories(story.Default())
	f.d.MaxPerSection = 4
	return f
}

func (f *fixture) assembleAll() (*digest.Issue, int) {
	f.t.Helper()
	rep := f.poller.FetchAll(context.Background())
	if failed := rep.Failed(); len(failed) > 0 {
		f.t.Fatalf("fetch failed: %v", failed[0].Err)
	}
	iss, added, err := f.issues.Assemble(context.Background(), f.d, func(feeds.Item) digest.Classification {
		return digest.Classification{Themes: []string{"fdi"}, Primary: "fdi"}
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return iss, added
}

func entryWith(t *testing.T, iss *digest.Issue, title string) digest.IssueItem {
	t.Helper()
	for _, it := range iss.Items {
		if strings.Contains(it.Item.Title, title) {
			return it
		}
		for _, v := range it.Versions {
			if strings.Contains(v.Item.Title, title) {
				return it
			}
		}
	}
	t.Fatalf("no story with %q in issue #%d: %v", title, iss.Number, titles(iss.Items))
	return digest.IssueItem{}
}

// The Vietnamese and English editions of one article are one story: one
// entry in the draft, the other edition attached with why it was paired.
func TestPairedEditionsAreOneStory(t *testing.T) {
	f := newStoryFixture(t)
	now := time.Now()
	f.publishLGD(now)
	f.publish("/b", "en-2", innotekEN, now.Add(-time.Hour))
	iss, added := f.assembleAll()
	if added != 2 || len(iss.Items) != 2 {
		t.Fatalf("draft holds %v (added %d): want the LG Display story once and LG Innotek", titles(iss.Items), added)
	}
	lgd := entryWith(t, iss, "LG Display")
	if lgd.Item.Language != "vi" || len(lgd.Versions) != 1 || lgd.Versions[0].Item.Language != "en" {
		t.Fatalf("LG Display story: lead %q (%s) with versions %+v: want the Vietnamese lead and the English version", lgd.Item.Title, lgd.Item.Language, lgd.Versions)
	}
	v := lgd.Versions[0]
	if v.How != digest.VersionByRules || !strings.Contains(v.Reason, "LG Display") || v.Score < 5 {
		t.Errorf("the pairing does not explain itself: %+v", v)
	}
	if !lgd.HasVersionIn("en") || !lgd.HasVersionIn("vi") {
		t.Error("the story does not know its languages")
	}
	innotek := entryWith(t, iss, "LG Innotek")
	if len(innotek.Versions) != 0 {
		t.Errorf("LG Innotek joined by %+v", innotek.Versions)
	}
	// Assembling again changes nothing; the signals were stored at the
	// first assembly (the items came without them) and are used now.
	again, added := f.assembleAll()
	if added != 0 || len(again.Items) != 2 || len(entryWith(t, again, "LG Display").Versions) != 1 {
		t.Errorf("reassembly: %v (added %d)", titles(again.Items), added)
	}
}

// An English edition published after its Vietnamese story was mailed is
// not news for the digest: it is not placed again, in any language.
func TestCrossLanguageCopyOfAMailedStoryIsNotMailedAgain(t *testing.T) {
	f := newStoryFixture(t)
	now := time.Now()
	f.publish("/a", "vi-1", lgdVI, now.Add(-30*time.Hour))
	iss, _ := f.assembleAll()
	if len(iss.Included()) != 1 {
		t.Fatalf("first issue: %v", titles(iss.Items))
	}
	f.send(iss)

	f.publish("/b", "en-1", lgdEN, now.Add(-2*time.Hour))
	f.publish("/b", "en-2", innotekEN, now.Add(-time.Hour))
	next, _ := f.assembleAll()
	if len(next.Items) != 1 || !strings.Contains(next.Items[0].Item.Title, "LG Innotek") {
		t.Fatalf("next draft holds %v: want only LG Innotek (the English LG Display story was mailed in Vietnamese)", titles(next.Items))
	}
	// An English correction of the mailed story is shown to staff as an
	// update, excluded.
	corr := lgdEN
	corr.title = "Correction: " + corr.title
	corr.link = strings.Replace(corr.link, "post302115", "post302199", 1)
	f.publish("/b", "en-3", corr, now.Add(-30*time.Minute))
	next, _ = f.assembleAll()
	up := entryWith(t, next, "Correction:")
	if up.Included || up.ExcludedBy != digest.ExcludedByUpdate || up.UpdateIn != iss.Number {
		t.Errorf("the English correction is placed as %+v: want excluded, an update of #%d", up, iss.Number)
	}
}

// Staff decisions hold: a split version stays a story of its own when the
// draft is assembled again and in later drafts; merged stories stay one;
// a confirmed pairing is recorded.
func TestStaffStoryDecisionsSurviveReassembly(t *testing.T) {
	f := newStoryFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.publishLGD(now)
	f.publish("/a", "kita-vi", kitaVI, now.Add(-5*time.Hour))
	f.publish("/b", "kita-en", kitaEN, now.Add(-4*time.Hour))
	iss, _ := f.assembleAll()
	if len(iss.Items) != 3 {
		t.Fatalf("draft holds %v: want LG Display (2 versions) and the two Kitakyushu stories", titles(iss.Items))
	}
	// The rules suggest the Kitakyushu pair, with their explanation.
	sugg, err := f.issues.Suggestions(ctx, iss)
	if err != nil {
		t.Fatal(err)
	}
	kv, ke := entryWith(t, iss, "kết nghĩa Hải Phòng"), entryWith(t, iss, "Kitakyushu celebrate")
	var found *digest.Suggestion
	for i, s := range sugg {
		if (s.Into == kv.ItemID && s.From == ke.ItemID) || (s.Into == ke.ItemID && s.From == kv.ItemID) {
			found = &sugg[i]
		}
	}
	if found == nil || !strings.Contains(found.Decision.Explanation, "Kitakyushu") || found.Confidence() <= 0.5 || found.Confidence() >= 1 {
		t.Fatalf("suggestions %+v: want the Kitakyushu pair with its explanation and a confidence under 1", sugg)
	}

	// Merge the Kitakyushu stories; split the English LG Display edition out.
	lgd := entryWith(t, iss, "LG Display")
	enID := lgd.Versions[0].ItemID
	if err := f.issues.MergeStories(ctx, iss.ID, iss.Version, found.Into, found.From, "editor@example.org"); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	if err := f.issues.SplitVersion(ctx, iss.ID, iss.Version, enID, "fdi", "editor@example.org"); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	check := func(iss *digest.Issue, when string) {
		t.Helper()
		kita := entryWith(t, iss, "Kitakyushu")
		lgdVi, lgdEn := entryWith(t, iss, "tăng vốn"), entryWith(t, iss, "pours additional")
		if len(iss.Items) != 3 || len(kita.Versions) != 1 || kita.Versions[0].How != digest.VersionByStaff ||
			lgdVi.ItemID == lgdEn.ItemID || len(lgdVi.Versions) != 0 {
			t.Errorf("%s: %v, Kitakyushu versions %+v, LG Display entries %d/%d", when, titles(iss.Items), kita.Versions, lgdVi.ItemID, lgdEn.ItemID)
		}
	}
	check(iss, "after the staff's decisions")
	if sugg, _ := f.issues.Suggestions(ctx, iss); len(sugg) != 0 {
		t.Errorf("a split pair is suggested again: %+v", sugg)
	}
	// Another portal's copy of the English edition arrives: it joins the
	// English story the editor split out, not the Vietnamese one.
	cp := lgdEN
	cp.link = "https://vietnamnet.vn/en/lg-display-adds-14-billion-usd-hai-phong-2201.html"
	f.publish("/c", "en-copy", cp, now.Add(-time.Hour))
	iss, added := f.assembleAll()
	check(iss, "after reassembly")
	if added != 0 {
		t.Errorf("reassembly added %d stories", added)
	}
	if en := entryWith(t, iss, "pours additional"); len(en.Versions) != 1 || en.Versions[0].Item.URL != cp.link {
		t.Errorf("the copy of the English edition: %+v", en.Versions)
	}

	// Confirm; keep apart.
	kita := entryWith(t, iss, "Kitakyushu")
	if err := f.issues.ConfirmVersion(ctx, iss.ID, iss.Version, kita.Versions[0].ItemID, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	if got := entryWith(t, iss, "Kitakyushu").Versions[0].ConfirmedBy; got != "bob@example.org" {
		t.Errorf("confirmed by %q", got)
	}
	// Stale edits are refused like every other edit.
	if err := f.issues.ConfirmVersion(ctx, iss.ID, iss.Version-1, kita.Versions[0].ItemID, "x"); err != digest.ErrConflict {
		t.Errorf("confirm with an old version: %v, want ErrConflict", err)
	}
	if err := f.issues.SplitVersion(ctx, iss.ID, iss.Version, kita.ItemID, "fdi", "x"); !isNotFound(err) {
		t.Errorf("splitting an entry (not a version): %v, want not found", err)
	}
}

func isNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), digest.ErrNotFound.Error())
}

// A staff translation is stored per language and leaves the other's alone;
// the editions' coverage counts it under the modes that use it.
func TestTranslationAndCoverage(t *testing.T) {
	f := newStoryFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.publishLGD(now)
	f.publish("/a", "kita-vi", kitaVI, now.Add(-5*time.Hour))
	iss, _ := f.assembleAll()
	kita := entryWith(t, iss, "Kitakyushu")
	if err := f.issues.EditItem(ctx, iss.ID, iss.Version, kita.ItemID, "Kỷ niệm 12 năm kết nghĩa (biên tập)", "", "", ""); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	for mode, want := range map[string]digest.Coverage{
		digest.OtherLanguageBadge:      {Lang: "en", Stories: 2, Native: 1, Missing: 1, Mode: digest.OtherLanguageBadge},
		digest.OtherLanguageTranslated: {Lang: "en", Stories: 2, Native: 1, Missing: 1, Mode: digest.OtherLanguageTranslated},
	} {
		if got := digest.CoverageOf(iss, "en", mode); got != want {
			t.Errorf("%s before translating: %+v, want %+v", mode, got, want)
		}
	}
	if err := f.issues.SetTranslation(ctx, iss.ID, iss.Version, kita.ItemID, "en", "Hai Phong and Kitakyushu mark 12 years as sister cities", "Leaders of both cities attended."); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	kita = entryWith(t, iss, "Kitakyushu")
	if kita.TitleVI != "Kỷ niệm 12 năm kết nghĩa (biên tập)" || kita.TitleEN == "" || kita.SummaryEN != "Leaders of both cities attended." {
		t.Errorf("after translating: %+v", kita)
	}
	for mode, want := range map[string]digest.Coverage{
		digest.OtherLanguageTranslated: {Lang: "en", Stories: 2, Native: 1, Translated: 1, Mode: digest.OtherLanguageTranslated},
		digest.OtherLanguageOmit:       {Lang: "en", Stories: 2, Native: 1, Missing: 1, Mode: digest.OtherLanguageOmit},
	} {
		got := digest.CoverageOf(iss, "en", mode)
		if got != want {
			t.Errorf("%s after translating: %+v, want %+v", mode, got, want)
		}
	}
	if c := digest.CoverageOf(iss, "vi", digest.OtherLanguageBadge); c.InLanguage() != 2 || c.Shown() != 2 {
		t.Errorf("Vietnamese edition: %+v", c)
	}
	if err := f.issues.SetTranslation(ctx, iss.ID, iss.Version, kita.ItemID, "fr", "x", "y"); err == nil {
		t.Error("a translation into French was accepted")
	}
}

// Signals are stored when an item is classified and made again when the
// gazetteer (or the extraction) changed since, or when they are damaged.
func TestSignalsAreStoredAndRefreshedLazily(t *testing.T) {
	f := newStoryFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.publishLGD(now)
	rep := f.poller.FetchAll(ctx)
	var fresh []feeds.Item
	for _, fr := range rep.Feeds {
		fresh = append(fresh, fr.NewItems...)
	}
	if len(fresh) != 2 {
		t.Fatalf("fetched %d new items", len(fresh))
	}
	for _, it := range fresh {
		if err := f.issues.SaveSignals(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	// One encoding from an older gazetteer, one damaged.
	if _, err := f.db.Exec(`UPDATE item_signals SET version = 'old' WHERE item_id = ?`, fresh[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`UPDATE item_signals SET data = x'0102' WHERE item_id = ?`, fresh[1].ID); err != nil {
		t.Fatal(err)
	}
	iss, _ := f.assembleAll()
	if len(iss.Items) != 1 || len(iss.Items[0].Versions) != 1 {
		t.Fatalf("draft: %v with %d versions: the stale signals were not made again", titles(iss.Items), len(iss.Items[0].Versions))
	}
	rows, err := f.db.Query(`SELECT version, length(data) FROM item_signals`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v string
		var size int
		if err := rows.Scan(&v, &size); err != nil {
			t.Fatal(err)
		}
		n++
		if v != story.Default().PreparedVersion() || size < 10 {
			t.Errorf("stored signals: version %q, %d bytes", v, size)
		}
	}
	if n != 2 {
		t.Errorf("%d stored signals, want 2", n)
	}
}

// A database from before stories keeps working: its issues' items are
// one-version stories, and assembling with detection on adds to them.
func TestExistingDatabaseItemsAreOneVersionStories(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.publish("/a", "vi-1", lgdVI, now.Add(-3*time.Hour))
	// A draft made without detection (as before the upgrade).
	iss, _ := f.assembleAll()
	if len(iss.Items) != 1 || iss.Items[0].Versions != nil {
		t.Fatalf("old draft: %+v", iss.Items)
	}
	f.issues.SetStories(story.Default())
	f.publish("/b", "en-1", lgdEN, now.Add(-2*time.Hour))
	iss, added := f.assembleAll()
	if added != 0 || len(iss.Items) != 1 || len(iss.Items[0].Versions) != 1 {
		t.Errorf("after the upgrade: %v (added %d), versions %+v: want the English edition attached to the old entry", titles(iss.Items), added, iss.Items[0].Versions)
	}
}

// The story tables come as a new migration step over a database that had
// issues already.
func TestStoryTablesMigrateAnOldDatabase(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(t.TempDir() + "/old.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	steps := digest.Migrations()
	old := steps
	old.Steps = steps.Steps[:len(steps.Steps)-1]
	if err := store.Migrate(ctx, db, feeds.Migrations(), old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO issues (digest, number, status, period_start_at, period_end_at, created_at, updated_at) VALUES ('weekly', 1, 'sent', 0, 1, 0, 0);
		INSERT INTO issue_items (issue_id, item_id, theme, position) VALUES (1, 42, 'fdi', 1)`); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, db, feeds.Migrations(), steps); err != nil {
		t.Fatal(err)
	}
	s := digest.NewStore(db, feeds.NewStore(db))
	iss, err := s.IssueByNumber(ctx, "weekly", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(iss.Items) != 1 || iss.Items[0].Versions != nil {
		t.Errorf("old issue after the migration: %+v", iss.Items)
	}
}

// The rules join items across portals; what one portal publishes is told
// apart by samestory.go: two of its reports that differ by their numbers
// are two stories even when their wording is the same, before and after
// the first is mailed.
func TestOnePortalsReportsStayApart(t *testing.T) {
	f := newStoryFixture(t)
	now := time.Now()
	report := func(n int) storyText {
		return storyText{fmt.Sprintf("Khu công nghiệp thu hút thêm vốn FDI, dự án %d", n),
			"Nhà đầu tư nước ngoài đăng ký dự án mới tại khu công nghiệp.", fmt.Sprintf("https://portal.example.vn/fdi/%d", n)}
	}
	f.publish("/a", "r12", report(12), now.Add(-3*time.Hour))
	f.publish("/a", "r13", report(13), now.Add(-2*time.Hour))
	iss, _ := f.assembleAll()
	if len(iss.Items) != 2 {
		t.Fatalf("draft %v: want both reports as stories", titles(iss.Items))
	}
	f.send(iss)
	f.publish("/a", "r14", report(14), now.Add(-time.Hour))
	next, added := f.assembleAll()
	if added != 1 || len(next.Items) != 1 || !strings.HasSuffix(next.Items[0].Item.Title, "dự án 14") {
		t.Errorf("after the send: %v (added %d), want the new report", titles(next.Items), added)
	}
}

// A version staff add to the draft by its link becomes a story of its own.
func TestAddingAVersionMakesItAStory(t *testing.T) {
	f := newStoryFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.publishLGD(now)
	iss, _ := f.assembleAll()
	en := iss.Items[0].Versions[0].ItemID
	if err := f.issues.AddItem(ctx, iss.ID, iss.Version, en, "fdi"); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	if len(iss.Items) != 2 || len(entryWith(t, iss, "tăng vốn").Versions) != 0 {
		t.Errorf("after adding the English edition: %v, versions %+v", titles(iss.Items), iss.Items[0].Versions)
	}
}

// An item an issue holds only as another version of a story (here the
// English LG Display edition, and the Kitakyushu story merged into the
// other) is kept by retention as its entries are: the issue shows it.
func TestRetentionKeepsVersions(t *testing.T) {
	f := newStoryFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.publishLGD(now)
	f.publish("/a", "kita-vi", kitaVI, now.Add(-5*time.Hour))
	f.publish("/b", "kita-en", kitaEN, now.Add(-4*time.Hour))
	iss, _ := f.assembleAll()
	lgd := entryWith(t, iss, "LG Display")
	if len(lgd.Versions) != 1 {
		t.Fatalf("LG Display has %d versions, want its English edition", len(lgd.Versions))
	}
	kv, ke := entryWith(t, iss, "kết nghĩa Hải Phòng"), entryWith(t, iss, "Kitakyushu celebrate")
	if err := f.issues.MergeStories(ctx, iss.ID, iss.Version, kv.ItemID, ke.ItemID, "editor@example.org"); err != nil {
		t.Fatal(err)
	}
	versions := []int64{lgd.Versions[0].ItemID, ke.ItemID}

	held, err := f.issues.HeldItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range versions {
		if !slices.Contains(held, id) {
			t.Errorf("item %d, a version in issue %d, is not among the held items %v", id, iss.ID, held)
		}
	}
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	free, err := digest.ForgetItems(ctx, tx, versions)
	if err != nil {
		t.Fatal(err)
	}
	if len(free) != 0 {
		t.Errorf("ForgetItems would delete %v, versions the issue shows", free)
	}
}
