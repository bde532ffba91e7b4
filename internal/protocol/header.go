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
	return int(headerSizes[b1])
}

// headerSizes is headerSize for every second byte, so that a header's
// length, worked out on the path of every frame, costs one load rather
// than branches on the length field and on the mask bit.
var headerSizes = func() (t [256]uint8) {
	for b1 := range t {
		n := 2
		switch b1 & bitsLen7 {
		case len7Ext16:
			n += 2
		case len7Ext64:
			n += 8
		}
		if b1&bitMask != 0 {
			n += 4 // the masking key follows the length
		}
		t[b1] = uint8(n)
	}
	return t
}()

// decodeHeader decodes a complete header of headerSize(b[1]) bytes whose
// first two bytes already passed checkStart, but for the masking key,
// which is its last four bytes when it has one (headerKey). A length not
// in its minimal encoding (RFC 6455 5.2: "the minimal number of bytes MUST
// be used") fails the connection with 1002, as Chromium does.
func decodeHeader(b []byte) (ws.Header, *Error) {
	h := ws.Header{
		Fin:    b[0]&bitFin != 0,
		Rsv:    (b[0] & bitsRsv) >> 4,
		OpCode: ws.OpCode(b[0] & bitsOp),
	}
	switch l := b[1] & bitsLen7; l {
	case len7Ext16:
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		if h.Length <= len7Max {
			return h, newError(codeProtocolError, reasonNotMinimal)
		}
	case len7Ext64:
		u := binary.BigEndian.Uint64(b[2:])
		if u>>63 != 0 {
			return h, newError(codeProtocolError, reasonLength)
		}
		if u <= 0xffff {
			return h, newError(codeProtocolError, reasonNotMinimal)
		}
		h.Length = int64(u)
	default:
		h.Length = int64(l)
	}
	return h, nil
}

// headerKey is the masking key of b, a whole masked header: its last four
// bytes.
func headerKey(b []byte) [4]byte {
	return [4]byte(b[len(b)-4:])
}

// putHeader encodes the header of a frame with first byte b0 (FIN, RSV1,
// opcode), an n-byte payload and the mask bit given (bitMask or 0) into b,
// which must have room for frameHeaderSize(n, mask != 0) bytes, followed
// by key when masked, and returns the header's length.
func putHeader(b []byte, b0 byte, n int, mask byte, key [4]byte) int {
	b[0] = b0
	i := 2
	switch {
	case n <= len7Max:
		b[1] = mask | byte(n)
	case n <= 0xffff:
		b[1] = mask | len7Ext16
		binary.BigEndian.PutUint16(b[2:], uint16(n))
		i = 4
	default:
		b[1] = mask | len7Ext64
		binary.BigEndian.PutUint64(b[2:], uint64(n))
		i = 10
	}
	if mask != 0 {
		*(*[4]byte)(b[i:]) = key
		i += 4
	}
	return i
}

// frameHeaderSize is the length of a header with a length field for an
// n-byte payload and, when masked, a masking key.
func frameHeaderSize(n int, masked bool) int {
	return ws.HeaderSize(ws.Header{Length: int64(n), Masked: masked})
}

// parseHeader reads back a header this package wrote, to walk the output
// buffer frame by frame in Advance without keeping a list of frames. It
// returns the header length, the payload length and whether the payload is
// message data (as opposed to a control frame).
func parseHeader(b []byte) (hdr, payload int, data bool) {
	data = ws.OpCode(b[0] & bitsOp).IsData()
	hdr = headerSize(b[1])
	switch l := b[1] & bitsLen7; l {
	case len7Ext16:
		return hdr, int(binary.BigEndian.Uint16(b[2:])), data
	case len7Ext64:
		return hdr, int(binary.BigEndian.Uint64(b[2:])), data
	default:
		return hdr, int(l), data
	}
}
