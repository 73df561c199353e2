package inbound

import (
	"strings"
)

// feedbackReport reads a spam complaint in the Abuse Reporting Format
// (RFC 5965): a message/feedback-report part, normally inside a
// multipart/report; report-type=feedback-report. Reports of the types
// not-spam and auth-failure (DMARC forensic reports) are no complaint.
func (m *message) feedbackReport() bool {
	for _, pt := range m.parts {
		if pt.mediaType != "message/feedback-report" {
			continue
		}
		c := parseFeedback(pt.text())
		m.rep.Complaint = c
		m.rep.ReportingMTA = c.ReportingMTA
		if m.rep.MessageID == "" {
			m.messageIDFromText()
		}
		switch c.FeedbackType {
		case "not-spam":
			m.rep.Kind, m.rep.Reason = KindOther, "feedback report: not-spam"
		case "auth-failure":
			m.rep.Kind, m.rep.Reason = KindOther, "feedback report: authentication failure (DMARC forensic report)"
		default:
			m.rep.Kind, m.rep.Reason = KindComplaint, "feedback report: "+c.FeedbackType
			if c.UserAgent != "" {
				m.rep.Reason += " from " + c.UserAgent
			}
		}
		return true
	}
	return false
}

// parseFeedback reads the fields of a message/feedback-report part. A
// missing Feedback-Type is read as abuse (a report was sent, after all).
func parseFeedback(body string) *Complaint {
	fields := map[string][]string{}
	for _, b := range fieldBlocks(body) {
		for k, vs := range b {
			fields[k] = append(fields[k], vs...)
		}
	}
	c := &Complaint{
		FeedbackType:     strings.ToLower(firstWord(first(fields, "feedback-type"))),
		UserAgent:        first(fields, "user-agent"),
		OriginalMailFrom: trimAngle(first(fields, "original-mail-from")),
		ArrivalDate:      first(fields, "arrival-date"),
		SourceIP:         first(fields, "source-ip"),
		ReportedDomain:   first(fields, "reported-domain"),
		ReportingMTA:     typedValue(first(fields, "reporting-mta")),
	}
	if c.FeedbackType == "" {
		c.FeedbackType = "abuse"
	}
	if c.ArrivalDate == "" {
		c.ArrivalDate = first(fields, "received-date")
	}
	for _, v := range fields["original-rcpt-to"] {
		if v = trimAngle(v); v != "" {
			c.OriginalRcptTo = append(c.OriginalRcptTo, v)
		}
	}
	return c
}
