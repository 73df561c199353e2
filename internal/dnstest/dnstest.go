// Package dnstest runs a real authoritative DNS server (miekg/dns)
// in-process on loopback, UDP and TCP, for tests: it serves the records it
// is given in zone-file syntax and answers NXDOMAIN for any other name.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a running DNS server.
type Server struct {
	Addr string // host:port, for a resolver

	mu      sync.Mutex
	records map[string][]dns.RR // by lower-case FQDN
}

// Start serves records (zone-file lines, e.g.
// `example.org. 300 IN TXT "v=spf1 -all"`) until the test ends.
func Start(tb testing.TB, records ...string) *Server {
	tb.Helper()
	s := &Server{records: map[string][]dns.RR{}}
	for _, r := range records {
		s.Add(tb, r)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = pc.LocalAddr().String()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		tb.Fatal(err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		tb.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

// Add serves one more record.
func (s *Server) Add(tb testing.TB, record string) {
	tb.Helper()
	rr, err := dns.NewRR(record)
	if err != nil || rr == nil {
		tb.Fatalf("dnstest: %q: %v", record, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.ToLower(rr.Header().Name)
	s.records[name] = append(s.records[name], rr)
}

// ServeDNS answers one query from the records.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		rrs, exists := s.records[strings.ToLower(q.Name)]
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	}
	w.WriteMsg(m)
}
