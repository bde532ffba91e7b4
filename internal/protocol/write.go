package protocol

import (
	"encoding/binary"
	"unsafe"

	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/internal/bufpool"
)

// WriteMessage queues p as one text (binary false) or binary message. p is
// copied into the output buffer (and masked there, in the client role),
// never changed in place, so the caller keeps its slice intact and may
// reuse it at once.
func (c *Conn) WriteMessage(binary bool, p []byte) error {
	if c.closeSent {
		return ErrClosed
	}
	if c.fragOpen {
		return ErrFragmentOpen
	}
	op := ws.OpText
	if binary {
		op = ws.OpBinary
	}
	if c.writeCompressed(op, p) {
		return nil
	}
	start, key := c.beginFrame(bitFin|byte(op), len(p))
	c.out = append(c.out, p...)
	c.endFrame(start, key)
	c.buffered += len(p)
	c.dataQueued = true
	return nil
}

// WriteText queues s as a text message. It exists so that a string can be
// sent without the allocation of converting it to a byte slice.
func (c *Conn) WriteText(s string) error {
	if c.closeSent {
		return ErrClosed
	}
	if c.fragOpen {
		return ErrFragmentOpen
	}
	// The compressor only reads the string's bytes.
	if c.writeCompressed(ws.OpText, unsafe.Slice(unsafe.StringData(s), len(s))) {
		return nil
	}
	start, key := c.beginFrame(bitFin|byte(ws.OpText), len(s))
	c.out = append(c.out, s...)
	c.endFrame(start, key)
	c.buffered += len(s)
	c.dataQueued = true
	return nil
}

// WritePing queues a ping with payload p.
func (c *Conn) WritePing(p []byte) error {
	return c.writeControl(ws.OpPing, p)
}

// WritePong queues a pong with payload p. Pongs answering the peer's pings
// are queued automatically; this is for unsolicited ones (heartbeats).
func (c *Conn) WritePong(p []byte) error {
	return c.writeControl(ws.OpPong, p)
}

// WriteClose queues a close frame and forbids further writes. Code 0 means
// "no status code" and sends an empty payload; reason is then dropped, as the
// wire format cannot carry a reason without a code. The code is not
// validated here (the driver does, with ValidWireCode, because the allowed
// set depends on who asks), but the payload must fit a control frame.
func (c *Conn) WriteClose(code uint16, reason string) error {
	if c.closeSent {
		return ErrClosed
	}
	if 2+len(reason) > ws.MaxControlFramePayloadSize {
		return ErrControlTooLong
	}
	c.queueClose(code, reason)
	return nil
}

// writeControl is WritePing and WritePong.
func (c *Conn) writeControl(op ws.OpCode, p []byte) error {
	if c.closeSent {
		return ErrClosed
	}
	if len(p) > ws.MaxControlFramePayloadSize {
		return ErrControlTooLong
	}
	c.queueControl(op, p)
	return nil
}

// queueControl queues a control frame without the checks of the public
// methods, for the automatic pong whose payload is known to fit.
func (c *Conn) queueControl(op ws.OpCode, p []byte) {
	start, key := c.beginFrame(bitFin|byte(op), len(p))
	c.out = append(c.out, p...)
	c.endFrame(start, key)
}

// queueClose queues a close frame and marks the close as sent. It trusts its
// arguments: they come from WriteClose's checks, from a received close code,
// or from this package's own short reasons.
func (c *Conn) queueClose(code uint16, reason string) {
	n := 0
	if code != 0 {
		n = 2 + len(reason)
	}
	start, key := c.beginFrame(bitFin|byte(ws.OpClose), n)
	if code != 0 {
		c.out = binary.BigEndian.AppendUint16(c.out, code)
		c.out = append(c.out, reason...)
	}
	c.endFrame(start, key)
	c.closeSent = true
}

// beginFrame appends the header of a frame with first byte b0 (FIN, RSV1,
// opcode) and an n-byte payload, masked in the client role, after making
// room for the whole frame so that appending the payload cannot
// reallocate. The caller appends exactly n payload bytes and then calls
// endFrame with the returned payload offset and key.
func (c *Conn) beginFrame(b0 byte, n int) (start int, key [4]byte) {
	key, mask := c.frameKey()
	hs := frameHeaderSize(n, mask != 0)
	c.reserve(hs + n)
	c.pongLen = 0 // the frame at the end is no longer a replaceable pong
	l := len(c.out)
	c.out = c.out[:l+hs]
	putHeader(c.out[l:], b0, n, mask, key)
	return l + hs, key
}

// endFrame masks the payload appended since beginFrame, in place in the
// output buffer (client role).
func (c *Conn) endFrame(start int, key [4]byte) {
	c.maskOut(c.out[start:], key)
}

// writeCompressed queues p as one compressed message (RSV1 on its frame)
// when permessage-deflate was negotiated, p reaches its threshold and
// compressing makes it smaller; it reports whether it did.
func (c *Conn) writeCompressed(op ws.OpCode, p []byte) bool {
	if c.z == nil || len(p) == 0 || len(p) < c.z.cfg.Threshold {
		return false
	}
	zp := c.z.compress(p, c.server)
	if zp == nil {
		return false
	}
	start, key := c.beginFrame(bitFin|bitRsv1|byte(op), len(zp))
	c.out = append(c.out, zp...)
	c.endFrame(start, key)
	bufpool.Put(zp)
	z := c.zOwn()
	c.buffered += len(p)
	c.dataQueued = true
	z.zlens = append(z.zlens, len(p))
	return true
}
