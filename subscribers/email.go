package subscribers

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits on what a reader may type.
const (
	MaxEmailLen = 254 // RFC 5321 path limit
	MaxLocalLen = 64
	MaxNameLen  = 100 // characters
)

// ErrInvalidEmail wraps every address rejection.
var ErrInvalidEmail = errors.New("invalid email address")

var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
	idna.Transitional(false),
)

// NormalizeEmail validates a bare address ("user@example.com", no display
// name) and returns it with the domain lower-cased and converted to ASCII
// (IDN: "ban@hảiphòng.vn" becomes "ban@xn--hiphng-...vn"). The local part
// keeps its case (it may matter to the receiving server) but must be ASCII.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	}
	if len(s) > 4*MaxEmailLen {
		return "", fmt.Errorf("%w: too long", ErrInvalidEmail)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "", fmt.Errorf("%w: contains spaces or control characters", ErrInvalidEmail)
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", fmt.Errorf("%w: %q needs the form name@domain", ErrInvalidEmail, s)
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > MaxLocalLen {
		return "", fmt.Errorf("%w: the part before @ is longer than %d characters", ErrInvalidEmail, MaxLocalLen)
	}
	for i := 0; i < len(local); i++ {
		if local[i] >= utf8.RuneSelf {
			return "", fmt.Errorf("%w: the part before @ must use Latin letters without accents", ErrInvalidEmail)
		}
	}
	if strings.HasPrefix(domain, "[") {
		return "", fmt.Errorf("%w: address literals are not accepted", ErrInvalidEmail)
	}
	ascii, err := idnaProfile.ToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("%w: domain %q: %v", ErrInvalidEmail, domain, err)
	}
	ascii = strings.ToLower(ascii)
	if !strings.Contains(ascii, ".") || strings.HasSuffix(ascii, ".") {
		return "", fmt.Errorf("%w: domain %q has no top-level part", ErrInvalidEmail, domain)
	}
	out := local + "@" + ascii
	if len(out) > MaxEmailLen {
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidEmail, MaxEmailLen)
	}
	// The standard parser checks the local part's syntax (dots, quoting).
	a, err := mail.ParseAddress(out)
	if err != nil || a.Name != "" || a.Address != out {
		return "", fmt.Errorf("%w: %q", ErrInvalidEmail, s)
	}
	return out, nil
}

// CleanName trims a display name, drops control characters and enforces
// MaxNameLen.
func CleanName(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxNameLen {
		return "", fmt.Errorf("name longer than %d characters", MaxNameLen)
	}
	return s, nil
}

// NormalizeLanguage returns "vi" or "en" ("" gives def).
func NormalizeLanguage(s, def string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def, nil
	case "vi", "vi-vn", "vn", "vie", "vietnamese", "tiếng việt":
		return "vi", nil
	case "en", "en-us", "en-gb", "eng", "english":
		return "en", nil
	}
	return "", fmt.Errorf("language must be vi or en, got %q", s)
}

// ParseThemes splits "fdi; china diaspora" into keys, lower-cased and
// de-duplicated. If known is not empty every key must be in it.
func ParseThemes(s string, known []string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '|' || unicode.IsSpace(r) })
	var out []string
	seen := map[string]bool{}
	for _, f := range fields {
		f = strings.ToLower(f)
		if seen[f] {
			continue
		}
		if !validThemeKey(f) {
			return nil, fmt.Errorf("bad theme %q", f)
		}
		if len(known) > 0 && !contains(known, f) {
			return nil, fmt.Errorf("unknown theme %q (known: %s)", f, strings.Join(known, ", "))
		}
		seen[f] = true
		out = append(out, f)
	}
	return out, nil
}

func validThemeKey(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
