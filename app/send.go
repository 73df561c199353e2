package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/subscribers"
)

// ErrNotApproved is returned when a digest requires approval and its issue
// is still a draft.
var ErrNotApproved = errors.New("the issue is a draft and the digest requires staff approval before it is sent")

// ErrNothingToSend is returned when the digest has no new items.
var ErrNothingToSend = errors.New("no new items since the last issue: nothing to send")

// SendResult says what a send did.
type SendResult struct {
	Issue   *digest.Issue
	Summary deliver.Summary
}

// SendNow fetches the feeds (those not backing off after errors), brings
// the digest's issue up to date and sends it; an issue whose send was
// interrupted is resumed instead. A digest that requires approval sends
// only an approved issue unless force is set. It waits while another send
// runs in this process, and decides what to send once that one is done.
func (a *App) SendNow(ctx context.Context, d digest.Digest, force bool) (SendResult, error) {
	release, _, err := a.gate.claim(ctx, d.Key, true)
	if err != nil {
		return SendResult{}, err
	}
	defer release()
	return a.sendNow(ctx, d, force)
}

// sendNow is SendNow for a caller that holds the gate.
func (a *App) sendNow(ctx context.Context, d digest.Digest, force bool) (SendResult, error) {
	if open, err := a.Digests.OpenIssueHeader(ctx, d.Key); err == nil && open.Status == digest.StatusSending {
		a.Log.Info("resuming interrupted send", "digest", d.Key, "issue", open.Number)
		return a.sendIssue(ctx, d, open)
	}
	a.fetchBeforeSend(ctx)
	iss, added, err := a.Assemble(ctx, d)
	if err != nil {
		return SendResult{}, err
	}
	a.Log.Info("issue assembled", "digest", d.Key, "issue", iss.Number, "new_items", added, "included", len(iss.Included()))
	if iss.Status == digest.StatusDraft && d.RequireApproval && !force {
		return SendResult{Issue: iss}, ErrNotApproved
	}
	if len(iss.Included()) == 0 {
		return SendResult{Issue: iss}, ErrNothingToSend
	}
	return a.sendIssue(ctx, d, iss)
}

// fetchBeforeSend fetches the feeds for the freshest issue, leaving alone
// the feeds that back off after errors. The poller logs each failure.
func (a *App) fetchBeforeSend(ctx context.Context) {
	rep := a.Poller.FetchHealthy(ctx)
	a.classifyReport(ctx, rep)
}

// SendIssue sends (or resumes) one issue to every confirmed subscriber and
// marks it sent once no recipient is left pending or waiting for a retry.
// It waits while another send runs, then reads the issue again: one sent
// meanwhile (by the resume check) is not sent again.
func (a *App) SendIssue(ctx context.Context, d digest.Digest, iss *digest.Issue) (SendResult, error) {
	release, _, err := a.gate.claim(ctx, d.Key, true)
	if err != nil {
		return SendResult{Issue: iss}, err
	}
	defer release()
	fresh, err := a.Digests.Issue(ctx, iss.ID)
	if err != nil {
		return SendResult{Issue: iss}, err
	}
	if fresh.Status == digest.StatusSent {
		sum, err := a.Engine.Status(ctx, fresh.ID)
		return SendResult{Issue: fresh, Summary: sum}, err
	}
	return a.sendIssue(ctx, d, fresh)
}

// sendIssue sends one issue; the caller holds the gate.
func (a *App) sendIssue(ctx context.Context, d digest.Digest, iss *digest.Issue) (SendResult, error) {
	if iss.Status == digest.StatusSent {
		return SendResult{Issue: iss}, fmt.Errorf("issue %d of %s was already sent on %s", iss.Number, d.Key, iss.SentAt.Format(time.RFC3339))
	}
	if err := a.Digests.MarkSending(ctx, iss.ID); err != nil {
		return SendResult{Issue: iss}, err
	}
	fresh, err := a.Digests.Issue(ctx, iss.ID)
	if err != nil {
		return SendResult{Issue: iss}, err
	}
	iss = fresh
	// Readers who unsubscribe, pause or bounce while the send runs are
	// checked right before each message leaves (see subscribers.StopWatch
	// for the window that remains).
	stops, err := a.Subscribers.WatchStops(ctx, a.clock)
	if err != nil {
		return SendResult{Issue: iss}, err
	}
	defer stops.Close()
	job := deliver.Job{
		IssueID:    iss.ID,
		Recipients: a.recipients,
		Compose:    a.composer(d, iss),
		OnPermanentFailure: func(ctx context.Context, id int64, reason string) error {
			return a.Subscribers.RecordBounce(ctx, id, reason)
		},
		Stopped: stops.Stopped,
	}
	if hour, minute, ok, _ := d.LocalTime(); ok {
		job.Local = &deliver.LocalDelivery{Hour: hour, Minute: minute, DefaultTimezone: a.Cfg().Subscribers.DefaultTimezone}
	}
	sum, err := a.Engine.Send(ctx, job)
	res := SendResult{Issue: iss, Summary: sum}
	if err != nil {
		return res, err
	}
	if sum.Done {
		if err := a.Digests.MarkSent(ctx, iss.ID); err != nil {
			return res, err
		}
		res.Issue.Status = digest.StatusSent
	}
	return res, nil
}

