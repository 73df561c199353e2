package feeds

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Date parsing for what Vietnamese portals publish besides RFC 822/3339:
// "ICT", "GMT+7", no zone (the feed's zone), day-first 26/07/2017 19:41[:14],
// AM/PM (also SA/CH), Vietnamese weekdays, "19h41", and the long forms
// "27 tháng 11, 2026", "ngày 27 tháng 11 năm 2026", "27 Tháng Mười Một 2026".

var (
	reWeekday = regexp.MustCompile(`(?i)^\s*(?:thứ\s*(?:hai|ba|tư|tu|năm|nam|sáu|sau|bảy|bẩy|bay|[2-7])|chủ\s*nhật|chu\s*nhat|cn|t[2-7]|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thu|fri|sat|sun)(?:[\s,.\-|]+|$)`)
	reVNWords = regexp.MustCompile(`(?i)(?:^|\s)(?:cập nhật lúc|cập nhật|đăng lúc|đăng|ngày|ngay|lúc|luc)(?:\s|:|$)`)
	reHourH   = regexp.MustCompile(`\b(\d{1,2})[hH](\d{2})\b`)
	reGMT     = regexp.MustCompile(`(?i)\(?\b(?:GMT|UTC|UT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\)?`)
	reZone    = regexp.MustCompile(`^(.*\d:\d\d(?::\d\d)?(?:[.,]\d+)?(?:\s*[AP]M)?)\s*(Z|[+-]\d{1,2}(?::?\d{2})?)$`)
	reAbbrev  = regexp.MustCompile(`\s*\(?([A-Za-z]{1,5})\)?$`)
	reAMPM    = regexp.MustCompile(`(?i)(\d)\s*(a\.?m\.?|p\.?m\.?|sa|ch)(?:$|\s)`)
	reSpaces  = regexp.MustCompile(`\s+`)
	reSeps    = regexp.MustCompile(`\s+[|–-]\s+|\s*,\s*`)
	// A day, "tháng" (month) and the month in digits or words, then the year
	// after a comma, "năm" (year) or a space.
	reVNLongDate = regexp.MustCompile(`(?i)\b(\d{1,2})\s+(?:tháng|thang|thg)\s+(` + vnMonthWords + `|1[0-2]|0?[1-9])(?:\s*,\s*|\s+(?:năm|nam)\s+|\s+)(\d{4})\b`)
)

// vnMonthWords are the month names in words ("Tháng Mười Một" is November),
// with and without diacritics, longest first so that "mười một" is not read
// as "mười".
const vnMonthWords = `mười\s+một|mười\s+hai|muoi\s+mot|muoi\s+hai|mười|muoi|một|mot|hai|ba|tư|tu|bốn|bon|năm|nam|sáu|sau|bảy|bẩy|bay|tám|tam|chín|chin`

var vnMonths = map[string]int{
	"một": 1, "mot": 1, "hai": 2, "ba": 3, "tư": 4, "tu": 4, "bốn": 4, "bon": 4, "năm": 5, "nam": 5,
	"sáu": 6, "sau": 6, "bảy": 7, "bẩy": 7, "bay": 7, "tám": 8, "tam": 8, "chín": 9, "chin": 9,
	"mười": 10, "muoi": 10, "mười một": 11, "muoi mot": 11, "mười hai": 12, "muoi hai": 12,
}

// vnLongDateToNumeric rewrites Vietnamese long dates as day/month/year.
func vnLongDateToNumeric(s string) string {
	return reVNLongDate.ReplaceAllStringFunc(s, func(m string) string {
		g := reVNLongDate.FindStringSubmatch(m)
		month, err := strconv.Atoi(g[2])
		if err != nil {
			month = vnMonths[strings.Join(strings.Fields(strings.ToLower(g[2])), " ")]
		}
		return g[1] + "/" + strconv.Itoa(month) + "/" + g[3]
	})
}

// Offsets of zone abbreviations seen in feeds. Go's time.Parse invents a zero
// offset for abbreviations it does not know (that is how "ICT" goes wrong).
var zoneAbbrev = map[string]int{
	"Z": 0, "GMT": 0, "UT": 0, "UTC": 0, "WET": 0,
	"ICT": 7 * 3600, "IST": 5*3600 + 1800, "JST": 9 * 3600, "KST": 9 * 3600,
	"SGT": 8 * 3600, "HKT": 8 * 3600, "AWST": 8 * 3600, "PHT": 8 * 3600,
	"AEST": 10 * 3600, "AEDT": 11 * 3600,
	"CET": 3600, "CEST": 2 * 3600, "BST": 3600, "EET": 2 * 3600, "EEST": 3 * 3600, "MSK": 3 * 3600,
	"EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
}

