package protocol

import (
	"slices"

	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/internal/bufpool"
)

// CarryOver moves the messages c has queued but not wholly written into
// next, the fresh state of the connection that replaces c's after a
// reconnect (of c's role, with nothing queued yet): the message being
// written when c's connection died is queued again whole, since its peer
// never got all of it. Control frames are dropped: their moment has
// passed. A message whose first frame was written (one sent in fragments)
// cannot be resumed on another connection: its remaining frames are
// dropped and their payload counted in lost; when that message is
// unfinished (WriteFragment has not ended it), interrupted is set, and its
// writer must be told. An unfinished message carried whole stays open in
// next, for its writer to go on. c is left for Discard, which then counts
// nothing as unwritten.
func (c *Conn) CarryOver(next *Conn) (carried, lost int, interrupted bool) {
	var moved []byte
	first, dropping, lastFin := true, false, true
	walk := func(b []byte) {
		for len(b) > 0 {
			h, pl, data := parseHeader(b)
			frame := b[:h+pl]
			b = b[h+pl:]
			if !data {
				continue
			}
			if first {
				// Only the first message can have begun on c's
				// connection: every other is whole in the queue.
				first = false
				dropping = ws.OpCode(frame[0]&bitsOp) == ws.OpContinuation
			}
			fin := frame[0]&bitFin != 0
			if dropping {
				lost += pl
				dropping = !fin
				continue
			}
			if frame[0]&bitRsv1 != 0 {
				// Compressed for c's connection, whose negotiation the
				// next may not share: it goes again uncompressed.
				plain, ok := c.z.inflateFrame(frame, h)
				if !ok {
					lost += c.z.zlens[0] // cannot happen: we compressed it
				} else {
					moved = c.appendFrame(moved, frame[0]&^bitRsv1, plain)
					carried += len(plain)
					bufpool.Put(plain)
				}
				c.z.zlens = c.z.zlens[1:]
				lastFin = fin
				continue
			}
			moved = append(moved, frame...)
			carried += pl
			lastFin = fin
		}
	}
	start := c.head
	if c.hdrLeft > 0 || c.payLeft > 0 {
		start = c.frameStart // the frame at head again, whole
	}
	for _, b := range c.backlog() {
		walk(b[start:])
		start = 0
	}
	walk(c.out[start:])
	if len(moved) > 0 {
		next.reserve(len(moved))
		next.out = append(next.out, moved...)
		next.pongLen = 0
		next.buffered += carried
	}
	c.buffered = 0 // next counts it now, or it is lost
	if c.fragOpen {
		interrupted = first || dropping // nothing of it left, or only its tail
		next.fragOpen = !interrupted && !lastFin
	}
	return carried, lost, interrupted
}

// appendFrame appends a frame with first byte b0 (FIN and opcode) and
// payload p, masked with a new key in the client role.
func (c *Conn) appendFrame(dst []byte, b0 byte, p []byte) []byte {
	key, mask := c.frameKey()
	hs := frameHeaderSize(len(p), mask != 0)
	l := len(dst)
	dst = slices.Grow(dst, hs+len(p))[:l+hs]
	putHeader(dst[l:], b0, len(p), mask, key)
	dst = append(dst, p...)
	c.maskOut(dst[l+hs:], key)
	return dst
}
