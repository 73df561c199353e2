package inbound

import (
	"mime"
	"net/mail"
	"regexp"
	"strings"
)

// Signs that a message is a bounce written for people: who sends it and
// what its subject says.
var (
	daemonFromRe     = regexp.MustCompile(`(?i)(?:^|[\s<"'(])(?:mailer[-_]?daemon|mail-daemon|maildaemon|postmaster|mdaemon)\b|mail delivery (?:subsystem|system|service)|mail administrator|e-?mail delivery system`)
	bounceSubjectRe  = regexp.MustCompile(`(?i)undeliver|delivery status notification|delivery (?:failure|failed|problem|notification)|failure notice|mail delivery failed|returned mail|returning message to sender|could not be delivered|not delivered|non-?deliver|delivery has failed|mail system error|unzustellbar|non remis|no se ha podido entregar|non recapitabile|không gửi được|delayed mail|delivery delayed`)
	delaySubjectRe   = regexp.MustCompile(`(?i)\bdelay(?:ed)?\b|warning: could not send|still (?:not|being) (?:delivered|retried)`)
	warningOnlyRe    = wordsRe(`(?i)warning (?:message )?only|do not need to resend`)
	successSubjectRe = regexp.MustCompile(`(?i)\(success\)|successful mail delivery|^delivered:|^relayed:|\(relay\)`)
)

// What the notice says, when it gives no status code.
var (
	hardPhraseRe = wordsRe(`(?i)user unknown|unknown user|no such (?:user|mailbox|recipient|address|person)|does(?:n't|n’t| not) exist|address (?:not found|couldn't be found|wasn.t found|rejected|invalid)|recipient (?:not found|rejected|address rejected|unknown)|not found at the destination|(?:was|were)n.t found|invalid (?:recipient|address|mailbox)|mailbox (?:unavailable|not found|disabled|does not exist)|account (?:is )?(?:disabled|inactive|suspended|deactivated)|unknown (?:recipient|address|mailbox|local part)|no mailbox here|doesn't have an? \S+ account|no longer (?:valid|in use|active)|recipient name is not recognized|host (?:or domain name )?not found|domain (?:not found|does not exist)`)
	failPhraseRe = wordsRe(`(?i)permanent(?:ly)? (?:error|failure|fatal|failed)|failed permanently|could(?:n't|n’t| not) be delivered|was(?:n't|n’t| not) delivered|undeliverable|delivery (?:has )?failed|unable to deliver|(?:not|wasn't) able to deliver|given up|fatal error|rejected`)
	tempPhraseRe = wordsRe(`(?i)temporar(?:y|ily)|try again later|will (?:be )?retr(?:y|ied)|deferred|delayed|not yet been delivered`)
)

// returnedRe marks where a bounce text starts quoting the original
// message.
var returnedRe = regexp.MustCompile(`(?im)^[ \t]*-*[ \t]*(?:below this line is a copy of the message|this is a copy of (?:the|your) message|-*original message(?: follows| headers)?\b|the original message (?:was received|headers|follows)|unsent message below|returned message|message headers follow|the header of the original message|headers of the original message|included is a copy)`)

var (
	headerLineRe = regexp.MustCompile(`(?m)^[A-Za-z][A-Za-z0-9-]*:[ \t]`)
	addressRe    = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`)
	smtpLineRe   = regexp.MustCompile(`[45]\d\d[ -]#?[245]\.\d{1,3}\.\d{1,3}`)
	daemonAddrRe = regexp.MustCompile(`(?i)^(?:mailer[-_]?daemon|mail-daemon|postmaster|abuse|noreply|no-reply)@`)
)

// splitReturned cuts a bounce text into the notice and the quoted
// original message (empty when none is quoted).
func splitReturned(text string) (notice, returned string) {
	loc := returnedRe.FindStringIndex(text)
	if loc == nil {
		return text, ""
	}
	rest := text[loc[1]:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[i+1:]
	} else {
		rest = ""
	}
	return text[:loc[0]], rest
}

