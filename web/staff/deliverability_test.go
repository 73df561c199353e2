package staff

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/subscribers"
)

// The history shows, per issue, the hard and soft bounces and the spam
// complaints that came back later, with their rates, and warns in big
// letters when an issue's complaint rate passes 0.1% or its hard bounces
// pass 2%; a reader's page shows each report with its status code and
// the MTA that wrote it.
func TestHistoryShowsBouncesComplaintsAndWarns(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	var readers []subscribers.Subscriber
	for i := 0; i < 10; i++ {
		s, err := e.a.Subscribers.Add(ctx, subscribers.Subscriber{Email: fmt.Sprintf("r%d@example.jp", i), Language: "vi"})
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, s)
	}
	res, err := e.a.SendNow(ctx, e.d, true)
	if err != nil || res.Summary.Sent != 10 {
		t.Fatalf("send: %+v %v", res.Summary, err)
	}
	iss := res.Issue
	report := func(r subscribers.Subscriber, kind, event, status, mta, id string) {
		t.Helper()
		d, err := e.a.Engine.Delivery(ctx, iss.ID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.Engine.RecordOutcome(ctx, d, deliver.Outcome{Kind: kind, Status: status, Reason: "550 5.1.1 user unknown",
			ReportingMTA: mta, FoundBy: deliver.FoundByVERP, ReportID: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.Subscribers.RecordReport(ctx, r.ID, subscribers.Report{Kind: event, Ref: d.Ref(), Status: status,
			Detail: "550 5.1.1 user unknown", ReportingMTA: mta}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client()
	c.login(aliceEmail, password)

	// One soft bounce in ten: shown, no warning.
	report(readers[0], deliver.OutcomeSoftBounce, subscribers.EventSoftBounce, "4.2.2", "mx.example.jp", "<s@mx>")
	hist := c.get("/staff/history")
	row := between(hist.body, fmt.Sprintf(`id="hist-%d"`, iss.ID), "</tr>")
	if !strings.Contains(row, `class="num soft">1<br><small class="rate">10,00%</small>`) {
		t.Errorf("history row without the soft bounce:\n%s", row)
	}
	if strings.Contains(hist.body, `id="deliverability-warning"`) {
		t.Error("a warning for one soft bounce")
	}

	// A hard bounce and a complaint in ten: both past their limits.
	report(readers[1], deliver.OutcomeHardBounce, subscribers.EventBounce, "5.1.1", "mx.example.jp", "<h@mx>")
	report(readers[2], deliver.OutcomeComplaint, subscribers.EventComplained, "", "Yahoo!-Mail-Feedback/2.0", "<c@fbl>")
	hist = c.get("/staff/history")
	row = between(hist.body, fmt.Sprintf(`id="hist-%d"`, iss.ID), "</tr>")
	for _, want := range []string{`class="num bounced">1<br><small class="rate over">10,00%`, `class="num complaints">1<br><small class="rate over">10,00%`, `class="warn-row"`} {
		if !strings.Contains(row, want) {
			t.Errorf("history row lacks %s:\n%s", want, row)
		}
	}
	warn := between(hist.body, `id="deliverability-warning"`, "</div>")
	for _, want := range []string{fmt.Sprintf("weekly #%d", iss.Number),
		tr("vi", "hist.warn_complaints", "10,00%", 1, "0,10%"), tr("vi", "hist.warn_hard", "10,00%", 1, "2,00%")} {
		if !strings.Contains(warn, want) {
			t.Errorf("the warning lacks %q:\n%s", want, warn)
		}
	}
	c.get("/staff/lang?to=en")
	if en := c.get("/staff/history"); !strings.Contains(en.body, tr("en", "hist.warn_hard", "10.00%", 1, "2.00%")) {
		t.Errorf("the English warning: %s", between(en.body, `id="deliverability-warning"`, "</div>"))
	}

	page := c.get(fmt.Sprintf("/staff/subscribers/%d", readers[1].ID))
	events := between(page.body, `class="audit"`, "</ul>")
	for _, want := range []string{`<code class="status-code">5.1.1</code>`, "user unknown", tr("en", "sub.reported_by", "mx.example.jp"), tr("en", "event.bounce")} {
		if !strings.Contains(events, want) {
			t.Errorf("the reader's history lacks %q:\n%s", want, events)
		}
	}
}
