package websocket

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"
)

// CookieFile is an http.CookieJar kept in a cookie file of the Netscape
// format, the one curl reads with -b and writes with -c (and wget, yt-dlp
// and browsers' export tools), so that a program and curl can share a
// login. Give it to Config.Jar.
//
// It stores cookies as RFC 6265 says a browser does: a Domain attribute
// that the host does not domain-match, or that is a public suffix
// (golang.org/x/net/publicsuffix), drops the cookie; a cookie with
// Max-Age zero or less, or an Expires in the past, deletes its
// namesake; a Secure cookie is only taken from and sent to https:// (for
// a WebSocket, wss://) URLs. Session cookies (no expiry) are kept in the
// file with expiry 0, as curl writes them, and read back; curl drops them
// when it reads the file with -j.
//
// SetCookies writes the whole file at once, through a temporary file
// renamed over it, so that the file always holds a complete jar; a
// write that fails is reported by Err. It is safe for concurrent use.
type CookieFile struct {
	path string

	mu      sync.Mutex
	cookies []*fileCookie
	err     error
}

// fileCookie is one stored cookie.
type fileCookie struct {
	domain   string // lower case, no leading dot
	hostOnly bool   // no Domain attribute: for domain exactly
	path     string
	secure   bool
	httpOnly bool
	expires  time.Time // zero: a session cookie
	name     string
	value    string
}

// OpenCookieFile reads the cookie file at path, which need not exist yet;
// it is written on the first SetCookies. Lines it cannot read are an
// error naming the line.
func OpenCookieFile(path string) (*CookieFile, error) {
	f := &CookieFile{path: path}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for i, line := range strings.Split(string(b), "\n") {
		c, err := parseCookieLine(strings.TrimSuffix(line, "\r"))
		if err != nil {
			return nil, fmt.Errorf("websocket: cookie file %s, line %d: %w", path, i+1, err)
		}
		if c != nil && (c.expires.IsZero() || c.expires.After(now)) {
			f.cookies = append(f.cookies, c)
		}
	}
	return f, nil
}

// parseCookieLine reads one line of the file: nil for a comment or a
// blank line. The fields are domain (a leading dot, or TRUE in the second
// field, for a domain cookie), TRUE or FALSE for "include subdomains",
// path, TRUE or FALSE for secure, expiry in Unix seconds (0: a session
// cookie), name and value, separated by tabs; curl's "#HttpOnly_" prefix
// marks an HttpOnly cookie.
func parseCookieLine(line string) (*fileCookie, error) {
	httpOnly := false
	if rest, ok := strings.CutPrefix(line, "#HttpOnly_"); ok {
		line, httpOnly = rest, true
	}
	if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
		return nil, nil
	}
	f := strings.Split(line, "\t")
	if len(f) == 6 {
		f = append(f, "") // an empty value, which some writers leave off
	}
	if len(f) != 7 {
		return nil, fmt.Errorf("%d tab-separated fields, want 7", len(f))
	}
	sub, err1 := parseBool(f[1])
	secure, err2 := parseBool(f[3])
	exp, err3 := strconv.ParseInt(f[4], 10, 64)
	if err := firstErr(err1, err2, err3); err != nil {
		return nil, err
	}
	c := &fileCookie{
		domain:   strings.ToLower(strings.TrimPrefix(f[0], ".")),
		hostOnly: !sub && !strings.HasPrefix(f[0], "."),
		path:     f[2],
		secure:   secure,
		httpOnly: httpOnly,
		name:     f[5],
		value:    f[6],
	}
	if exp > 0 {
		c.expires = time.Unix(exp, 0)
	}
	if c.domain == "" || c.name == "" {
		return nil, fmt.Errorf("no domain or no name")
	}
	if c.path == "" {
		c.path = "/"
	}
	return c, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToUpper(s) {
	case "TRUE":
		return true, nil
	case "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("%q is not TRUE or FALSE", s)
}

// firstErr is the first error that is not nil.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Err is the error of the last write of the file that failed, or nil once
// one succeeded.
func (f *CookieFile) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Cookies implements http.CookieJar: the cookies to send to u, longest
// path first.
func (f *CookieFile) Cookies(u *url.URL) []*http.Cookie {
	host := canonicalCookieHost(u.Host)
	path := u.Path
	if path == "" {
		path = "/"
	}
	secure := u.Scheme == "https" || u.Scheme == "wss"
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	var match []*fileCookie
	for _, c := range f.cookies {
		if (c.secure && !secure) || (!c.expires.IsZero() && !c.expires.After(now)) || !pathMatch(path, c.path) {
			continue
		}
		if c.hostOnly && host != c.domain || !c.hostOnly && !domainMatch(host, c.domain) {
			continue
		}
		match = append(match, c)
	}
	// Longer paths first (RFC 6265 5.4); the order of storage, which is
	// the order of creation, after that.
	slices.SortStableFunc(match, func(a, b *fileCookie) int { return len(b.path) - len(a.path) })
	out := make([]*http.Cookie, len(match))
	for i, c := range match {
		out[i] = &http.Cookie{Name: c.name, Value: c.value}
	}
	return out
}

