package main

import (
	"net/smtp"
	"regexp"
	"strings"
	"testing"
)

// A bounce that comes back after the relay accepted the message (a DSN
// to the VERP address, through the daemon's inbound listener) shows in
// /metrics as a later hard bounce of the digest's newest issue, read by
// Prometheus's parser; the README's bounce-rate alert adds it to the
// SMTP-time failures.
func TestMetricsCountLaterBounces(t *testing.T) {
	relay, _, logs, stop := startDaemon(t, func(cfg string) string {
		cfg = strings.Replace(cfg, `schedule = "0 8 * * FRI"`, `schedule = "@every 2s"`, 1)
		return cfg + "\n[metrics]\nlisten = \"127.0.0.1:0\"\n\n[inbound]\nlisten = \"127.0.0.1:0\"\n"
	})
	defer once(stop)()
	var inboundAddr, metricsAddr string
	waitFor(t, "the listeners", func() bool {
		if m := regexp.MustCompile(`msg="inbound SMTP listener" addr=(\S+)`).FindStringSubmatch(logs.String()); m != nil {
			inboundAddr = m[1]
		}
		if m := regexp.MustCompile(`msg="metrics listening" addr=(\S+)`).FindStringSubmatch(logs.String()); m != nil {
			metricsAddr = m[1]
		}
		return inboundAddr != "" && metricsAddr != ""
	})
	waitFor(t, "the issue to reach the reader", func() bool { return len(relay.For("lan@example.jp")) > 0 })
	waitFor(t, "the send to finish", func() bool { return strings.Contains(logs.String(), "send finished") })
	verp := relay.For("lan@example.jp")[0].From
	if !strings.Contains(verp, "+") {
		t.Fatalf("envelope sender %q has no VERP token", verp)
	}
	dsn := strings.NewReplacer("bounces+1c.7q.Xy3kPq9dTsw@haiphong.example.org", verp,
		"nguyen.van.an@example.net", "lan@example.jp").Replace(readInboundFixture(t, "postfix-dsn-user-unknown.eml"))
	if err := smtp.SendMail(inboundAddr, nil, "", []string{verp}, []byte(dsn)); err != nil {
		t.Fatalf("the listener refused the bounce: %v", err)
	}
	url := "http://" + metricsAddr + "/metrics"
	labels := func(kind string) map[string]string { return map[string]string{"digest": "weekly", "kind": kind} }
	waitFor(t, "the later bounce in /metrics", func() bool {
		v, _ := value(scrape(t, url, ""), "hpdigest_issue_reports", labels("hard_bounce"))
		return v == 1
	})
	fams := scrape(t, url, "")
	for _, kind := range []string{"soft_bounce", "complaint"} {
		if v, ok := value(fams, "hpdigest_issue_reports", labels(kind)); !ok || v != 0 {
			t.Errorf("%s: %v (present %v), want 0", kind, v, ok)
		}
	}
	// The alert's expression, as Prometheus computes it for this digest.
	state := func(s string) float64 {
		v, _ := value(fams, "hpdigest_issue_deliveries", map[string]string{"digest": "weekly", "state": s})
		return v
	}
	hard, _ := value(fams, "hpdigest_issue_reports", labels("hard_bounce"))
	if state("sent") != 1 || state("failed") != 0 {
		t.Fatalf("deliveries: sent %v failed %v", state("sent"), state("failed"))
	}
	if rate := (state("failed") + hard) / (state("sent") + state("failed")); rate <= 0.02 {
		t.Errorf("bounce rate %v: the alert would not fire", rate)
	}
}
