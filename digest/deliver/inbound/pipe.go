package inbound

import (
	"context"
	"io"
	"log/slog"
)

// Exit codes of the pipe command for an MTA (sysexits.h).
const (
	// ExitHandled: the message is consumed, whatever it was (handled,
	// ignored, not for us, a forged token): the MTA must not bounce it, or
	// forged senders would get backscatter.
	ExitHandled = 0
	// ExitTempFail (EX_TEMPFAIL): keep the message and try again later.
	ExitTempFail = 75
)

// Pipe reads one message from r (an MTA's pipe to the command) and
// processes it; it returns the exit code the command should end with.
// Reading stops at maxBytes (the rest is discarded): the reports and
// headers that matter come first.
func (p *Processor) Pipe(ctx context.Context, r io.Reader, env Envelope, maxBytes int64) int {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes))
	if err != nil {
		p.logger().Warn("inbound mail: reading standard input", "err", err)
		return ExitTempFail
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		p.logger().Warn("inbound mail: reading standard input", "err", err)
	}
	if err := p.Process(ctx, data, env); err != nil {
		return ExitTempFail
	}
	return ExitHandled
}

func (p *Processor) logger() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}
