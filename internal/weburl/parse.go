// Package weburl parses URLs as the WHATWG URL standard's basic URL parser
// does (https://url.spec.whatwg.org/#concept-basic-url-parser), for the
// special schemes a WebSocket can be given: ws, wss, http and https. It
// runs with no base URL and no state override, which is how the WebSocket
// constructor runs it in a Go program (there is no document to resolve
// against).
//
// net/url follows RFC 3986 and differs where a browser is observable: it
// keeps dot segments and default ports, sends a query's raw bytes, refuses
// ws:host forms and leaves hosts as written. This package gives the
// browser's serialization, which is also what goes on the request line.
package weburl

import (
	"strconv"
	"strings"
)

// URL is a parsed URL record, serialized.
type URL struct {
	Scheme   string // lower case: ws, wss, http or https
	Username string // percent-encoded
	Password string // percent-encoded
	// Host is the serialized host: a lower-case ASCII domain (after IDNA),
	// a dotted IPv4 address or a bracketed, compressed IPv6 address.
	Host string
	// Port is the port in decimal, "" when the URL has none or gives the
	// scheme's default.
	Port string
	Path string // serialized, never empty: it starts with "/"
	// Query is the query without its "?"; HasQuery tells "?" from none.
	Query    string
	HasQuery bool
	// Fragment is the fragment without its "#"; HasFragment tells "#"
	// from none.
	Fragment    string
	HasFragment bool
}

// Error is a parse failure: the standard's "return failure".
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string { return "invalid URL " + strconv.Quote(e.Input) + ": " + e.Reason }

// reasonScheme marks a URL whose scheme this parser does not take: the
// caller decides what that means.
const reasonScheme = "the scheme is not ws, wss, http or https"

// IsUnsupportedScheme reports whether err is a failure only because the
// scheme is not one of the four this package parses.
func IsUnsupportedScheme(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Reason == reasonScheme
}

