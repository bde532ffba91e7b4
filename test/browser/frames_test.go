package browser_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Opcodes, RFC 6455 section 5.2.
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// frame is one server frame, described bit by bit so that a scenario can
// break any rule of RFC 6455 section 5.
type frame struct {
	op      byte
	more    bool // FIN clear: more fragments follow
	rsv     byte // RSV1 = 4, RSV2 = 2, RSV3 = 1
	mask    bool // mask the payload, which a server must not do
	payload []byte
	// lenWidth forces the length encoding: 2 for 16 bits, 8 for 64 bits; 0
	// means the shortest, as RFC 6455 requires.
	lenWidth int
	// claim, when not zero, is the length announced instead of
	// len(payload).
	claim uint64
}

func (f frame) bytes() []byte {
	b0 := f.op&0xf | (f.rsv&7)<<4
	if !f.more {
		b0 |= 0x80
	}
	n := uint64(len(f.payload))
	if f.claim != 0 {
		n = f.claim
	}
	width := f.lenWidth
	if width == 0 {
		switch {
		case n < 126:
			width = 0
		case n <= 0xffff:
			width = 2
		default:
			width = 8
		}
	}
	var b1 byte
	if f.mask {
		b1 = 0x80
	}
	out := []byte{b0}
	switch width {
	case 0:
		out = append(out, b1|byte(n))
	case 2:
		out = append(out, b1|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	case 8:
		out = append(out, b1|127)
		out = binary.BigEndian.AppendUint64(out, n)
	}
	p := bytes.Clone(f.payload)
	if f.mask {
		key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
		out = append(out, key[:]...)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return append(out, p...)
}

func textFrame(s string) []byte   { return frame{op: opText, payload: []byte(s)}.bytes() }
func binaryFrame(p []byte) []byte { return frame{op: opBinary, payload: p}.bytes() }
func pingFrame(s string) []byte   { return frame{op: opPing, payload: []byte(s)}.bytes() }
func pongFrame(s string) []byte   { return frame{op: opPong, payload: []byte(s)}.bytes() }

// fragment is a data frame or continuation; last sets FIN.
func fragment(op byte, last bool, s string) []byte {
	return frame{op: op, more: !last, payload: []byte(s)}.bytes()
}

// closeFrame is a close frame with a status code and reason.
func closeFrame(code uint16, reason string) []byte {
	return closePayload(append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// closePayload is a close frame with any payload, valid or not.
func closePayload(p []byte) []byte { return frame{op: opClose, payload: p}.bytes() }

// clientFrame is one frame as the client put it on the wire, unmasked.
type clientFrame struct {
	fin     bool
	rsv     byte
	op      byte
	masked  bool
	payload []byte
}

// assembler turns the client's frames into the lines of a wire record:
// whole messages (however the client fragmented them) and control frames,
// in order, each marked when it broke a rule a client must keep.
type assembler struct {
	msgOp  byte
	msgZ   bool // the message's first frame had RSV1, with inflate set
	msg    []byte
	frames int // data frames in the message being assembled
	// inflate, once the server has accepted permessage-deflate, reads
	// messages whose first frame has RSV1 as compressed: their line reads
	// "deflated" and shows the message inflated.
	inflate *inflater
	// sizes notes each compressed message's size on the wire and
	// inflated, "wire→inflated", for the record's log.
	sizes []string
}

func (a *assembler) add(f clientFrame) (line string, ok bool) {
	var flags []string
	if !f.masked {
		flags = append(flags, "UNMASKED")
	}
	// RSV1 on the first frame of a data message is permessage-deflate's
	// mark, once negotiated: the message's line says "deflated" instead.
	compressed := a.inflate != nil && f.rsv == 4 && (f.op == opText || f.op == opBinary) && a.frames == 0
	if f.rsv != 0 && !compressed {
		flags = append(flags, fmt.Sprintf("RSV=%d", f.rsv))
	}
	mark := ""
	if len(flags) > 0 {
		mark = strings.Join(flags, ",") + " "
	}
	switch f.op {
	case opText, opBinary:
		if a.frames > 0 {
			return mark + "data frame inside a fragmented message", true
		}
		a.msgOp, a.msgZ, a.msg = f.op, compressed, append([]byte(nil), f.payload...)
	case opCont:
		if a.frames == 0 {
			return mark + "continuation without a message", true
		}
		a.msg = append(a.msg, f.payload...)
	case opClose:
		return mark + describeClose(f.payload), true
	case opPing:
		return mark + "ping " + describeControl(f.payload), true
	case opPong:
		return mark + "pong " + describeControl(f.payload), true
	default:
		return mark + fmt.Sprintf("opcode %#x", f.op), true
	}
	a.frames++
	if !f.fin {
		return "", false
	}
	a.frames = 0
	if a.msgZ {
		p, err := a.inflate.inflate(a.msg)
		if err != nil {
			return fmt.Sprintf("%sdeflated, does not inflate (%v)", mark, err), true
		}
		a.sizes = append(a.sizes, fmt.Sprintf("%d→%d", len(a.msg), len(p)))
		a.msg = p
		mark += "deflated "
	}
	if a.msgOp == opText {
		if len(a.msg) > smallData {
			return mark + "text " + describeData(a.msg, false), true
		}
		return fmt.Sprintf("%stext %q", mark, a.msg), true
	}
	return mark + "binary " + describeData(a.msg, true), true
}

// describeControl renders a ping or pong payload.
func describeControl(p []byte) string {
	if len(p) > smallData {
		return describeData(p, true)
	}
	return fmt.Sprintf("%q", p)
}

// describeClose renders a close frame's payload.
func describeClose(p []byte) string {
	switch len(p) {
	case 0:
		return "close (no payload)"
	case 1:
		return fmt.Sprintf("close (1 byte %#x)", p[0])
	}
	return fmt.Sprintf("close %d %q", binary.BigEndian.Uint16(p), p[2:])
}