// ResendFailed sends issue number of the digest again to the recipients it
// failed for permanently, except bounced addresses (5xx on RCPT): for a
// relay that refused mail by mistake. Recipients who got it are untouched.
func (a *App) ResendFailed(ctx context.Context, d digest.Digest, number int) (SendResult, error) {
	release, _, err := a.gate.claim(ctx, d.Key, true)
	if err != nil {
		return SendResult{}, err
	}
	defer release()
	iss, err := a.Digests.IssueByNumber(ctx, d.Key, number)
	if err != nil {
		return SendResult{}, fmt.Errorf("%s issue #%d: %w", d.Key, number, err)
	}
	n, err := a.Engine.RequeueFailed(ctx, iss.ID, false)
	if err != nil {
		return SendResult{Issue: iss}, err
	}
	if n == 0 {
		sum, err := a.Engine.Status(ctx, iss.ID)
		return SendResult{Issue: iss, Summary: sum}, err
	}
	a.Log.Info("resending to failed recipients", "digest", d.Key, "issue", number, "recipients", n)
	if err := a.Digests.Reopen(ctx, iss.ID); err != nil {
		return SendResult{Issue: iss}, err
	}
	iss.Status = digest.StatusSending
	return a.sendIssue(ctx, d, iss)
}

func (a *App) recipients(ctx context.Context, afterID int64, limit int) ([]deliver.Recipient, error) {
	subs, err := a.Subscribers.ConfirmedAfter(ctx, afterID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]deliver.Recipient, len(subs))
	for i, s := range subs {
		out[i] = deliver.Recipient{SubscriberID: s.ID, Email: s.Email, Name: s.Name, Language: s.Language, Themes: s.Themes, Timezone: s.Timezone}
	}
	return out, nil
}

// composer renders each variant (language × theme selection) once, encodes
// its body once for sending, and personalises it per recipient: only the
// recipient's values (greeting, address, links) are encoded per message.
func (a *App) composer(d digest.Digest, iss *digest.Issue) func(context.Context, deliver.Recipient) (*deliver.Message, error) {
	type mailVariant struct {
		v    *render.Variant
		body *deliver.Body
	}
	var mu sync.Mutex
	variants := map[string]*mailVariant{}
	renderer := a.Renderer() // the templates the send started with, to its end
	return func(ctx context.Context, r deliver.Recipient) (*deliver.Message, error) {
		lang := r.Language
		if lang != "vi" && lang != "en" {
			lang = "vi"
		}
		selected := selection(d, r.Themes)
		key := lang + "|" + strings.Join(selected, ",")
		mu.Lock()
		mv, ok := variants[key]
		if !ok {
			v, err := renderer.Variant(a.RenderIssue(d, iss, selected), lang, nil)
			if err != nil {
				mu.Unlock()
				return nil, fmt.Errorf("render %s: %w", key, err)
			}
			text, html := v.Parts()
			body, err := deliver.NewBody(deliver.BodyPart(text), deliver.BodyPart(html))
			if err != nil {
				mu.Unlock()
				return nil, fmt.Errorf("render %s: %w", key, err)
			}
			mv = &mailVariant{v, body}
			variants[key] = mv
		}
		mu.Unlock()
		if mv.v.Items == 0 {
			return nil, nil // nothing in this issue for their themes
		}
		m, rc := a.listMessage(d, mv.v, r)
		m.Body, m.Values = mv.body, mv.v.Values(rc)
		return m, nil
	}
}

// MessageFor personalises a rendered variant for one recipient and adds the
// list headers: the message the daemon sends, as a reader reads it (the
// staff preview and test copy use it; subscriber id 0 gets links that
// match no reader). The daemon encodes the variant once instead (see
// composer); the two decode to the same message.
func (a *App) MessageFor(d digest.Digest, v *render.Variant, r deliver.Recipient) *deliver.Message {
	m, rc := a.listMessage(d, v, r)
	m.HTML, m.Text = v.Personalise(rc)
	return m
}

