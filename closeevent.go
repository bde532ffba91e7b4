package websocket

import (
	"unicode/utf8"
)

// CloseEvent fires once, last, when the connection is closed, whether the
// close was clean, initiated by either side, or a failure.
type CloseEvent struct {
	Target *WebSocket
	// Code is the status code the server sent in its close frame, 1005
	// (CloseNoStatus) when its close frame had none, or 1006
	// (CloseAbnormal) when the connection ended without a closing
	// handshake.
	Code int
	// Reason is the server's close reason, possibly empty.
	Reason string
	// WasClean reports whether the closing handshake completed.
	WasClean bool
}

// Close codes (RFC 6455 section 7.4 and the IANA registry). CloseWith
// takes those a client may send: 1000-1003, 1007-1010 and 3000-4999 (a
// browser only 1000 and 3000-4999).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	// CloseNoStatus is reported when the server's close frame had no code;
	// it never appears on the wire.
	CloseNoStatus = 1005
	// CloseAbnormal is reported when the connection ended without a
	// closing handshake; it never appears on the wire.
	CloseAbnormal           = 1006
	CloseInvalidPayload     = 1007
	ClosePolicyViolation    = 1008
	CloseMessageTooBig      = 1009
	CloseMandatoryExtension = 1010
	CloseInternalError      = 1011
	CloseServiceRestart     = 1012
	CloseTryAgainLater      = 1013
	CloseBadGateway         = 1014
)

// maxCloseReason is the longest close reason, in bytes of UTF-8, that fits a
// control frame beside the two-byte code.
const maxCloseReason = 123

// clientCloseCode reports whether a client may send code (RFC 6455 7.4.1):
// 1000-1003 and 1007-1010, and 3000-4999 for libraries and applications.
// 1004-1006 and 1015 are never sent; 1011-1014 are the server's.
func clientCloseCode(code int) bool {
	switch {
	case code >= CloseNormal && code <= CloseUnsupportedData,
		code >= CloseInvalidPayload && code <= CloseMandatoryExtension,
		code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// serverCloseCode reports whether a server may send code: 1000-1003,
// 1007-1009 and 1011-1014 (1010 is the client's: an extension the server
// did not agree to), and 3000-4999.
func serverCloseCode(code int) bool {
	return code != CloseMandatoryExtension && (clientCloseCode(code) || code >= CloseInternalError && code <= CloseBadGateway)
}

// checkCloseArgs validates CloseWith's arguments as the browser's close()
// does, with RFC 6455's client codes: an InvalidAccessError for a code a
// client may not send, a
// SyntaxError for a reason longer than 123 bytes. A Go string can hold what
// a JavaScript string cannot (bytes that are not UTF-8): that is a
// SyntaxError too, since it cannot be sent.
func checkCloseArgs(code int, reason string, server bool) error {
	if server && !serverCloseCode(code) || !server && !clientCloseCode(code) {
		return &InvalidAccessError{Code: code, Server: server}
	}
	if len(reason) > maxCloseReason {
		return &SyntaxError{Msg: "close reason longer than 123 bytes of UTF-8"}
	}
	if !utf8.ValidString(reason) {
		return &SyntaxError{Msg: "close reason is not valid UTF-8"}
	}
	return nil
}
