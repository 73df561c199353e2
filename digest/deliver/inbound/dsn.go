package inbound

import (
	"regexp"
	"strings"
)

// deliveryStatus reads an RFC 3464 report (a message/delivery-status part,
// in a multipart/report or not). It returns false when there is none or it
// names no recipient (some Exchange reports): the text is tried next.
func (m *message) deliveryStatus() bool {
	for _, pt := range m.parts {
		if pt.mediaType != "message/delivery-status" && pt.mediaType != "message/global-delivery-status" {
			continue
		}
		mta, recips := parseDSN(pt.text())
		if len(recips) == 0 {
			continue
		}
		m.rep.ReportingMTA = mta
		m.rep.Recipients = recips
		m.rep.Kind = kindOf(recips)
		m.rep.Reason = "RFC 3464 delivery status"
		if m.rep.MessageID == "" {
			m.messageIDFromText()
		}
		return true
	}
	return false
}

// parseDSN reads the per-message and per-recipient field groups.
func parseDSN(body string) (reportingMTA string, recips []Recipient) {
	blocks := fieldBlocks(body)
	if len(blocks) == 0 {
		return "", nil
	}
	reportingMTA = typedValue(first(blocks[0], "reporting-mta"))
	for _, b := range blocks {
		addr := typedValue(first(b, "final-recipient"))
		orig := typedValue(first(b, "original-recipient"))
		if addr == "" {
			addr = orig
		}
		if addr == "" {
			continue // the per-message group
		}
		rc := Recipient{
			Address:         addr,
			OriginalAddress: orig,
			Action:          strings.ToLower(firstWord(first(b, "action"))),
			Diagnostic:      stripDiagnosticType(first(b, "diagnostic-code")),
			ReportingMTA:    reportingMTA,
			RemoteMTA:       typedValue(first(b, "remote-mta")),
		}
		if own := typedValue(first(b, "reporting-mta")); own != "" {
			rc.ReportingMTA = own
		}
		rc.Status = statusOf(first(b, "status"), rc.Diagnostic, rc.Action)
		rc.Class = classify(rc.Action, rc.Status, rc.Diagnostic)
		recips = append(recips, rc)
	}
	return reportingMTA, recips
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return strings.Trim(f[0], "();")
	}
	return ""
}

// diagTypeRe is the type prefix of a Diagnostic-Code ("smtp;", "X-Postfix;").
var diagTypeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*;\s*`)

func stripDiagnosticType(s string) string {
	return strings.TrimSpace(diagTypeRe.ReplaceAllString(strings.TrimSpace(s), ""))
}

// statusOf picks a recipient's enhanced status code: the Status field;
// the diagnostic's own code when Status is only the generic x.0.0 of the
// same class; else a code made from the SMTP reply or the action.
func statusOf(field, diag, action string) string {
	code := findEnhanced(field, "245")
	if dc := findEnhanced(diag, "245"); dc != "" && (code == "" || (strings.HasSuffix(code, ".0.0") && dc[0] == code[0])) {
		code = dc
	}
	if code == "" {
		if bc := findBasic(diag); bc != "" {
			code = bc[:1] + ".0.0"
		}
	}
	if code == "" {
		switch action {
		case "failed":
			code = "5.0.0"
		case "delayed":
			code = "4.0.0"
		case "delivered", "relayed", "expanded":
			code = "2.0.0"
		}
	}
	return code
}

// wordsRe compiles a pattern of words that may be broken across lines:
// each space matches any run of white space (" ?" any or none).
func wordsRe(expr string) *regexp.Regexp {
	expr = strings.ReplaceAll(expr, " ?", `\s*`)
	return regexp.MustCompile(strings.ReplaceAll(expr, " ", `\s+`))
}

// quotaRe finds the words of a full mailbox, whatever the status class.
var quotaRe = wordsRe(`(?i)mailbox (?:is )?full|over ?quota|quota (?:exceeded|full)|exceed(?:s|ed)? (?:\w+ )?(?:storage|quota|disk)|insufficient (?:storage|disk|system storage)|mailbox size limit|storage (?:limit|quota)|out of storage`)

// classify decides hard or soft. A full mailbox is soft (5.2.2 or its
// words): common practice, since the reader may clear it; a 4.x.x is soft
// whatever the action says (Postfix gives up on 4.4.1 after its queue
// lifetime, yet the address may be fine).
func classify(action, status, diag string) Class {
	switch action {
	case "delayed":
		return Delayed
	case "delivered", "relayed", "expanded":
		return Delivered
	}
	if status == "5.2.2" || quotaRe.MatchString(diag) {
		return Soft
	}
	if strings.HasPrefix(status, "5.") {
		return Hard
	}
	if strings.HasPrefix(status, "2.") && action != "failed" {
		return Delivered
	}
	return Soft
}

// kindOf is the report's kind from its recipients.
func kindOf(recips []Recipient) Kind {
	delayed := false
	for _, rc := range recips {
		switch rc.Class {
		case Hard, Soft:
			return KindBounce
		case Delayed:
			delayed = true
		}
	}
	if delayed {
		return KindDelay
	}
	return KindOther
}

var enhancedRe = regexp.MustCompile(`[245]\.\d{1,3}\.\d{1,3}`)

// findEnhanced returns the first enhanced status code (RFC 3463) in s
// whose class is one of classes, not part of a longer dotted number (an
// IP address or a version).
func findEnhanced(s, classes string) string {
	for _, loc := range enhancedRe.FindAllStringIndex(s, -1) {
		if isCodeAt(s, loc[0], loc[1]) && strings.IndexByte(classes, s[loc[0]]) >= 0 {
			return s[loc[0]:loc[1]]
		}
	}
	return ""
}

func isCodeAt(s string, start, end int) bool {
	if start > 0 && (isDigit(s[start-1]) || s[start-1] == '.') {
		return false
	}
	if end < len(s) {
		if isDigit(s[end]) {
			return false
		}
		if s[end] == '.' && end+1 < len(s) && isDigit(s[end+1]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// basicRe finds a 4xx/5xx SMTP reply code.
var basicRe = regexp.MustCompile(`(?:^|[^\d.])([45][0-5]\d)(?:[ :-]|$)`)

func findBasic(s string) string {
	if m := basicRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}
