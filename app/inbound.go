package app

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/deliver/inbound"
	"github.com/haiphong/hpdigest/subscribers"
)

// InboundProcessor parses and acts on mail that comes back to the list
// (bounces, complaints, auto-replies, unsubscribe requests): the SMTP
// listener, the IMAP poller and the -inbound-mail pipe all use it.
func (a *App) InboundProcessor() *inbound.Processor { return a.inboundProcessor(a.Cfg().Inbound) }

func (a *App) inboundProcessor(cfg inbound.Config) *inbound.Processor {
	return &inbound.Processor{
		Parser: &inbound.Parser{
			BounceLocalPart: cfg.BounceLocalPart,
			FindTokens:      subscribers.FindTokens,
		},
		Handler: inbound.HandlerFunc(a.handleInbound),
		Log:     a.Log,
	}
}

// handleInbound acts on one classified message. Unsubscribe requests
// unsubscribe the reader whose signed token they carry; bounces, delays
// and complaints are recorded on the delivery they are about and on its
// reader (see recordBounce and recordComplaint). A forged or foreign token
// changes nothing.
func (a *App) handleInbound(ctx context.Context, r *inbound.Report) error {
	switch r.Kind {
	case inbound.KindUnsubscribe:
		sub, err := a.Subscribers.UnsubscribeByToken(ctx, a.Tokens, r.Tokens, subscribers.ReasonMailto)
		switch {
		case errors.Is(err, subscribers.ErrInvalidToken):
			return fmt.Errorf("%s from %q: %w", r.Kind, r.From, err)
		case err != nil:
			return inbound.Temporary(err)
		}
		a.Log.Info("unsubscribed by mail", "email", sub.Email, "kind", r.Kind, "reason", r.Reason)
		return nil
	case inbound.KindComplaint:
		return a.recordComplaint(ctx, r)
	case inbound.KindBounce, inbound.KindDelay:
		return a.recordBounce(ctx, r)
	}
	return nil
}

// reportID identifies an inbound message, so that one offered twice (an
// IMAP mailbox after a crash, an MTA retrying after a 451) counts once.
func reportID(r *inbound.Report) string {
	if r.InboundMessageID != "" {
		return r.InboundMessageID
	}
	return "sha256:" + r.Fingerprint
}

// recordBounce records a bounce or delay report. Its delivery is found by
// the VERP token of the address it came back to, else by the Message-ID
// of the returned original, else (neither given) by the failed address:
// that reader's newest delivery. A token or Message-ID that does not
// match what was sent, or a report naming an address other than the
// delivery's, changes nothing. A hard bounce then counts toward
// bounce_limit, a soft one toward soft_bounce_limit; a delay is only
// noted on the delivery.
func (a *App) recordBounce(ctx context.Context, r *inbound.Report) error {
	d, foundBy, err := a.Engine.FindDelivery(ctx, r.VERPToken, r.MessageID)
	var rc inbound.Recipient
	switch {
	case err == nil && d.Email == "":
		a.Log.Info("bounce for a forgotten reader: nothing to record", "issue", d.IssueID, "found_by", foundBy)
		return nil
	case err == nil:
		var ok bool
		if rc, ok = reportedRecipient(r.Recipients, d.Email); !ok {
			return fmt.Errorf("%s for issue %d to subscriber %d (found by %s) names %s, not its address: nothing recorded",
				r.Kind, d.IssueID, d.SubscriberID, foundBy, recipientList(r.Recipients))
		}
	case errors.Is(err, deliver.ErrNoDelivery) && r.VERPToken == "":
		if d, rc, err = a.deliveryByRecipient(ctx, r.Recipients); err != nil {
			return err
		}
		foundBy = deliver.FoundByRecipient
	case errors.Is(err, deliver.ErrForged), errors.Is(err, deliver.ErrNoDelivery):
		return fmt.Errorf("%s: %w: nothing recorded", r.Kind, err)
	default:
		return inbound.Temporary(err)
	}
	o := deliver.Outcome{Status: rc.Status, Reason: rc.Diagnostic, ReportingMTA: firstNonEmpty(rc.ReportingMTA, r.ReportingMTA),
		RemoteMTA: rc.RemoteMTA, FoundBy: foundBy, ReportID: reportID(r)}
	var event string
	switch rc.Class {
	case inbound.Hard:
		o.Kind, event = deliver.OutcomeHardBounce, subscribers.EventBounce
	case inbound.Soft:
		o.Kind, event = deliver.OutcomeSoftBounce, subscribers.EventSoftBounce
	case inbound.Delayed:
		o.Kind = deliver.OutcomeDelayed
	default:
		return nil
	}
	if _, err := a.Engine.RecordOutcome(ctx, d, o); err != nil {
		return inbound.Temporary(err)
	}
	attrs := []any{"email", d.Email, "issue", d.IssueID, "class", rc.Class, "status", rc.Status, "reporting_mta", o.ReportingMTA, "found_by", foundBy}
	if event == "" {
		a.Log.Info("delivery delayed", attrs...)
		return nil
	}
	res, err := a.Subscribers.RecordReport(ctx, d.SubscriberID, subscribers.Report{Kind: event, Ref: d.Ref(),
		Status: rc.Status, Detail: rc.Diagnostic, ReportingMTA: o.ReportingMTA})
	switch {
	case errors.Is(err, subscribers.ErrNotFound):
		return nil // forgotten since
	case err != nil:
		return inbound.Temporary(err)
	}
	a.Log.Info("bounce recorded", append(attrs, "count", res.Count, "duplicate", res.Duplicate, "reader_status", res.Status)...)
	return nil
}

