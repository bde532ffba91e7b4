package protocol

import "github.com/gobwas/ws"

// CarryOver moves the messages c has queued but not wholly written into
// next, the fresh state of the connection that replaces c's after a
// reconnect (nothing may be queued in next yet): the message being
// written when c's connection died is queued again whole, since its server
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
			h, pl, data := parseClientHeader(b)
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
