package dial

import (
	"net/http"
	"net/url"

	"github.com/wsloop/websocket/internal/weburl"
)

// cookieURL is the URL a cookie jar sees for a WebSocket URL: its http or
// https twin, as browsers match WebSocket cookies (RFC 6455 4.1, item 12).
func cookieURL(u *weburl.URL) *url.URL {
	scheme := "http"
	if u.Scheme == "wss" {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: u.HostPort(), Path: u.Path}
}

// withCookies is header with cookies added to its Cookie header (after one
// the caller set), or header itself when there are none.
func withCookies(header http.Header, cookies []*http.Cookie) http.Header {
	if len(cookies) == 0 {
		return header
	}
	r := &http.Request{Header: header.Clone()}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r.Header
}

// responseHeader is the header of the response the server gave, 101 or
// not, or nil when none was read whole.
func responseHeader(hc *headConn) http.Header {
	if hc.refusal != nil {
		return hc.refusal.header
	}
	if hc.head != nil {
		return ParseHeader(hc.head)
	}
	return nil
}

// storeCookies gives the jar the response's Set-Cookie lines; a line that
// is not a cookie is ignored, as a browser ignores it.
func storeCookies(jar http.CookieJar, u *weburl.URL, h http.Header) {
	lines := h.Values("Set-Cookie")
	if len(lines) == 0 {
		return
	}
	var cookies []*http.Cookie
	for _, l := range lines {
		if c, err := http.ParseSetCookie(l); err == nil {
			cookies = append(cookies, c)
		}
	}
	if len(cookies) > 0 {
		jar.SetCookies(cookieURL(u), cookies)
	}
}