// SetCookies implements http.CookieJar: it stores the cookies that u's
// response set and writes the file.
func (f *CookieFile) SetCookies(u *url.URL, cookies []*http.Cookie) {
	host := canonicalCookieHost(u.Host)
	secure := u.Scheme == "https" || u.Scheme == "wss"
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	changed := false
	for _, hc := range cookies {
		c, ok := newFileCookie(hc, host, u.Path, secure, now)
		if !ok {
			continue
		}
		changed = true
		i := slices.IndexFunc(f.cookies, func(o *fileCookie) bool {
			return o.name == c.name && o.domain == c.domain && o.path == c.path
		})
		deleted := !c.expires.IsZero() && !c.expires.After(now)
		switch {
		case i >= 0 && deleted:
			f.cookies = slices.Delete(f.cookies, i, i+1)
		case i >= 0:
			f.cookies[i] = c
		case !deleted:
			f.cookies = append(f.cookies, c)
		}
	}
	if changed {
		f.err = f.writeLocked()
	}
}

// newFileCookie applies RFC 6265 5.3's storage steps to a cookie that
// host's response at path set; false: the cookie is ignored.
func newFileCookie(hc *http.Cookie, host, path string, secure bool, now time.Time) (*fileCookie, bool) {
	if hc.Name == "" || hc.Secure && !secure {
		return nil, false
	}
	c := &fileCookie{name: hc.Name, value: hc.Value, secure: hc.Secure, httpOnly: hc.HttpOnly, path: hc.Path}
	switch {
	case hc.MaxAge < 0:
		c.expires = time.Unix(1, 0)
	case hc.MaxAge > 0:
		c.expires = now.Add(time.Duration(hc.MaxAge) * time.Second)
	case !hc.Expires.IsZero():
		c.expires = hc.Expires
		if !c.expires.After(time.Unix(1, 0)) {
			c.expires = time.Unix(1, 0)
		}
	}
	if d := strings.ToLower(strings.TrimPrefix(hc.Domain, ".")); d != "" && d != host {
		if net.ParseIP(host) != nil || !domainMatch(host, d) {
			return nil, false
		}
		if ps, _ := publicsuffix.PublicSuffix(d); ps == d {
			return nil, false
		}
		c.domain = d
	} else {
		c.domain, c.hostOnly = host, d == ""
	}
	if !strings.HasPrefix(c.path, "/") {
		// The default path: the request path up to its last slash.
		c.path = "/"
		if i := strings.LastIndexByte(path, '/'); i > 0 {
			c.path = path[:i]
		}
	}
	return c, true
}

// writeLocked writes the file whole: a temporary file in its directory,
// renamed over it.
func (f *CookieFile) writeLocked() error {
	var b bytes.Buffer
	b.WriteString("# Netscape HTTP Cookie File\n# Written by wsloop (github.com/wsloop/websocket); curl reads it with -b and writes it with -c.\n\n")
	for _, c := range f.cookies {
		domain, sub := c.domain, "FALSE"
		if !c.hostOnly {
			domain, sub = "."+c.domain, "TRUE"
		}
		if c.httpOnly {
			domain = "#HttpOnly_" + domain
		}
		var exp int64
		if !c.expires.IsZero() {
			exp = c.expires.Unix()
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", domain, sub, c.path, strings.ToUpper(strconv.FormatBool(c.secure)), exp, c.name, c.value)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), filepath.Base(f.path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b.Bytes())
	err = firstErr(err, tmp.Chmod(0o600), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// canonicalCookieHost is the host of a URL's Host field, lower case,
// without port or brackets.
func canonicalCookieHost(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return strings.ToLower(strings.Trim(host, "[]"))
}

// domainMatch is RFC 6265 5.1.3: host is domain or ends with "."+domain,
// and is not an IP address.
func domainMatch(host, domain string) bool {
	if host == domain {
		return true
	}
	return strings.HasSuffix(host, "."+domain) && net.ParseIP(host) == nil
}

// pathMatch is RFC 6265 5.1.4.
func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == cookiePath {
		return true
	}
	if !strings.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
}
