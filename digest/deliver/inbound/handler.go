package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Handler acts on a classified inbound message: it records a bounce on the
// delivery row and the reader, unsubscribes the reader of a complaint or
// an unsubscribe request, and so on.
//
// Handle returns nil when the message is dealt with (or deliberately
// ignored: a forged token, an unknown reader). It returns an error wrapped
// by Temporary when the message should be offered again later (the
// database is busy): the SMTP listener answers 451 so the MTA retries, the
// pipe exits 75 (EX_TEMPFAIL), the IMAP poller leaves the message for the
// next poll. Any other error is permanent: it is logged and the message is
// consumed, never bounced (a bounce of a bounce would only reach a forged
// or null sender).
//
// The Processor does not call Handle for KindAutoReply and KindOther: those
// are logged and dropped.
//
// The same message may be offered twice in rare cases (the process stops
// between handling a message and the mailbox recording it as processed):
// a handler that counts should ignore a Report whose InboundMessageID (or
// VERP token and original Message-ID) it has already recorded.
type Handler interface {
	Handle(ctx context.Context, r *Report) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, r *Report) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, r *Report) error { return f(ctx, r) }

// temporaryError marks an error worth retrying.
type temporaryError struct{ err error }

func (e temporaryError) Error() string { return e.err.Error() }
func (e temporaryError) Unwrap() error { return e.err }

// Temporary marks err as temporary: the message is offered again later.
// Temporary(nil) is nil.
func Temporary(err error) error {
	if err == nil {
		return nil
	}
	return temporaryError{err}
}

// IsTemporary reports whether err (or an error it wraps) was marked by
// Temporary.
func IsTemporary(err error) bool {
	var t temporaryError
	return errors.As(err, &t)
}

// Processor is what the three ways in share: parse, log, hand over.
type Processor struct {
	Parser  *Parser
	Handler Handler
	Log     *slog.Logger
}

// Process parses one message and hands it to the handler. It returns nil
// when the message is consumed (handled, ignored, unreadable, or refused
// permanently by the handler: all logged) and a Temporary error when it
// must be offered again later.
func (p *Processor) Process(ctx context.Context, data []byte, env Envelope) error {
	log := p.logger()
	rep, err := p.Parser.Parse(data, env)
	if err != nil {
		log.Warn("inbound mail: unreadable, dropped", "envelope_from", env.From, "envelope_to", env.To, "err", err)
		return nil
	}
	attrs := []any{"kind", rep.Kind, "reason", rep.Reason, "envelope_to", rep.EnvelopeTo, "from", rep.From, "subject", rep.Subject}
	if rep.MessageID != "" {
		attrs = append(attrs, "original_message_id", rep.MessageID)
	}
	for _, rc := range rep.Recipients {
		attrs = append(attrs, "recipient", fmt.Sprintf("%s %s %s %s", rc.Address, rc.Class, rc.Status, rc.Diagnostic))
	}
	if rep.Kind == KindAutoReply || rep.Kind == KindOther {
		log.Info("inbound mail: nothing to do", attrs...)
		return nil
	}
	if p.Handler == nil {
		log.Warn("inbound mail: no handler, dropped", attrs...)
		return nil
	}
	if err := p.Handler.Handle(ctx, rep); err != nil {
		if IsTemporary(err) {
			log.Warn("inbound mail: temporary failure, to be retried", append(attrs, "err", err)...)
			return err
		}
		log.Warn("inbound mail: not acted on", append(attrs, "err", err)...)
		return nil
	}
	log.Info("inbound mail handled", attrs...)
	return nil
}
