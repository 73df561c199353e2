package feeds

import (
	"net/url"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Query parameters that only track the reader; removing them makes the same
// story under two feeds (or two campaigns) one link.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gclsrc": true, "msclkid": true, "yclid": true,
	"mc_cid": true, "mc_eid": true, "igshid": true, "_ga": true, "_gl": true, "_hsenc": true,
	"_hsmi": true, "mkt_tok": true, "ref_src": true, "ref_url": true, "zarsrc": true, "gidzl": true,
	"__twitter_impression": true, "wt.mc_id": true, "spm": true, "cmpid": true, "vero_id": true,
}

func isTrackingParam(k string) bool {
	k = strings.ToLower(k)
	return trackingParams[k] || strings.HasPrefix(k, "utm_") || strings.HasPrefix(k, "pk_") || strings.HasPrefix(k, "matomo_")
}

// resolve parses ref (trimmed) and resolves it against base (if not nil);
// nil for an empty or unparseable ref.
func resolve(ref string, base *url.URL) *url.URL {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	return u
}

// NormalizeURL resolves ref against base and normalises it: scheme and host
// lower case, default port dropped, empty path "/", fragment dropped,
// tracking parameters (utm_*, fbclid, zarsrc, ...) removed, remaining query
// parameters sorted. Non-http(s) or unparseable links give "".
func NormalizeURL(ref string, base *url.URL) string {
	u := resolve(ref, base)
	if u == nil {
		return ""
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Host)
	if h, p, ok := strings.Cut(host, ":"); ok && !strings.Contains(p, ":") && ((u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443")) {
		host = h
	}
	u.Host = strings.TrimSuffix(host, ".")
	u.Fragment, u.RawFragment = "", ""
	u.User = nil
	if u.Path == "" {
		u.Path = "/"
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err == nil {
			for k := range q {
				if isTrackingParam(k) {
					delete(q, k)
				}
			}
			u.RawQuery = q.Encode()
		}
	}
	u.ForceQuery = false
	return norm.NFC.String(u.String())
}

// storyKey is the link as compared across feeds: without scheme and "www.",
// so http/https and www/non-www copies of one article match. Home pages
// ("/" without query) are not stories and give "".
func storyKey(normalized string) string {
	u, err := url.Parse(normalized)
	if err != nil || u.Host == "" {
		return ""
	}
	if (u.Path == "/" || u.Path == "") && u.RawQuery == "" {
		return ""
	}
	return strings.TrimPrefix(u.Host, "www.") + strings.TrimSuffix(u.EscapedPath(), "/") + queryPart(u.RawQuery)
}

func queryPart(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}