// listMessage is the message of variant v for r without its body (sender,
// recipient, subject, list headers), and the recipient's values for it.
func (a *App) listMessage(d digest.Digest, v *render.Variant, r deliver.Recipient) (*deliver.Message, render.Recipient) {
	cfg := a.Cfg()
	base, sender := cfg.HTTP.BaseURL, cfg.Sender
	unsubToken := a.Tokens.Sign(subscribers.PurposeUnsubscribe, r.SubscriberID)
	unsubURL := base + "/unsubscribe/" + unsubToken
	rc := render.Recipient{
		Name:           r.Name,
		Email:          r.Email,
		UnsubscribeURL: unsubURL,
		PreferencesURL: base + "/preferences/" + a.Tokens.Sign(subscribers.PurposePreferences, r.SubscriberID),
	}
	// RFC 6068: a space in a mailto query is %20, not "+".
	mailto := "mailto:" + sender.UnsubscribeAddress + "?subject=" + strings.ReplaceAll(url.QueryEscape("unsubscribe "+unsubToken), "+", "%20")
	return &deliver.Message{
		FromName:        sender.Name,
		FromAddress:     sender.Address,
		ReplyTo:         sender.ReplyTo,
		To:              r.Email,
		ToName:          r.Name,
		Subject:         v.Subject,
		MessageIDDomain: sender.Domain(),
		Headers: map[string]string{
			"List-Id":               d.TitleEN + " <" + d.Key + "." + sender.Domain() + ">",
			"List-Unsubscribe":      "<" + unsubURL + ">, <" + mailto + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"List-Archive":          "<" + base + "/issues>",
		},
	}, rc
}

// selection returns the digest's themes a reader chose (all of them when the
// reader chose none), in the digest's order.
func selection(d digest.Digest, chosen []string) []string {
	if len(chosen) == 0 {
		return d.Themes
	}
	var out []string
	for _, t := range d.Themes {
		if slices.Contains(chosen, t) {
			out = append(out, t)
		}
	}
	return out
}

// RenderIssue turns an issue into what the templates show for a reader who
// chose themes: included items only, each in its own section if chosen, else
// in the first chosen theme it also carries; items of no chosen theme left out.
func (a *App) RenderIssue(d digest.Digest, iss *digest.Issue, chosen []string) *render.Issue {
	cfg := a.Cfg()
	loc := d.Location()
	date := iss.SendingAt
	if date.IsZero() {
		date = a.clock.Now()
	}
	out := &render.Issue{
		ID:        iss.ID,
		Number:    iss.Number,
		DigestKey: d.Key,
		Title:     render.Localized{Default: d.TitleEN, VI: d.TitleVI, EN: d.TitleEN},
		Date:      date.In(loc),
		Location:  loc,
		Note:      render.Localized{Default: firstNonEmpty(iss.NoteVI, iss.NoteEN), VI: iss.NoteVI, EN: iss.NoteEN},
		WebURL:    cfg.HTTP.BaseURL + "/issues/" + fmt.Sprint(iss.ID),
		Sender:    render.Sender{Name: cfg.Sender.Name, PostalAddress: cfg.Sender.PostalAddress, WebsiteURL: cfg.Sender.WebsiteURL},
		// Each reader gets the version of a story in their language.
		OtherLanguage: d.OtherLanguage,
	}
	wanted := map[string]bool{}
	for _, t := range chosen {
		wanted[t] = true
	}
	bySection := map[string][]render.Item{}
	for _, s := range iss.Sections(d.Themes) {
		for _, it := range s.Items {
			if !it.Included {
				continue
			}
			section := s.Theme
			if !wanted[section] {
				section = ""
				for _, t := range it.Class.Themes {
					if wanted[t] {
						section = t
						break
					}
				}
			}
			if section == "" {
				continue
			}
			bySection[section] = append(bySection[section], renderItem(it))
		}
	}
	for _, key := range chosen {
		if items := bySection[key]; len(items) > 0 {
			out.Sections = append(out.Sections, render.Section{Theme: a.themeByKey(key), Items: items})
		}
	}
	return out
}

func renderItem(it digest.IssueItem) render.Item {
	out := render.Item{
		Title:       render.Localized{Default: it.Item.Title, VI: it.TitleVI, EN: it.TitleEN},
		Summary:     render.Localized{Default: it.Item.SummaryText, VI: it.SummaryVI, EN: it.SummaryEN},
		SummaryHTML: it.Item.SummaryHTML,
		URL:         it.Item.URL,
		Source:      it.Item.FeedName,
		Language:    it.Item.Language,
		Published:   it.Item.Published(),
		ImageURL:    it.Item.ImageURL,
	}
	for _, v := range it.Versions {
		out.Versions = append(out.Versions, render.Version{
			Language: v.Item.Language, Title: v.Item.Title, Summary: v.Item.SummaryText, SummaryHTML: v.Item.SummaryHTML,
			URL: v.Item.URL, Source: v.Item.FeedName, Published: v.Item.Published(), ImageURL: v.Item.ImageURL,
		})
	}
	return out
}

// otherTheme names the section of items that match no theme.
var otherTheme = theme.Theme{Key: theme.Other, NameVI: "Tin khác", NameEN: "Other news"}

func (a *App) themeByKey(key string) theme.Theme {
	for _, t := range a.Classifier.Themes() {
		if t.Key == key {
			return t
		}
	}
	if key == theme.Other {
		return otherTheme
	}
	return theme.Theme{Key: key}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