// Href is the URL's serialization.
func (u *URL) Href() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.Username != "" || u.Password != "" {
		b.WriteString(u.Username)
		if u.Password != "" {
			b.WriteByte(':')
			b.WriteString(u.Password)
		}
		b.WriteByte('@')
	}
	b.WriteString(u.HostPort())
	b.WriteString(u.RequestTarget())
	if u.HasFragment {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

// HostPort is the host with its port when the URL has one: the value of
// the Host header a browser sends.
func (u *URL) HostPort() string {
	if u.Port == "" {
		return u.Host
	}
	return u.Host + ":" + u.Port
}

// RequestTarget is the path and the query: what a browser puts on the
// request line.
func (u *URL) RequestTarget() string {
	if !u.HasQuery {
		return u.Path
	}
	return u.Path + "?" + u.Query
}

// DefaultPort is the scheme's default port.
func (u *URL) DefaultPort() string {
	if u.Scheme == "wss" || u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// Parse runs the basic URL parser on s with no base URL. A URL whose scheme
// is not ws, wss, http or https fails with an *Error for which
// IsUnsupportedScheme is true. Bytes of s that are not UTF-8 are taken as
// U+FFFD, as a JavaScript string's lone surrogates are.
func Parse(s string) (*URL, error) {
	p := parser{input: s}
	return p.parse()
}

type parser struct {
	input string
	u     URL
}

func (p *parser) fail(reason string) (*URL, error) {
	return nil, &Error{Input: p.input, Reason: reason}
}

// Code points the standard strips at both ends, and tabs and newlines it
// removes everywhere.
func isC0OrSpace(r rune) bool    { return r <= ' ' }
func isTabOrNewline(r rune) bool { return r == '\t' || r == '\n' || r == '\r' }

// isSlash is the end of a path segment, which in a special URL is a
// backslash too.
func isSlash(r rune) bool { return r == '/' || r == '\\' }

func isASCIIAlpha(r rune) bool { return r|0x20 >= 'a' && r|0x20 <= 'z' }
func isASCIIDigit(r rune) bool { return r >= '0' && r <= '9' }

func (p *parser) parse() (*URL, error) {
	in := strings.TrimFunc(p.input, isC0OrSpace)
	if strings.ContainsFunc(in, isTabOrNewline) {
		in = strings.Map(func(r rune) rune {
			if isTabOrNewline(r) {
				return -1
			}
			return r
		}, in)
	}

	// Scheme start and scheme states. With no base URL, anything but a
	// scheme followed by ":" is a failure: a relative URL.
	colon := -1
	for i := 0; i < len(in); i++ {
		c := rune(in[i])
		if c == ':' && i > 0 {
			colon = i
			break
		}
		if !isASCIIAlpha(c) && (i == 0 || !isASCIIDigit(c) && c != '+' && c != '-' && c != '.') {
			break
		}
	}
	if colon < 0 {
		return p.fail("no scheme: a relative URL, and there is no base URL to resolve it against")
	}
	p.u.Scheme = strings.ToLower(in[:colon])
	switch p.u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return p.fail(reasonScheme)
	}
	rest := in[colon+1:]

	// Special authority slashes and ignore slashes states: any run of
	// slashes and backslashes, including none, leads to the authority.
	rest = strings.TrimLeft(rest, `/\`)

	// Authority state: the authority runs to the first /, \, ? or #; its
	// last @ ends the userinfo.
	end := strings.IndexAny(rest, `/\?#`)
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	rest = rest[end:]
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		if at == len(auth)-1 {
			return p.fail("credentials with no host")
		}
		user, pass, hasPass := strings.Cut(auth[:at], ":")
		p.u.Username = percentEncode(user, userinfoSet)
		if hasPass {
			p.u.Password = percentEncode(pass, userinfoSet)
		}
		auth = auth[at+1:]
	}

	// Host state: a colon outside brackets starts the port.
	hostEnd := len(auth)
	inBrackets := false
	for i := 0; i < len(auth); i++ {
		switch auth[i] {
		case '[':
			inBrackets = true
		case ']':
			inBrackets = false
		case ':':
			if !inBrackets && hostEnd == len(auth) {
				hostEnd = i
			}
		}
	}
	if hostEnd == 0 {
		return p.fail("no host")
	}
	host, reason := parseHost(auth[:hostEnd])
	if reason != "" {
		return p.fail(reason)
	}
	p.u.Host = host
	if hostEnd < len(auth) {
		port, reason := parsePort(auth[hostEnd+1:])
		if reason != "" {
			return p.fail(reason)
		}
		if port != p.u.DefaultPort() {
			p.u.Port = port
		}
	}

	// Path start and path states, up to the query or the fragment.
	pathEnd := strings.IndexAny(rest, "?#")
	if pathEnd < 0 {
		pathEnd = len(rest)
	}
	p.u.Path = parsePath(rest[:pathEnd])
	rest = rest[pathEnd:]

	// Query state.
	if strings.HasPrefix(rest, "?") {
		q := rest[1:]
		qEnd := strings.IndexByte(q, '#')
		if qEnd < 0 {
			qEnd = len(q)
		}
		p.u.Query = percentEncode(q[:qEnd], specialQuerySet)
		p.u.HasQuery = true
		rest = q[qEnd:]
	}

	// Fragment state.
	if strings.HasPrefix(rest, "#") {
		p.u.Fragment = percentEncode(rest[1:], fragmentSet)
		p.u.HasFragment = true
	}
	return &p.u, nil
}

// parsePort is the port state on the digits after the host's colon: ""
// for none, else the port in decimal with no leading zeros.
func parsePort(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isASCIIDigit(rune(s[i])) {
			return "", "the port is not a number"
		}
		n = n*10 + int(s[i]-'0')
		if n > 65535 {
			return "", "the port is greater than 65535"
		}
	}
	return strconv.Itoa(n), ""
}

// parsePath is the path start and path states for a special URL: the
// segments split on / and \, each percent-encoded, with "." and ".."
// segments (also spelled with %2e) applied.
func parsePath(s string) string {
	if s != "" && isSlash(rune(s[0])) {
		s = s[1:]
	}
	var segs []string
	for {
		i := strings.IndexAny(s, `/\`)
		seg := s
		if i >= 0 {
			seg = s[:i]
		}
		last := i < 0
		switch {
		case isDoubleDot(seg):
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
			if last {
				segs = append(segs, "")
			}
		case isSingleDot(seg):
			if last {
				segs = append(segs, "")
			}
		default:
			segs = append(segs, percentEncode(seg, pathSet))
		}
		if last {
			break
		}
		s = s[i+1:]
	}
	return "/" + strings.Join(segs, "/")
}

func isSingleDot(s string) bool { return s == "." || strings.EqualFold(s, "%2e") }

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}