// bounceText reads a bounce written for people: a mailer daemon's or
// Exchange's notice, qmail, Exim, Gmail, Yahoo texts. It needs a sign
// (a mailer-daemon sender, a bounce subject, or a delivery-status report
// without usable fields) and evidence (a status code or the words of a
// failure). isOwn says which addresses are the list's own.
func (m *message) bounceText(isOwn func(string) bool) bool {
	mt, params, _ := mime.ParseMediaType(m.header.Get("Content-Type"))
	isReport := mt == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status")
	if !isReport && !daemonFromRe.MatchString(m.rep.From) && !bounceSubjectRe.MatchString(m.rep.Subject) {
		return false
	}
	notice, returned := splitReturned(strings.Join(m.texts(), "\n"))
	if m.original == nil && returned != "" {
		if loc := headerLineRe.FindStringIndex(returned); loc != nil {
			m.setOriginal(headerBlock([]byte(returned[loc[0]:])))
		}
	}
	if m.rep.MessageID == "" {
		m.messageIDFromText()
	}
	if successSubjectRe.MatchString(m.rep.Subject) {
		m.rep.Kind, m.rep.Reason = KindOther, "delivery success notice"
		return true
	}
	code, diag := statusIn(notice)
	if code == "" {
		if !daemonFromRe.MatchString(m.rep.From) || !bounceSubjectRe.MatchString(m.rep.Subject) {
			return false // a mailer daemon's mail without a failure in it, or a person's
		}
		// A mailer daemon says delivery failed but not why: a failure of
		// unknown kind, counted as soft (an address is not given up on a
		// guess).
		code, diag = "4.0.0", "no status given"
	}
	delay := (delaySubjectRe.MatchString(m.rep.Subject) || warningOnlyRe.MatchString(notice)) && code[0] != '5'
	var recips []Recipient
	for _, addr := range m.noticeRecipients(notice, isOwn) {
		c, d := recipientStatus(windows(notice, addr.addr, addr.others))
		if c == "" {
			c, d = code, diag
		}
		recips = append(recips, textRecipient(addr.addr, c, d, delay))
	}
	if len(recips) == 0 {
		recips = append(recips, textRecipient("", code, diag, delay))
	}
	m.rep.Recipients = recips
	m.rep.Kind = kindOf(recips)
	m.rep.Reason = "bounce text"
	if isReport {
		m.rep.Reason = "delivery report without status fields: read as text"
	}
	return true
}

func textRecipient(addr, code, diag string, delay bool) Recipient {
	action := "failed"
	if delay {
		action = "delayed"
	}
	return Recipient{Address: addr, Action: action, Status: code, Diagnostic: diag, Class: classify(action, code, diag)}
}

// recipientStatus finds the status of one recipient in the stretches of
// notice that speak of it: a code in any of them first, then words.
func recipientStatus(ws []string) (code, diag string) {
	for _, find := range []func(string) (string, string){codeIn, phraseIn} {
		for _, w := range ws {
			if c, d := find(w); c != "" {
				return c, d
			}
		}
	}
	return "", ""
}

// statusIn finds the most telling status in a piece of notice (see codeIn
// and phraseIn). It returns the code and the line it stands on.
func statusIn(s string) (code, diag string) {
	if c, d := codeIn(s); c != "" {
		return c, d
	}
	return phraseIn(s)
}

// codeIn finds an SMTP reply with an enhanced code ("550 5.1.1",
// "#550 5.1.1"), else an enhanced code alone ("(#5.1.1)"), else a reply
// code ("said: 554", read as 5.0.0).
func codeIn(s string) (code, diag string) {
	for _, loc := range smtpLineRe.FindAllStringIndex(s, -1) {
		if c := findEnhanced(s[loc[0]:loc[1]], "45"); c != "" && (loc[0] == 0 || !isDigit(s[loc[0]-1])) {
			return c, lineAt(s, loc[0])
		}
	}
	if c := findEnhanced(s, "45"); c != "" {
		return c, lineAt(s, strings.Index(s, c))
	}
	if loc := basicRe.FindStringSubmatchIndex(s); loc != nil {
		c := s[loc[2]:loc[3]]
		return c[:1] + ".0.0", lineAt(s, loc[2])
	}
	return "", ""
}

