package protocol

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// Headers are decoded from and encoded into byte slices here rather than with
// ws.ReadHeader and ws.WriteHeader: those work on an io.Reader or io.Writer
// and allocate a scratch buffer per call, while the core has no stream, must
// cope with a header split across Next calls at any byte, and must not
// allocate per frame. Decoding is incremental in two steps: the first two
// bytes alone decide whether the frame is acceptable and how long the header
// is (checkStart and headerSize), and the rest is decoded once all of it is
// present (decodeHeader), either in place in the caller's slice or from
// Conn.hdr when it straddled Next calls. The functions here serve both
// roles: whether a header carries a masking key is read from its mask bit,
// which checkStart has already held to the role.

// Bits of the first two header bytes.
const (
	bitFin    = 0x80
	bitsRsv   = 0x70
	bitRsv1   = 0x40
	bitsOp    = 0x0f
	bitMask   = 0x80
	bitsLen7  = 0x7f
	len7Max   = 125 // largest length carried in the 7-bit field
	len7Ext16 = 126 // marker: a 16-bit length follows
	len7Ext64 = 127 // marker: a 64-bit length follows
)

// maxHeader is the longest header a frame can have: two bytes, a 64-bit
// length and a masking key. Conn.hdr is sized by it.
const maxHeader = 14

// headerSize returns the length of a header from its second byte.
func headerSize(b1 byte) int {
	n := 2 + 4*int(b1>>7) // the masking key follows the length
	switch b1 & bitsLen7 {
	case len7Ext16:
		return n + 2
	case len7Ext64:
		return n + 8
	}
	return n
}

// decodeHeader decodes a complete header of headerSize(b[1]) bytes whose
// first two bytes already passed checkStart. A length not in its minimal
// encoding (RFC 6455 5.2: "the minimal number of bytes MUST be used")
// fails the connection with 1002, as Chromium does.
func decodeHeader(b []byte) (ws.Header, *Error) {
	h := ws.Header{
		Fin:    b[0]&bitFin != 0,
		Rsv:    (b[0] & bitsRsv) >> 4,
		OpCode: ws.OpCode(b[0] & bitsOp),
	}
	i := 2 // where the masking key, if any, begins
	switch l := b[1] & bitsLen7; l {
	case len7Ext16:
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		if h.Length <= len7Max {
			return h, newError(codeProtocolError, reasonNotMinimal)
		}
		i = 4
	case len7Ext64:
		u := binary.BigEndian.Uint64(b[2:])
		if u>>63 != 0 {
			return h, newError(codeProtocolError, reasonLength)
		}
		if u <= 0xffff {
			return h, newError(codeProtocolError, reasonNotMinimal)
		}
		h.Length = int64(u)
		i = 10
	default:
		h.Length = int64(l)
	}
	if b[1]&bitMask != 0 {
		h.Masked, h.Mask = true, [4]byte(b[i:i+4])
	}
	return h, nil
}

// putHeader encodes the header of a frame with first byte b0 (FIN, RSV1,
// opcode) and an n-byte payload into b, which must have room for
// frameHeaderSize(n, masked) bytes, and returns the header's length. key
// is written only when masked.
func putHeader(b []byte, b0 byte, n int, masked bool, key [4]byte) int {
	b[0] = b0
	var m byte
	if masked {
		m = bitMask
	}
	i := 2
	switch {
	case n <= len7Max:
		b[1] = m | byte(n)
	case n <= 0xffff:
		b[1] = m | len7Ext16
		binary.BigEndian.PutUint16(b[2:], uint16(n))
		i = 4
	default:
		b[1] = m | len7Ext64
		binary.BigEndian.PutUint64(b[2:], uint64(n))
		i = 10
	}
	if !masked {
		return i
	}
	copy(b[i:i+4], key[:])
	return i + 4
}

// frameHeaderSize is the length of the header putHeader writes.
func frameHeaderSize(n int, masked bool) int {
	return ws.HeaderSize(ws.Header{Length: int64(n), Masked: masked})
}

// parseHeader reads back a header this package wrote, to walk the output
// buffer frame by frame in Advance without keeping a list of frames. It
// returns the header length, the payload length and whether the payload is
// message data (as opposed to a control frame).
func parseHeader(b []byte) (hdr, payload int, data bool) {
	data = ws.OpCode(b[0] & bitsOp).IsData()
	key := 4 * int(b[1]>>7)
	switch l := b[1] & bitsLen7; l {
	case len7Ext16:
		return 4 + key, int(binary.BigEndian.Uint16(b[2:])), data
	case len7Ext64:
		return 10 + key, int(binary.BigEndian.Uint64(b[2:])), data
	default:
		return 2 + key, int(l), data
	}
}
