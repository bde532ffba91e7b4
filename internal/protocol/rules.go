package protocol

import "github.com/gobwas/ws"

// checkStart applies every framing rule that the first two header bytes
// decide, so that a broken frame fails the connection as soon as they arrive
// rather than after the rest of the header. It has no side effects, so it
// may safely run twice on the same bytes when a header straddles Next calls.
func (c *Conn) checkStart(b0, b1 byte) *Error {
	op := ws.OpCode(b0 & bitsOp)
	switch {
	case (b1&bitMask != 0) != c.server:
		return c.maskError()
	case (b0&bitsRsv)>>4&^c.allowedRsv != 0:
		return newError(codeProtocolError, reasonRsv)
	case op.IsReserved():
		return newError(codeProtocolError, reasonOpcode)
	case b0&bitRsv1 != 0 && (op.IsControl() || op == ws.OpContinuation):
		// RFC 7692 6: RSV1 marks a compressed message on its first frame
		// only.
		return newError(codeProtocolError, reasonRsv1)
	}
	if op.IsControl() {
		switch l := b1 & bitsLen7; {
		case b0&bitFin == 0:
			return newError(codeProtocolError, reasonFragmentedControl)
		case l > ws.MaxControlFramePayloadSize:
			return newError(codeProtocolError, reasonControlTooLong)
		case op == ws.OpClose && l == 1:
			// A close payload starts with a 2-byte code: one byte is
			// malformed, and is known to be as soon as the length is.
			return newError(codeProtocolError, reasonCloseOneByte)
		}
		return nil
	}
	if op == ws.OpContinuation {
		if c.msgOp == 0 {
			return newError(codeProtocolError, reasonContinuation)
		}
	} else if c.msgOp != 0 {
		return newError(codeProtocolError, reasonDataInFragmented)
	}
	return nil
}
