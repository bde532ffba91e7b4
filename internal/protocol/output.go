package protocol

import (
	"fmt"

	"github.com/wsloop/websocket/internal/bufpool"
)

// Output buffer sizing. Small buffers are kept between writes so that steady
// traffic allocates nothing; buffers grown past maxIdleOutput by a large
// message are dropped once drained so that idle connections stay small.
const (
	minOutput     = 512
	maxIdleOutput = 4 << 10
)

// Output returns the bytes waiting to be written: whole masked frames, or
// what remains of them after earlier Advance calls. It is valid until the
// next call on c.
func (c *Conn) Output() []byte {
	return c.out[c.head:]
}

// Advance records that the first n bytes of Output were written. It returns
// how many bytes of message payload (from WriteMessage and WriteText; not
// headers, not control frames) those bytes completed, exactly even when a
// frame is written in several pieces, so the driver can keep a browser-style
// bufferedAmount. It walks the frames by re-reading the headers it wrote, so
// no per-frame bookkeeping is kept. n beyond len(Output()) is a driver bug and
// panics.
func (c *Conn) Advance(n int) (payload int) {
	if n < 0 || n > len(c.out)-c.head {
		panic(fmt.Sprintf("protocol: Advance(%d) with %d bytes of output", n, len(c.out)-c.head))
	}
	for n > 0 {
		if c.hdrLeft == 0 && c.payLeft == 0 {
			h, pl, data := parseClientHeader(c.out[c.head:])
			c.hdrLeft, c.payLeft, c.dataFrame = uint8(h), pl, data
		}
		k := min(n, int(c.hdrLeft))
		c.hdrLeft -= uint8(k)
		c.head += k
		n -= k
		k = min(n, c.payLeft)
		c.payLeft -= k
		c.head += k
		n -= k
		if c.dataFrame {
			payload += k
		}
	}
	c.buffered -= payload
	if len(c.out)-c.head < c.pongLen {
		c.pongLen = 0 // its writing has begun: it can no longer be replaced
	}
	if c.head == len(c.out) {
		c.head = 0
		if cap(c.out) > maxIdleOutput {
			bufpool.Put(c.out)
			c.out = nil
		} else {
			c.out = c.out[:0]
		}
	}
	return payload
}

// BufferedPayload returns the message payload bytes queued but not yet
// written.
func (c *Conn) BufferedPayload() int {
	return c.buffered
}

// reserve makes room for n more bytes after len(c.out), first by sliding the
// unwritten bytes to the front when that suffices, so a connection whose
// output is never quite drained does not grow without bound.
func (c *Conn) reserve(n int) {
	if cap(c.out)-len(c.out) >= n {
		return
	}
	pending := len(c.out) - c.head
	if c.head > 0 && cap(c.out)-pending >= n {
		copy(c.out, c.out[c.head:])
		c.out = c.out[:pending]
		c.head = 0
		return
	}
	buf := bufpool.Get(max(pending+n, 2*cap(c.out), minOutput))[:pending]
	copy(buf, c.out[c.head:])
	bufpool.Put(c.out)
	c.out = buf
	c.head = 0
}

// Discard gives back every buffer the connection holds, queued output and
// partial input alike, once the connection is over: nothing more is read
// or written. It returns the message payload bytes that were queued and
// never written, for the driver's bufferedAmount.
func (c *Conn) Discard() (unwritten int) {
	unwritten = c.buffered
	bufpool.Put(c.out)
	c.out, c.head, c.buffered = nil, 0, 0
	c.hdrLeft, c.payLeft, c.dataFrame, c.pongLen = 0, 0, false, 0
	bufpool.Put(c.msg)
	c.msg, c.ctrl = nil, nil
	c.msgOp, c.inPayload, c.hdrLen = 0, false, 0
	c.closeSent = true
	return unwritten
}
