package websocket

import (
	"strconv"
	"strings"

	"github.com/wsloop/websocket/internal/weburl"
)

// parseURL applies the WHATWG constructor's URL steps: the URL standard's
// parser (internal/weburl), http and https mapped to ws and wss, anything
// else but ws and wss refused, and so is a URL with a fragment. Go has no
// document base URL, so a relative URL is refused too.
func parseURL(raw string) (*weburl.URL, error) {
	u, err := weburl.Parse(raw)
	if weburl.IsUnsupportedScheme(err) {
		return nil, &SyntaxError{Msg: "URL " + strconv.Quote(raw) + ": the scheme is not ws, wss, http or https"}
	}
	if err != nil {
		return nil, &SyntaxError{Msg: err.Error()}
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	if u.HasFragment {
		return nil, &SyntaxError{Msg: "URL " + strconv.Quote(raw) + " has a fragment"}
	}
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
