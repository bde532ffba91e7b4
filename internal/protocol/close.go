package protocol

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// ParseClosePayload parses and validates the payload of a received close
// frame: an empty payload yields (0, "", nil); a 1-byte payload or a code
// that may not appear on the wire fails with 1002; a reason that is not UTF-8
// fails with 1007. It is exported so the driver applies exactly the rules the
// core does, for instance to a close frame it builds in tests.
func ParseClosePayload(p []byte) (code uint16, reason string, err *Error) {
	switch len(p) {
	case 0:
		return 0, "", nil
	case 1:
		return 0, "", newError(codeProtocolError, reasonCloseOneByte)
	}
	code = binary.BigEndian.Uint16(p)
	if !ValidWireCode(code) {
		return 0, "", newError(codeProtocolError, reasonCloseCode)
	}
	if !validUTF8(p[2:]) {
		return 0, "", newError(codeInvalidData, reasonCloseUTF8)
	}
	return code, string(p[2:]), nil
}

// ValidWireCode reports whether code may appear in a close frame on the wire:
// 1000-1003 and 1007-1014 (defined or registered by the protocol) and
// 3000-4999 (libraries, frameworks and applications). Everything else is
// either unassigned or, like 1005, 1006 and 1015, reserved for reporting a
// closure locally, so a peer that sends it is broken. The driver uses it to
// vet the code an application passes to close().
func ValidWireCode(code uint16) bool {
	s := ws.StatusCode(code)
	switch {
	case s >= ws.StatusNormalClosure && s <= ws.StatusUnsupportedData:
		return true
	case s >= ws.StatusInvalidFramePayloadData && s <= 1014:
		return true
	}
	return s.IsApplicationSpec() || s.IsPrivateSpec()
}