// phraseIn reads the words of a failure when no code is given: a full
// mailbox (5.2.2, soft), an unknown address or a permanent failure
// (5.0.0), a temporary one (4.0.0).
func phraseIn(s string) (code, diag string) {
	for _, p := range []struct {
		re   *regexp.Regexp
		code string
	}{{quotaRe, "5.2.2"}, {hardPhraseRe, "5.0.0"}, {failPhraseRe, "5.0.0"}, {tempPhraseRe, "4.0.0"}} {
		if loc := p.re.FindStringIndex(s); loc != nil {
			return p.code, lineAt(s, loc[0])
		}
	}
	return "", ""
}

// lineAt returns the trimmed line of s around byte i, at most 300 bytes.
func lineAt(s string, i int) string {
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		end = len(s)
	} else {
		end += i
	}
	line := strings.Join(strings.Fields(s[start:end]), " ")
	if len(line) > 300 {
		line = line[:300]
	}
	return line
}

type noticeAddr struct {
	addr   string
	others []string
}

// noticeRecipients lists the failed recipients a notice names: the
// X-Failed-Recipients header, then every address in the notice that is not
// the list's own, the bounce's sender or recipient, the original sender, a
// mailer daemon, or the sender in a MAIL FROM transcript line.
func (m *message) noticeRecipients(notice string, isOwn func(string) bool) []noticeAddr {
	skip := map[string]bool{}
	for _, h := range []string{m.rep.From, m.header.Get("To"), m.header.Get("Return-Path"), m.rep.EnvelopeTo, m.rep.EnvelopeFrom} {
		if list, err := mail.ParseAddressList(h); err == nil {
			for _, a := range list {
				skip[strings.ToLower(a.Address)] = true
			}
		} else if h = trimAngle(h); h != "" {
			skip[strings.ToLower(h)] = true
		}
	}
	if m.originalFrom != "" {
		skip[m.originalFrom] = true
	}
	lowerNotice := strings.ToLower(notice)
	var found []string
	seen := map[string]bool{}
	add := func(a string) {
		a = strings.Trim(a, ".")
		la := strings.ToLower(a)
		if a == "" || seen[la] || skip[la] || isOwn(la) || daemonAddrRe.MatchString(la) {
			return
		}
		seen[la] = true
		found = append(found, a)
	}
	for _, v := range m.header.Values("X-Failed-Recipients") {
		for _, a := range strings.Split(v, ",") {
			add(strings.TrimSpace(trimAngle(a)))
		}
	}
	for _, loc := range addressRe.FindAllStringIndex(notice, -1) {
		before := lowerNotice[max(0, loc[0]-12):loc[0]]
		if strings.Contains(before, "mail from:") || strings.Contains(before, "from:<") {
			continue
		}
		add(notice[loc[0]:loc[1]])
	}
	out := make([]noticeAddr, len(found))
	for i, a := range found {
		out[i].addr = a
		for j, b := range found {
			if j != i {
				out[i].others = append(out[i].others, b)
			}
		}
	}
	return out
}

// windows returns the stretches of notice that speak of addr: from each
// place it is named up to the next place another recipient is named.
func windows(notice, addr string, others []string) []string {
	lower := strings.ToLower(notice)
	la := strings.ToLower(addr)
	var out []string
	for from := 0; ; {
		i := strings.Index(lower[from:], la)
		if i < 0 {
			break
		}
		start := from + i
		end := len(notice)
		for _, o := range others {
			if j := strings.Index(lower[start+len(la):], strings.ToLower(o)); j >= 0 && start+len(la)+j < end {
				end = start + len(la) + j
			}
		}
		out = append(out, notice[start:end])
		from = start + len(la)
	}
	return out
}

// messageIDFromText takes the original Message-ID from a quoted message
// when no returned header block gave one.
func (m *message) messageIDFromText() {
	for _, t := range m.texts() {
		_, returned := splitReturned(t)
		if sm := messageIDRe.FindStringSubmatch(returned); sm != nil {
			m.rep.MessageID = sm[1]
			return
		}
	}
}
