package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/haiphong/hpdigest/digest/deliver/inbound"
	"github.com/haiphong/hpdigest/subscribers"
)

// InboundProcessor parses and acts on mail that comes back to the list
// (bounces, complaints, auto-replies, unsubscribe requests): the SMTP
// listener, the IMAP poller and the -inbound-mail pipe all use it.
func (a *App) InboundProcessor() *inbound.Processor {
	return &inbound.Processor{
		Parser: &inbound.Parser{
			BounceLocalPart: a.Cfg.Inbound.BounceLocalPart,
			FindTokens:      subscribers.FindTokens,
		},
		Handler: inbound.HandlerFunc(a.handleInbound),
		Log:     a.Log,
	}
}

// handleInbound acts on one classified message. Unsubscribe requests and
// complaints unsubscribe the reader whose signed token they carry (a
// forged or foreign token changes nothing). Bounces and delays are logged
// by the processor; they are recorded on delivery rows and readers once
// messages carry a VERP envelope sender.
func (a *App) handleInbound(ctx context.Context, r *inbound.Report) error {
	var reason string
	switch r.Kind {
	case inbound.KindUnsubscribe:
		reason = subscribers.ReasonMailto
	case inbound.KindComplaint:
		reason = subscribers.ReasonComplaint
	default:
		return nil
	}
	sub, err := a.Subscribers.UnsubscribeByToken(ctx, a.Tokens, r.Tokens, reason)
	switch {
	case errors.Is(err, subscribers.ErrInvalidToken):
		return fmt.Errorf("%s from %q: %w", r.Kind, r.From, err)
	case err != nil:
		return inbound.Temporary(err)
	}
	a.Log.Info("unsubscribed by mail", "email", sub.Email, "kind", r.Kind, "reason", r.Reason)
	return nil
}

// StartInbound binds the SMTP listener and starts it and the IMAP poller,
// when configured; they run until ctx is cancelled. wait blocks until both
// have stopped. A listener that cannot bind fails here, at start-up.
func (a *App) StartInbound(ctx context.Context) (wait func(), err error) {
	var wg sync.WaitGroup
	cfg := a.Cfg.Inbound
	proc := a.InboundProcessor()
	if cfg.Listen != "" {
		l, err := inbound.NewListener(cfg, proc)
		if err != nil {
			return nil, err
		}
		ln, err := l.Listen()
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Serve(ctx, ln); err != nil {
				a.Log.Error("inbound listener stopped", "err", err)
			}
		}()
	}
	if cfg.IMAP.Host != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inbound.NewPoller(cfg.IMAP, proc, cfg.MaxMessageBytes).Run(ctx)
		}()
	}
	return wg.Wait, nil
}