// reportedRecipient picks the failure a report gives for email (as the
// final or the original recipient); a report that names no address at
// all (some bounce texts) is taken to be about the delivery it came back
// for.
func reportedRecipient(rs []inbound.Recipient, email string) (inbound.Recipient, bool) {
	for _, rc := range rs {
		if strings.EqualFold(rc.Address, email) || strings.EqualFold(rc.OriginalAddress, email) {
			return rc, true
		}
	}
	if len(rs) == 1 && rs[0].Address == "" {
		return rs[0], true
	}
	return inbound.Recipient{}, false
}

func recipientList(rs []inbound.Recipient) string {
	var out []string
	for _, rc := range rs {
		out = append(out, rc.Address)
	}
	return strings.Join(out, ", ")
}

// deliveryByRecipient finds the newest delivery to a failed address of a
// report that gives neither a VERP token nor a Message-ID of ours.
func (a *App) deliveryByRecipient(ctx context.Context, rs []inbound.Recipient) (deliver.Delivery, inbound.Recipient, error) {
	for _, rc := range rs {
		if rc.Address == "" || rc.Class == inbound.Delivered {
			continue
		}
		sub, err := a.Subscribers.ByEmail(ctx, rc.Address)
		if errors.Is(err, subscribers.ErrNotFound) {
			continue
		}
		if err != nil {
			return deliver.Delivery{}, rc, fmt.Errorf("bounce for %q: %w", rc.Address, err)
		}
		d, err := a.Engine.NewestSent(ctx, sub.ID)
		if errors.Is(err, deliver.ErrNoDelivery) {
			continue
		}
		if err != nil {
			return d, rc, inbound.Temporary(err)
		}
		return d, rc, nil
	}
	return deliver.Delivery{}, inbound.Recipient{}, fmt.Errorf("bounce for %s: no reader was sent mail at that address: nothing recorded", recipientList(rs))
}

// recordComplaint records a spam complaint on the delivery it is about
// (by VERP token or Message-ID of the returned original) and unsubscribes
// its reader; without either, the signed unsubscribe token of the
// returned original names the reader (and their newest delivery). Tokens
// that disagree, or none that verifies, change nothing.
func (a *App) recordComplaint(ctx context.Context, r *inbound.Report) error {
	d, foundBy, err := a.Engine.FindDelivery(ctx, r.VERPToken, r.MessageID)
	haveRow := err == nil
	switch {
	case err == nil, errors.Is(err, deliver.ErrNoDelivery) && r.VERPToken == "":
	case errors.Is(err, deliver.ErrForged), errors.Is(err, deliver.ErrNoDelivery):
		return fmt.Errorf("complaint: %w: nothing recorded", err)
	default:
		return inbound.Temporary(err)
	}
	var byToken []int64
	for _, tok := range r.Tokens {
		if c, err := a.Tokens.Check(tok, subscribers.PurposeUnsubscribe); err == nil {
			byToken = append(byToken, c.SubscriberID)
		}
	}
	switch {
	case haveRow && len(byToken) > 0 && !slices.Contains(byToken, d.SubscriberID):
		return fmt.Errorf("complaint: the unsubscribe token names another reader than issue %d's delivery to subscriber %d: nothing recorded", d.IssueID, d.SubscriberID)
	case !haveRow && len(byToken) == 0:
		return fmt.Errorf("complaint from %q: %w: no VERP token, Message-ID or unsubscribe token of ours", r.From, subscribers.ErrInvalidToken)
	case !haveRow:
		d = deliver.Delivery{SubscriberID: byToken[0]}
		newest, err := a.Engine.NewestSent(ctx, byToken[0])
		switch {
		case err == nil:
			d, haveRow = newest, true
		case !errors.Is(err, deliver.ErrNoDelivery):
			return inbound.Temporary(err)
		}
		foundBy = "unsubscribe token"
	}
	mta := r.ReportingMTA
	if mta == "" && r.Complaint != nil {
		mta = r.Complaint.UserAgent
	}
	ref := "report " + reportID(r)
	if haveRow {
		ref = d.Ref()
		o := deliver.Outcome{Kind: deliver.OutcomeComplaint, Reason: r.Reason, ReportingMTA: mta, FoundBy: foundBy, ReportID: reportID(r)}
		if _, err := a.Engine.RecordOutcome(ctx, d, o); err != nil {
			return inbound.Temporary(err)
		}
	}
	res, err := a.Subscribers.RecordReport(ctx, d.SubscriberID, subscribers.Report{Kind: subscribers.EventComplained, Ref: ref,
		Detail: "complaint (" + r.Reason + ")", ReportingMTA: mta})
	switch {
	case errors.Is(err, subscribers.ErrNotFound):
		return nil
	case err != nil:
		return inbound.Temporary(err)
	}
	a.Log.Info("spam complaint recorded", "subscriber", d.SubscriberID, "issue", d.IssueID, "reason", r.Reason, "found_by", foundBy,
		"duplicate", res.Duplicate, "reader_status", res.Status)
	return nil
}