// Layouts for the date-time without its zone. "2" and "1" accept one or two
// digits; fractional seconds are accepted after seconds by time.Parse.
var dateLayouts = []string{
	"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02",
	"2006/01/02 15:04:05", "2006/01/02 15:04", "2006/01/02",
	"2/1/2006 15:04:05", "2/1/2006 15:04", "2/1/2006 3:04:05 PM", "2/1/2006 3:04 PM", "2/1/2006",
	"2-1-2006 15:04:05", "2-1-2006 15:04", "2-1-2006",
	"2.1.2006 15:04:05", "2.1.2006 15:04", "2.1.2006",
	"15:04:05 2/1/2006", "15:04 2/1/2006", "3:04 PM 2/1/2006", "3:04:05 PM 2/1/2006",
	"2 Jan 2006 15:04:05", "2 Jan 2006 15:04", "2 Jan 2006 3:04:05 PM", "2 Jan 2006 3:04 PM", "2 Jan 2006",
	"2 January 2006 15:04:05", "2 January 2006 15:04", "2 January 2006",
	"2 Jan 06 15:04:05", "2 Jan 06 15:04",
	"Jan 2 2006 15:04:05", "Jan 2 2006 15:04", "Jan 2 2006 3:04:05 PM", "Jan 2 2006 3:04 PM", "Jan 2 2006",
	"January 2 2006 15:04:05", "January 2 2006 15:04", "January 2 2006 3:04 PM", "January 2 2006",
	"Jan 2 15:04:05 2006", "2006-01-02T15:04:05.000", "20060102T150405", "20060102",
	// Month-first only after day-first failed (e.g. 07/26/2017).
	"1/2/2006 15:04:05", "1/2/2006 15:04", "1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "1/2/2006",
}

// parseDate reads a feed date. Dates without a zone are in loc. ok is false
// when nothing matched.
func parseDate(raw string, loc *time.Location) (time.Time, bool) {
	s := norm.NFC.String(strings.TrimSpace(raw))
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	s = strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s)
	s = reWeekday.ReplaceAllString(s, "")
	s = reVNWords.ReplaceAllString(s, " ")
	s = vnLongDateToNumeric(s)
	s = reHourH.ReplaceAllString(s, "$1:$2")
	s = reGMT.ReplaceAllStringFunc(s, func(m string) string {
		g := reGMT.FindStringSubmatch(m)
		h, _ := strconv.Atoi(g[2])
		mm := g[3]
		if mm == "" {
			mm = "00"
		}
		return " " + g[1] + pad2(h) + mm
	})
	s = reSeps.ReplaceAllString(s, " ")
	s = reSpaces.ReplaceAllString(strings.TrimSpace(s), " ")
	s = reAMPM.ReplaceAllStringFunc(s, func(m string) string {
		g := reAMPM.FindStringSubmatch(m)
		l := strings.ToLower(strings.ReplaceAll(g[2], ".", ""))
		if l == "am" || l == "sa" {
			return g[1] + " AM "
		}
		return g[1] + " PM "
	})
	s = strings.TrimSpace(reSpaces.ReplaceAllString(s, " "))
	s = strings.TrimSuffix(s, ".")

	zone := loc
	// A trailing zone abbreviation ("ICT", "GMT", "(EST)").
	if m := reAbbrev.FindStringSubmatch(s); m != nil {
		ab := strings.ToUpper(m[1])
		if off, ok := zoneAbbrev[ab]; ok {
			if ab == "Z" && !strings.Contains(s, ":") {
				// not a zone
			} else {
				s = strings.TrimSpace(s[:len(s)-len(m[0])])
				zone = time.FixedZone(ab, off)
			}
		} else if ab != "AM" && ab != "PM" && !isMonthWord(ab) && len(s) > len(m[0]) && hasDigitBefore(s, len(s)-len(m[0])) {
			// Unknown abbreviation: read the time in the feed's zone.
			s = strings.TrimSpace(s[:len(s)-len(m[0])])
		}
	}
	// A trailing numeric offset ("+0700", "+07:00", "-5").
	if m := reZone.FindStringSubmatch(s); m != nil {
		if off, ok := parseOffset(m[2]); ok {
			s = strings.TrimSpace(m[1])
			zone = time.FixedZone("", off)
		}
	}
	s = strings.ReplaceAll(s, ",", " ")
	s = strings.TrimSpace(reSpaces.ReplaceAllString(s, " "))
	for _, layout := range dateLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone), true
	}
	return time.Time{}, false
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func parseOffset(z string) (int, bool) {
	if z == "Z" {
		return 0, true
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	d := strings.ReplaceAll(z[1:], ":", "")
	var h, m int
	switch len(d) {
	case 1, 2:
		h, _ = strconv.Atoi(d)
	case 3:
		h, _ = strconv.Atoi(d[:1])
		m, _ = strconv.Atoi(d[1:])
	case 4:
		h, _ = strconv.Atoi(d[:2])
		m, _ = strconv.Atoi(d[2:])
	default:
		return 0, false
	}
	if h > 14 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

func isMonthWord(s string) bool {
	switch strings.ToLower(s) {
	case "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
		"march", "april", "june", "july":
		return true
	}
	return false
}

func hasDigitBefore(s string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		if s[j] == ' ' {
			continue
		}
		return s[j] >= '0' && s[j] <= '9'
	}
	return false
}

// itemTime chooses the stored publication time: the parsed date, clamped so
// it is never more than a day in the future; zero (= first seen) if unknown.
func itemTime(raws []string, fallback *time.Time, loc *time.Location, now time.Time) time.Time {
	var t time.Time
	for _, r := range raws {
		if p, ok := parseDate(r, loc); ok {
			t = p
			break
		}
	}
	if t.IsZero() && fallback != nil {
		t = *fallback
	}
	if t.IsZero() || t.Year() < 1990 {
		return time.Time{}
	}
	if t.After(now.Add(maxFutureSkew)) {
		return now
	}
	return t.UTC().Truncate(time.Second)
}
