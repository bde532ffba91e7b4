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

// Close codes (RFC 6455 section 7.4 and the IANA registry). Only
// CloseNormal and 3000-4999 may be passed to CloseWith, as in a browser.
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

// checkCloseArgs validates CloseWith's arguments as the browser's close()
// does: an InvalidAccessError for a code other than 1000 or 3000-4999, a
// SyntaxError for a reason longer than 123 bytes. A Go string can hold what
// a JavaScript string cannot (bytes that are not UTF-8): that is a
// SyntaxError too, since it cannot be sent.
func checkCloseArgs(code int, reason string) error {
	if code != CloseNormal && (code < 3000 || code > 4999) {
		return &InvalidAccessError{Code: code}
	}
	if len(reason) > maxCloseReason {
		return &SyntaxError{Msg: "close reason longer than 123 bytes of UTF-8"}
	}
	if !utf8.ValidString(reason) {
		return &SyntaxError{Msg: "close reason is not valid UTF-8"}
	}
	return nil
}
