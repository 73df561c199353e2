package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var segmentRE = regexp.MustCompile(`^([A-Za-z0-9_-]+)(?:\[(\d+)\])?$`)

// lineOf finds the line of a dotted key path such as "digests[1].schedule"
// or "smtp.tls" in a TOML document and returns "line N: ", or "" when it
// cannot tell. It understands the layout config.example.toml uses (tables
// and arrays of tables with one key per line), which is what operators edit.
func lineOf(data []byte, path string) string {
	segs := strings.Split(path, ".")
	if len(segs) == 0 {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	table := segs[:len(segs)-1]
	last := segs[len(segs)-1]
	if m := segmentRE.FindStringSubmatch(last); m != nil && m[2] != "" {
		// The path ends at a table entry (e.g. "feeds[2]"): point at its header.
		table, last = segs, ""
	}
	var header []string
	index := -1
	for _, s := range table {
		m := segmentRE.FindStringSubmatch(s)
		if m == nil {
			return ""
		}
		header = append(header, m[1])
		if m[2] != "" {
			index, _ = strconv.Atoi(m[2])
		}
	}
	start := 0
	if len(header) > 0 {
		name := strings.Join(header, ".")
		seen := -1
		start = -1
		for i, l := range lines {
			t := strings.TrimSpace(l)
			if t == "["+name+"]" || t == "[["+name+"]]" {
				seen++
				if index < 0 || seen == index {
					start = i
					break
				}
			}
		}
		if start < 0 {
			return ""
		}
		if last == "" {
			return fmt.Sprintf("line %d: ", start+1)
		}
		start++
	}
	keyRE := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(last) + `"?\s*=`)
	for i := start; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if i > start && strings.HasPrefix(t, "[") && len(header) > 0 {
			break // next table: the key is not in this one
		}
		if len(header) == 0 && strings.HasPrefix(t, "[") {
			break // top-level keys come before the first table
		}
		if keyRE.MatchString(lines[i]) {
			return fmt.Sprintf("line %d: ", i+1)
		}
	}
	return ""
}