// StartInbound binds the SMTP listener and starts it and the IMAP poller,
// when configured; they run until ctx is cancelled. wait blocks until both
// have stopped. A listener that cannot bind fails here, at start-up. A
// reload that changes [inbound] restarts both with the new settings, the
// listener on the socket bound here (inbound.listen needs a restart).
func (a *App) StartInbound(ctx context.Context) (wait func(), err error) {
	cfg := a.Cfg().Inbound
	r := &inboundRunner{a: a, ctx: ctx, cfg: cfg}
	proc := a.inboundProcessor(cfg)
	if cfg.Listen != "" {
		l, err := inbound.NewListener(cfg, proc)
		if err != nil {
			return nil, err
		}
		ln, err := l.Listen()
		if err != nil {
			return nil, err
		}
		r.socket = newSharedListener(ln)
		go func() {
			<-ctx.Done()
			r.socket.Close()
		}()
		r.start(cfg, proc, l)
	} else {
		r.start(cfg, proc, nil)
	}
	a.reload.mu.Lock()
	a.reload.inbound = r
	a.reload.mu.Unlock()
	return r.wg.Wait, nil
}

// inboundRunner runs the inbound SMTP listener and IMAP poller; a reload
// replaces them (a generation) with ones of the new settings.
type inboundRunner struct {
	a      *App
	ctx    context.Context // the daemon's
	socket *sharedListener // nil without a listener
	cfg    inbound.Config  // of the running generation
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// start runs a generation: the listener l (nil: none; never without the
// shared socket) on the shared socket and the IMAP poller of cfg, both
// handing messages to proc, built from cfg. The previous generation, if
// any, is then stopped: a connection it is serving gets a few seconds to
// finish, and a message cut short is answered 451, which MTAs retry.
func (r *inboundRunner) start(cfg inbound.Config, proc *inbound.Processor, l *inbound.Listener) {
	ctx, stop := context.WithCancel(r.ctx)
	if l != nil {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := l.Serve(ctx, r.socket.Share()); err != nil && ctx.Err() == nil {
				r.a.Log.Error("inbound listener stopped", "err", err)
			}
		}()
	}
	if cfg.IMAP.Host != "" {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			inbound.NewPoller(cfg.IMAP, proc, cfg.MaxMessageBytes).Run(ctx)
		}()
	}
	if r.stop != nil {
		r.stop()
	}
	r.cfg, r.stop = cfg, stop
}

// prepareInbound checks the [inbound] section of next and returns how to
// apply it, or nil when there is nothing to do (unchanged, or outside the
// daemon). The caller holds a.reload.mu.
func (a *App) prepareInbound(next *config.Config) (func(), error) {
	r := a.reload.inbound
	if r == nil || reflect.DeepEqual(r.cfg, next.Inbound) {
		return nil, nil
	}
	cfg := next.Inbound
	proc := a.inboundProcessor(cfg)
	var l *inbound.Listener
	if r.socket != nil {
		var err error
		if l, err = inbound.NewListener(cfg, proc); err != nil {
			return nil, next.Explain("inbound", err)
		}
	}
	return func() {
		r.start(cfg, proc, l)
		a.Log.Info("reload: inbound mail restarted with the new settings")
	}, nil
}
