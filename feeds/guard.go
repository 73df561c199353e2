package feeds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Fetch errors of the address guard (test with errors.Is).
var (
	// ErrPrivateAddress: the fetch would have reached this machine or a
	// private network (directly, through DNS, or through a redirect).
	ErrPrivateAddress = errors.New("refused")
	// ErrInsecureRedirect: an https feed redirected to plain http.
	ErrInsecureRedirect = errors.New("refused a redirect from https to http")
)

// newClient is the HTTP client feeds are fetched with. guarded refuses to
// connect to loopback, private, link-local and other non-public addresses:
// the check runs on the address being dialled, after DNS resolution and
// for every redirect, so no name or redirect gets around it. Feeds marked
// allow_private (an intranet portal) use a client without the check; the
// two never share connections. Neither uses a proxy from the environment:
// the check must see the feed's own address.
func (p *Poller) newClient(guarded bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = p.cfg.PerHost
	tr.ResponseHeaderTimeout = p.cfg.Timeout
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if guarded {
		d.ControlContext = p.refusePrivate
	}
	tr.DialContext = d.DialContext
	return &http.Client{
		Transport: tr,
		Timeout:   p.cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= defaultRedirectLimit {
				return fmt.Errorf("%w (stopped after %d)", ErrTooManyRedirects, len(via))
			}
			if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w (to %s)", ErrInsecureRedirect, req.URL.Redacted())
			}
			return nil
		},
	}
}

// refusePrivate is the guarded dialer's Control function: it runs for each
// address the dialer is about to connect to.
func (p *Poller) refusePrivate(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot check the address %q", ErrPrivateAddress, address)
	}
	if p.treatAsPublic != nil && p.treatAsPublic(ap) {
		return nil
	}
	if why := privateReason(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s is %s (set allow_private = true on a feed of the office network)", ErrPrivateAddress, ap.Addr().Unmap(), why)
	}
	return nil
}

// nonPublic are the ranges no public feed lives in, besides those netip
// names (loopback, private, link-local, multicast, unspecified).
var nonPublic = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a reserved address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
}

// nat64 embeds IPv4 addresses in IPv6 (RFC 6052): the IPv4 one counts.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// privateReason says why addr is not a public internet address ("" if it
// is one).
func privateReason(addr netip.Addr) string {
	addr = addr.Unmap()
	if nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case addr.IsLoopback():
		return "a loopback address (this machine)"
	case addr.IsUnspecified():
		return "an unspecified address (this machine)"
	case addr.IsPrivate():
		return "a private network address"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "a link-local address"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, r := range nonPublic {
		if r.prefix.Contains(addr) {
			return r.why
		}
	}
	return ""
}

// clientFor is the client that fetches f.
func (p *Poller) clientFor(f feedRow) *http.Client {
	if f.AllowPrivate {
		return p.privateClient
	}
	return p.client
}
