package upgrade

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Origins decides which browser pages may open a socket: the request's
// Origin header against glob patterns ("https://*.example.org"), or, with
// no pattern, the same origin as the Host the request was sent to. A
// request without Origin comes from no browser page (browsers always send
// it), so the check has nothing to guard and lets it pass.
type Origins struct {
	patterns []string // lower case; "*" matches any run of characters
}

// NewOrigins compiles patterns: each is "*" (every origin: unsafe, any
// web page may then use the visitor's cookies against the server),
// "null" (the opaque origin of sandboxed pages and files), or an origin
// (scheme://host[:port]) in which "*" matches any run of characters.
func NewOrigins(patterns []string) (*Origins, error) {
	o := &Origins{}
	for _, p := range patterns {
		lp := strings.ToLower(strings.TrimSpace(p))
		switch {
		case lp == "":
			return nil, fmt.Errorf("an empty pattern")
		case lp != "*" && lp != "null" && !strings.Contains(lp, "://"):
			return nil, fmt.Errorf("pattern %q has no scheme: an origin is scheme://host[:port], as https://*.example.org", p)
		case strings.Contains(lp, "://") && strings.ContainsAny(lp[strings.Index(lp, "://")+3:], "/?#"):
			return nil, fmt.Errorf("pattern %q has more than an origin (a path, query or fragment): an origin is scheme://host[:port]", p)
		}
		o.patterns = append(o.patterns, lp)
	}
	return o, nil
}

// check passes a request whose origin is allowed, and refuses the others
// with 403.
func (o *Origins) check(r *http.Request) *Refusal {
	values := r.Header.Values("Origin")
	if len(values) == 0 {
		return nil
	}
	origin := strings.ToLower(strings.TrimSpace(values[0]))
	if len(values) > 1 {
		return refuse(http.StatusForbidden, "more than one Origin header")
	}
	if o == nil || len(o.patterns) == 0 {
		if sameOrigin(origin, r.Host) {
			return nil
		}
		return refuse(http.StatusForbidden, fmt.Sprintf("origin %q is not the server's own (%s) and no allowed origin names it", values[0], r.Host))
	}
	for _, p := range o.patterns {
		if glob(p, origin) {
			return nil
		}
	}
	return refuse(http.StatusForbidden, fmt.Sprintf("origin %q is not allowed", values[0]))
}

// sameOrigin reports whether origin names host (the request's Host, as
// the browser sent it), the scheme's default port left out on both.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	def := ":80"
	if u.Scheme == "https" {
		def = ":443"
	}
	return strings.TrimSuffix(u.Host, def) == strings.TrimSuffix(strings.ToLower(host), def)
}

// glob matches s against p, in which '*' stands for any run of
// characters (none included).
func glob(p, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case i < len(p) && p[i] == s[j]:
			i++
			j++
		case star >= 0:
			mark++
			i, j = star+1, mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
