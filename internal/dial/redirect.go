package dial

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/wsloop/websocket/internal/weburl"
)

// isRedirect reports the statuses a redirect is followed for.
func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

var schemePrefix = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

// redirectTarget resolves a Location header against u, as a browser
// resolves a relative URL for a special scheme: an absolute URL, a
// scheme-relative //host/path, an absolute /path, a ?query, or a path
// relative to u's directory. http maps to ws and https to wss; another
// scheme is an error. A fragment is dropped: a request has none.
func redirectTarget(u *weburl.URL, loc string) (*weburl.URL, error) {
	loc = strings.TrimSpace(loc)
	var abs string
	switch {
	case loc == "":
		return nil, errors.New("the redirect has no Location")
	case schemePrefix.MatchString(loc):
		abs = loc
	case strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `\\`):
		abs = u.Scheme + ":" + loc
	case strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`):
		abs = u.Scheme + "://" + u.HostPort() + loc
	case strings.HasPrefix(loc, "?"):
		abs = u.Scheme + "://" + u.HostPort() + u.Path + loc
	case strings.HasPrefix(loc, "#"):
		abs = u.Href()
	default:
		abs = u.Scheme + "://" + u.HostPort() + u.Path[:strings.LastIndexByte(u.Path, '/')+1] + loc
	}
	next, err := weburl.Parse(abs)
	if weburl.IsUnsupportedScheme(err) {
		return nil, fmt.Errorf("the redirect to %q leaves ws, wss, http and https", loc)
	}
	if err != nil {
		return nil, fmt.Errorf("the redirect's Location %q: %w", loc, err)
	}
	switch next.Scheme {
	case "http":
		next.Scheme = "ws"
	case "https":
		next.Scheme = "wss"
	}
	// Credentials in a Location are not taken up.
	next.Fragment, next.HasFragment = "", false
	next.Username, next.Password = "", ""
	return next, nil
}

// sameOrigin reports whether a and b are the same scheme, host and port:
// credentials, Authorization and Cookie headers are not carried to
// another.
func sameOrigin(a, b *weburl.URL) bool {
	return a.Scheme == b.Scheme && a.HostPort() == b.HostPort()
}

// sensitiveHeaders are dropped on a redirect to another origin, as
// net/http drops them.
var sensitiveHeaders = []string{"Authorization", "Www-Authenticate", "Cookie", "Cookie2"}

// followRedirect is the next hop's options after a redirect from o to
// next: the proxy chosen for next, and no credentials or sensitive
// headers when next is another origin.
func followRedirect(o Options, next *weburl.URL) (Options, error) {
	p, err := ChooseProxy(o.ProxySetting, next)
	if err != nil {
		return o, err
	}
	if !sameOrigin(o.URL, next) {
		o.Credentials = nil
		h := o.Header.Clone()
		for _, k := range sensitiveHeaders {
			h.Del(k)
		}
		o.Header = h
	}
	o.URL, o.Proxy = next, p
	return o, nil
}
