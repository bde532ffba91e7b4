package protocol

import "github.com/gobwas/ws"

// controlPayload handles the next chunk of a control frame's payload. Control
// payloads are at most 125 bytes, so one that straddles Next calls is
// collected whole in c.ctrl, sized exactly, which then becomes the event's
// Data without another copy. A masked one (server role) is collected so
// too, whole or not, to be unmasked there rather than in the caller's
// input: it is copied once either way.
func (c *Conn) controlPayload(chunk []byte) *Error {
	if c.ctrl == nil && int64(len(chunk)) == c.remaining && !c.server {
		c.remaining, c.inPayload = 0, false
		return c.control(chunk, false)
	}
	if c.ctrl == nil {
		c.ctrl = make([]byte, 0, c.remaining)
	}
	n := len(c.ctrl)
	c.ctrl = append(c.ctrl, chunk...)
	if c.server {
		c.unmask(c.ctrl[n:])
	}
	c.remaining -= int64(len(chunk))
	if c.remaining > 0 {
		return nil
	}
	payload := c.ctrl
	c.ctrl, c.inPayload = nil, false
	return c.control(payload, true)
}

// control acts on a complete control frame. owned says whether payload
// already belongs to the Conn (and can be handed to the caller) or is the
// caller's input (and must be copied).
func (c *Conn) control(payload []byte, owned bool) *Error {
	switch c.frameOp {
	case ws.OpPing:
		// RFC 6455 5.5.3: answer with the same payload, unless our close
		// frame is already out, after which nothing may follow it; or
		// the driver answers itself.
		if !c.closeSent && !c.manualPong {
			c.queuePong(payload)
		}
		c.ev = Event{Kind: KindPing, Data: keep(payload, owned)}
	case ws.OpPong:
		c.ev = Event{Kind: KindPong, Data: keep(payload, owned)}
	default: // ws.OpClose: checkStart let no other control opcode through.
		code, reason, e := ParseClosePayload(payload)
		if e != nil {
			return e
		}
		c.closeRecv = true
		// The closing handshake ends any message in progress.
		c.msg, c.msgOp, c.streamed = nil, 0, 0
		c.ev = Event{Kind: KindClose, Code: code, Reason: reason}
		if !c.closeSent {
			// RFC 6455 5.5.1: echo the status code. The reason is ours
			// to give; browsers echo the peer's, and so do we.
			c.queueClose(code, reason)
		}
	}
	return nil
}

// keep returns payload as a slice the caller may own.
func keep(payload []byte, owned bool) []byte {
	if owned || len(payload) == 0 {
		return payload
	}
	return append([]byte(nil), payload...)
}

// queuePong queues the automatic answer to a ping. Every ping gets its
// own pong, as browsers answer and the Autobahn suite expects (cases 2.10
// and 2.11), until maxPongRun pongs wait unwritten since the output last
// drained: a peer that floods pings without reading our pongs then gets
// the latest one's answer in place of the previous (RFC 6455 5.5.3 allows
// answering only the most recent ping), so the output stays bounded.
func (c *Conn) queuePong(payload []byte) {
	if c.pongRun >= maxPongRun && c.pongLen > 0 && len(c.out)-c.tailStart() >= int(c.pongLen) {
		c.out = c.out[:len(c.out)-int(c.pongLen)]
	} else if c.pongRun < maxPongRun {
		c.pongRun++
	}
	before := len(c.out)
	c.queueControl(ws.OpPong, payload)
	c.pongLen = uint8(len(c.out) - before)
}

// maxPongRun is how many pongs may wait unwritten before the next replaces
// the last.
const maxPongRun = 64
