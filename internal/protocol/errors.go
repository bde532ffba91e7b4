package protocol

import (
	"errors"
	"strconv"

	"github.com/gobwas/ws"
)

// Close codes the core fails a connection with.
const (
	codeProtocolError = uint16(ws.StatusProtocolError)
	codeInvalidData   = uint16(ws.StatusInvalidFramePayloadData)
	codeTooBig        = uint16(ws.StatusMessageTooBig)
)

// Reasons for failing the connection. They are sent in the close frame too,
// so each must stay valid UTF-8 and within 123 bytes (a test checks).
const (
	reasonMasked            = "masked frame from server"
	reasonUnmasked          = "unmasked frame from client"
	reasonRsv               = "reserved bits set without a negotiated extension"
	reasonOpcode            = "reserved opcode"
	reasonFragmentedControl = "fragmented control frame"
	reasonControlTooLong    = "control frame payload over 125 bytes"
	reasonCloseOneByte      = "close frame payload of 1 byte"
	reasonLength            = "frame length with the most significant bit set"
	reasonNotMinimal        = "frame length not in its minimal encoding"
	reasonContinuation      = "continuation frame outside a fragmented message"
	reasonDataInFragmented  = "new data frame inside a fragmented message"
	reasonCloseCode         = "invalid close code"
	reasonAfterClose        = "data after the close frame"
	reasonCloseUTF8         = "close reason is not valid UTF-8"
	reasonUTF8              = "invalid UTF-8 in text message"
	reasonUTF8Truncated     = "text message ends inside a UTF-8 sequence"
	reasonTooBig            = "message exceeds the size limit"
	reasonRsv1              = "RSV1 on a control or continuation frame"
	reasonInflate           = "compressed message is not valid deflate data"
)

// Error is a protocol violation by the peer. Code is the close code the Conn
// sends for it: 1002 (protocol error), 1007 (invalid payload data) or 1009
// (message too big). The driver can use it for the close event it reports
// locally, since the peer never sees this end's view otherwise.
type Error struct {
	Code   uint16
	Reason string
}

// Error formats the violation for logs.
func (e *Error) Error() string {
	return "websocket: protocol error " + strconv.Itoa(int(e.Code)) + ": " + e.Reason
}

// newError returns a fresh *Error so that no two connections share one
// mutable value.
func newError(code uint16, reason string) *Error {
	return &Error{Code: code, Reason: reason}
}

// ErrClosed is returned by the write methods once a close frame has been
// queued or the connection has failed: RFC 6455 forbids sending data after a
// close frame.
var ErrClosed = errors.New("websocket: close frame already sent")

// ErrControlTooLong is returned when a ping, pong or close payload would
// exceed the 125 bytes RFC 6455 allows for control frames.
var ErrControlTooLong = errors.New("websocket: control frame payload over 125 bytes")
