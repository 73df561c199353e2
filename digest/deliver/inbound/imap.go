package inbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// fetchBatch is how many messages one FETCH asks for.
const fetchBatch = 20

// Poller reads a hosted mailbox over IMAP: each message the bounce and
// unsubscribe addresses received is processed once, then moved to
// MoveTo or marked \Seen plus Keyword, right after it was handled, so a
// restart never processes it again. A message whose handling failed
// temporarily stays where it is, unmarked, for the next poll (and the poll
// stops there: the handler's trouble is likely to last a while).
type Poller struct {
	cfg      IMAPConfig
	proc     *Processor
	maxBytes int64
}

// NewPoller prepares a poller; messages are read up to maxBytes (the
// reports and headers that matter come first).
func NewPoller(cfg IMAPConfig, proc *Processor, maxBytes int64) *Poller {
	return &Poller{cfg: cfg, proc: proc, maxBytes: maxBytes}
}

// PollResult counts what one poll did.
type PollResult struct {
	Processed int // handled (or ignored) and moved or marked
	Deferred  int // left in place after a temporary failure
}

// Run polls at once and then every PollInterval until ctx is cancelled;
// failures are logged and the next poll tries again.
func (p *Poller) Run(ctx context.Context) {
	log := p.proc.logger()
	log.Info("inbound IMAP poller", "server", p.cfg.address(), "user", p.cfg.Username, "folder", p.cfg.Folder,
		"interval", p.cfg.PollInterval, "processed", p.cfg.Processed)
	t := time.NewTicker(p.cfg.PollInterval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, max(p.cfg.PollInterval, 5*time.Minute))
		res, err := p.Poll(pctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("inbound IMAP poll failed", "server", p.cfg.address(), "err", err, "processed", res.Processed)
		case res.Processed > 0 || res.Deferred > 0:
			log.Info("inbound IMAP poll", "processed", res.Processed, "deferred", res.Deferred)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll connects, processes every message not yet processed, and logs out.
func (p *Poller) Poll(ctx context.Context) (PollResult, error) {
	var res PollResult
	c, err := p.dial()
	if err != nil {
		return res, fmt.Errorf("imap %s: %w", p.cfg.address(), err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() }) // a cancelled poll stops at once
	defer stop()
	defer c.Close()
	if err := c.Login(p.cfg.Username, p.cfg.Password).Wait(); err != nil {
		return res, fmt.Errorf("imap login as %s: %w", p.cfg.Username, err)
	}
	if p.cfg.Processed == "move" {
		var ie *imap.Error
		if err := c.Create(p.cfg.MoveTo, nil).Wait(); err != nil && !(errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists) {
			return res, fmt.Errorf("imap create %q: %w", p.cfg.MoveTo, err)
		}
	}
	sel, err := c.Select(p.cfg.Folder, nil).Wait()
	if err != nil {
		return res, fmt.Errorf("imap select %q: %w", p.cfg.Folder, err)
	}
	criteria := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}
	if p.cfg.Processed == "flag" {
		kw := imap.Flag(p.cfg.Keyword)
		if !slices.Contains(sel.PermanentFlags, imap.FlagWildcard) && !slices.Contains(sel.PermanentFlags, kw) {
			return res, fmt.Errorf("imap %q: the server does not keep the keyword %s (use processed = \"move\")", p.cfg.Folder, kw)
		}
		criteria.NotFlag = append(criteria.NotFlag, kw)
	}
	found, err := c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return res, fmt.Errorf("imap search: %w", err)
	}
	uids := found.AllUIDs()
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: p.maxBytes}}
	for start := 0; start < len(uids); start += fetchBatch {
		batch := uids[start:min(start+fetchBatch, len(uids))]
		msgs, err := c.Fetch(imap.UIDSetNum(batch...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return res, fmt.Errorf("imap fetch: %w", err)
		}
		for _, m := range msgs {
			if err := p.proc.Process(ctx, m.FindBodySection(section), Envelope{}); err != nil {
				res.Deferred++
				return res, nil
			}
			if err := p.markProcessed(c, m.UID); err != nil {
				return res, err
			}
			res.Processed++
		}
	}
	if err := c.Logout().Wait(); err != nil && ctx.Err() == nil {
		return res, fmt.Errorf("imap logout: %w", err)
	}
	return res, nil
}

// markProcessed moves the message away or flags it, so no later poll
// takes it again.
func (p *Poller) markProcessed(c *imapclient.Client, uid imap.UID) error {
	set := imap.UIDSetNum(uid)
	if p.cfg.Processed == "move" {
		if _, err := c.Move(set, p.cfg.MoveTo).Wait(); err != nil {
			return fmt.Errorf("imap move to %q: %w", p.cfg.MoveTo, err)
		}
		return nil
	}
	flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, imap.Flag(p.cfg.Keyword)}}
	if err := c.Store(set, flags, nil).Close(); err != nil {
		return fmt.Errorf("imap store %s: %w", p.cfg.Keyword, err)
	}
	return nil
}

func (p *Poller) dial() (*imapclient.Client, error) {
	opts := &imapclient.Options{Dialer: &net.Dialer{Timeout: 30 * time.Second}}
	if p.cfg.TLS != "none" {
		tc := &tls.Config{ServerName: p.cfg.Host, MinVersion: tls.VersionTLS12}
		if p.cfg.TLSCAFile != "" {
			pem, err := os.ReadFile(p.cfg.TLSCAFile)
			if err != nil {
				return nil, err
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate", p.cfg.TLSCAFile)
			}
		}
		opts.TLSConfig = tc
	}
	var (
		c   *imapclient.Client
		err error
	)
	switch p.cfg.TLS {
	case "tls":
		c, err = imapclient.DialTLS(p.cfg.address(), opts)
	case "starttls":
		c, err = imapclient.DialStartTLS(p.cfg.address(), opts)
	default:
		c, err = imapclient.DialInsecure(p.cfg.address(), opts)
	}
	if err != nil {
		return nil, err
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
