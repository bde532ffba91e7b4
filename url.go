package websocket

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseURL applies the WHATWG constructor's URL steps: http and https are
// mapped to ws and wss, anything else but ws and wss is refused, and so is
// a URL with a fragment. Go has no document base URL, so a relative URL is
// refused too.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &SyntaxError{Msg: "invalid URL " + strconv.Quote(raw) + ": " + err.Error()}
	}
	if !u.IsAbs() {
		return nil, &SyntaxError{Msg: "relative URL " + strconv.Quote(raw) + ": a WebSocket needs an absolute ws:// or wss:// URL"}
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	default:
		return nil, &SyntaxError{Msg: "URL scheme " + strconv.Quote(u.Scheme) + " is not ws, wss, http or https"}
	}
	if strings.Contains(raw, "#") {
		return nil, &SyntaxError{Msg: "URL " + strconv.Quote(raw) + " has a fragment"}
	}
	if !utf8.ValidString(u.Host) || strings.Contains(u.Host, "%") {
		// The WHATWG URL parser has no IPv6 zones and no hosts that are
		// not UTF-8.
		return nil, &SyntaxError{Msg: "URL " + strconv.Quote(raw) + " has an invalid host"}
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, &SyntaxError{Msg: "URL " + strconv.Quote(raw) + " has no host"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n > 65535 {
			return nil, &SyntaxError{Msg: "URL " + strconv.Quote(raw) + " has an invalid port"}
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

// checkProtocols applies the constructor's protocol steps: each protocol is
// a non-empty RFC 7230 token and none appears twice.
func checkProtocols(protocols []string) error {
	for i, p := range protocols {
		if p == "" {
			return &SyntaxError{Msg: "empty protocol"}
		}
		for j := 0; j < len(p); j++ {
			if !isTokenChar(p[j]) {
				return &SyntaxError{Msg: "protocol " + strconv.Quote(p) + " is not a token"}
			}
		}
		for _, q := range protocols[:i] {
			if q == p {
				return &SyntaxError{Msg: "protocol " + strconv.Quote(p) + " appears twice"}
			}
		}
	}
	return nil
}

// isTokenChar reports whether c may appear in an RFC 7230 token.
func isTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(c))
}
