package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/web/staff"
)

func pickDigest(a *app.App, key string) (digest.Digest, error) {
	d, ok := a.Cfg().Digest(key)
	if !ok {
		return d, fmt.Errorf("no digest %q in the config", key)
	}
	return d, nil
}

func sendNow(ctx context.Context, a *app.App, f *flags, stdout, stderr io.Writer) int {
	d, err := pickDigest(a, f.digest)
	if err != nil {
		return reportErr(stderr, err)
	}
	a.Engine.Progress = deliver.NewProgress(stderr, a.Log, 5*time.Second)
	res, err := a.SendNow(ctx, d, f.force)
	switch {
	case errors.Is(err, app.ErrNothingToSend):
		fmt.Fprintf(stdout, "%s: %v\n", d.Key, err)
		return 0
	case errors.Is(err, app.ErrNotApproved):
		fmt.Fprintf(stderr, "hpdigest: %s issue #%d: %v (approve it in the staff area, or use -force)\n", d.Key, res.Issue.Number, err)
		return 1
	}
	return sendSummary(a, d, res, err, stdout, stderr)
}

// sendSummary prints what a send did; the exit status is non-zero when a
// recipient failed or is still waiting for a retry.
func sendSummary(a *app.App, d digest.Digest, res app.SendResult, err error, stdout, stderr io.Writer) int {
	if err != nil && res.Issue == nil {
		return reportErr(stderr, err)
	}
	s := res.Summary
	fmt.Fprintf(stdout, "%s issue #%d: %d recipients: %d sent, %d failed, %d to retry, %d skipped (nothing for their themes or no longer subscribed)\n",
		d.Key, res.Issue.Number, s.Total, s.Sent, s.Failed, s.Retry, s.Skipped)
	if a.DryRun {
		fmt.Fprintf(stdout, "dry run: messages written to %s\n", a.Cfg().OutboxDir)
	}
	if err != nil {
		return reportErr(stderr, err)
	}
	if _, _, local, _ := d.LocalTime(); local && s.Pending > 0 {
		fmt.Fprintf(stdout, "%d wait for %s in their own time zone; the daemon sends them then\n", s.Pending, d.DeliverAtLocal)
		s.Pending = 0
	}
	if s.Failed > 0 || s.Retry > 0 || s.Pending > 0 {
		return 1
	}
	return 0
}

func resendFailed(ctx context.Context, a *app.App, f *flags, stdout, stderr io.Writer) int {
	d, err := pickDigest(a, f.digest)
	if err != nil {
		return reportErr(stderr, err)
	}
	a.Engine.Progress = deliver.NewProgress(stderr, a.Log, 5*time.Second)
	res, err := a.ResendFailed(ctx, d, f.resendFailed)
	return sendSummary(a, d, res, err, stdout, stderr)
}

func deliveryStatus(ctx context.Context, a *app.App, f *flags, stdout io.Writer) error {
	d, err := pickDigest(a, f.digest)
	if err != nil {
		return err
	}
	iss, err := a.Digests.IssueByNumber(ctx, d.Key, f.deliveryStatus)
	if err != nil {
		return fmt.Errorf("%s issue #%d: %w", d.Key, f.deliveryStatus, err)
	}
	s, err := a.Engine.Status(ctx, iss.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s issue #%d (%s): %d recipients: %d sent, %d failed, %d to retry, %d pending, %d skipped\n",
		d.Key, iss.Number, iss.Status, s.Total, s.Sent, s.Failed, s.Retry, s.Pending, s.Skipped)
	if !s.Folded.IsZero() {
		fmt.Fprintf(stdout, "its outbox was folded into these counts on %s (retention.outbox): the recipients are no longer listed\n", s.Folded.Format("2006-01-02"))
	}
	later, err := a.Engine.IssueOutcomes(ctx, []int64{iss.ID})
	if err != nil {
		return err
	}
	if o, ok := later[iss.ID]; ok {
		fmt.Fprintf(stdout, "reported since by mail: %d hard bounces, %d soft bounces, %d spam complaints, %d delayed\n",
			o.HardBounces, o.SoftBounces, o.Complaints, o.Delayed)
	}
	return nil
}

func fetchNow(ctx context.Context, a *app.App, stdout io.Writer) error {
	rep := a.FetchNow(ctx)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tNEW\tRESULT")
	for _, r := range rep.Feeds {
		result := "ok"
		switch {
		case r.Err != nil:
			result = r.Err.Error()
		case r.NotModified:
			result = "not modified"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", r.Name, len(r.NewItems), result)
	}
	tw.Flush()
	if n := len(rep.Failed()); n > 0 {
		return fmt.Errorf("%d of %d feeds failed", n, len(rep.Feeds))
	}
	return nil
}

func preview(ctx context.Context, a *app.App, f *flags, stdout io.Writer) error {
	d, err := pickDigest(a, f.digest)
	if err != nil {
		return err
	}
	iss, _, err := a.Assemble(ctx, d)
	if err != nil {
		return err
	}
	chosen := d.Themes
	if f.previewThemes != "" {
		chosen = splitList(f.previewThemes)
	}
	v, err := a.Renderer().Variant(a.RenderIssue(d, iss, chosen), f.lang, nil)
	if err != nil {
		return err
	}
	// The message a reader gets, addressed to an example reader; its links
	// are signed for no subscriber, so following them changes nothing.
	m := a.MessageFor(d, v, deliver.Recipient{Name: "Nguyễn Văn A", Email: "reader@example.org", Language: f.lang})
	if err := os.WriteFile(f.preview, []byte(m.HTML), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(f.preview+".txt", []byte(m.Text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s issue #%d (%s), %d items, subject %q\nwrote %s and %s.txt\n", d.Key, iss.Number, iss.Status, v.Items, v.Subject, f.preview, f.preview)
	return nil
}

func listFeeds(ctx context.Context, a *app.App, stdout io.Writer) error {
	health, err := a.Feeds.Health(ctx)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(a.Cfg().Timezone)
	if err != nil {
		loc = time.UTC
	}
	return feeds.WriteHealth(stdout, health, loc)
}

func runDaemon(ctx context.Context, a *app.App) error {
	a.SetSite((&site{a: a}).build)
	staffArea, err := staff.New(ctx, a, a.Cfg().Staff)
	if err != nil {
		return fmt.Errorf("staff area: %w", err)
	}
	a.OnReload(staffArea)
	ctx, cancel := context.WithCancel(ctx)
	waitInbound, err := a.StartInbound(ctx) // the SMTP listener and IMAP poller, when configured
	if err != nil {
		cancel()
		return err
	}
	defer waitInbound()
	defer cancel() // runs first: stops them when the daemon stops for any reason
	stopHangup := onHangup(ctx, a)
	defer stopHangup()
	err = a.Run(ctx, staffArea)
	staffArea.Wait() // sends started from the staff area drain too
	return err
}

// createStaff creates (or resets) a staff account; the password comes from
// HPDIGEST_STAFF_PASSWORD or the first line of standard input.
func createStaff(ctx context.Context, a *app.App, email, name string, stdin io.Reader, stdout io.Writer) error {
	pw, err := readPassword(stdin)
	if err != nil {
		return err
	}
	if err := staff.CreateAccount(ctx, a.DB, email, name, pw); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "staff account %s is ready: log in at %s/staff/\n", email, a.Cfg().HTTP.BaseURL)
	return nil
}

func readPassword(stdin io.Reader) (string, error) {
	if pw := os.Getenv("HPDIGEST_STAFF_PASSWORD"); pw != "" {
		return pw, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no password: set HPDIGEST_STAFF_PASSWORD or write it on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// evalThemes measures the theme rules (of the config with the phrases
// staff added, or the shipped defaults without one) on a labelled JSON
// Lines file. Low scores are not an error; bad input is.
func evalThemes(path, configPath string, stdout io.Writer) error {
	themes := theme.Defaults()
	if configPath != "" {
		cfg, err := config.Load(configPath)
		if err != nil {
			return err
		}
		if themes, err = app.Themes(cfg, nil); err != nil {
			return err
		}
	}
	c, err := theme.New(themes)
	if err != nil {
		return err
	}
	rep, err := theme.EvaluateFile(c, path)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	return nil
}

// exportLabels writes the staff's decisions about items as a labelled set
// that -eval-themes reads.
func exportLabels(ctx context.Context, a *app.App, path string, stdout io.Writer) error {
	items, err := a.Digests.LabelledItems(ctx, a.Cfg().ThemeKeys())
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := digest.WriteLabelled(f, items); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d labelled items to %s\n", len(items), path)
	return nil
}
