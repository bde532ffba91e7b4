package protocol

import (
	"fmt"

	"github.com/wsloop/websocket/internal/bufpool"
)

// Output buffer sizing. Small buffers are kept between writes so that steady
// traffic allocates nothing; buffers grown past maxIdleOutput by a large
// message are dropped once drained so that idle connections stay small. A
// backlog that outgrows its buffer continues in a new one (up to maxChunk
// at a time, or one frame's size) queued behind it, so that queuing a frame
// never copies the backlog ahead of it.
const (
	minOutput     = 512
	maxIdleOutput = 4 << 10
	maxChunk      = 1 << 20
)

// Output returns the bytes waiting to be written first: whole frames, or
// what remains of them after earlier Advance calls. When the
// backlog spans several buffers it is the first one's part; once it is
// written, Output returns the next. It is valid until the next call on c.
func (c *Conn) Output() []byte {
	if q := c.backlog(); len(q) > 0 {
		return q[0][c.head:]
	}
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
	cur := c.Output()
	if n < 0 || n > len(cur) {
		panic(fmt.Sprintf("protocol: Advance(%d) with %d bytes of output", n, len(cur)))
	}
	for n > 0 {
		if c.hdrLeft == 0 && c.payLeft == 0 {
			// Frames never straddle buffers: the next header is here.
			h, pl, data := parseHeader(cur)
			c.hdrLeft, c.payLeft, c.dataFrame = uint8(h), pl, data
			c.frameStart = c.head
			c.zFrame = data && cur[0]&bitRsv1 != 0
		}
		k := min(n, int(c.hdrLeft))
		c.hdrLeft -= uint8(k)
		c.head += k
		n -= k
		cur = cur[k:]
		k = min(n, c.payLeft)
		c.payLeft -= k
		c.head += k
		n -= k
		cur = cur[k:]
		if c.zFrame {
			// A compressed message counts whole, once its frame is out.
			if c.payLeft == 0 && c.hdrLeft == 0 {
				payload += c.z.zlens[0]
				c.z.zlens = c.z.zlens[1:]
				if len(c.z.zlens) == 0 {
					c.z.zlens = nil
					c.zRelease()
				}
				c.zFrame = false
			}
		} else if c.dataFrame {
			payload += k
		}
	}
	c.buffered -= payload
	if q := c.backlog(); len(q) > 0 {
		if len(cur) == 0 { // this buffer is written: on to the next
			bufpool.Put(q[0])
			q[0] = nil
			if q = q[1:]; len(q) == 0 {
				c.earlier = nil
			} else {
				*c.earlier = q
			}
			c.head = 0
		}
		return payload
	}
	if len(c.out)-c.head < int(c.pongLen) {
		c.pongLen = 0 // its writing has begun: it can no longer be replaced
	}
	if c.head == len(c.out) {
		c.head = 0
		c.pongRun = 0
		// A small buffer stays only while messages keep coming: when
		// this drain and the one before it both carried one, so steady
		// traffic allocates nothing. A buffer that carried only control
		// frames (a keepalive ping, a pong), or the first message after
		// a quiet spell, is given back: a socket that sends now and then
		// keeps none while idle, at the price of a pool round trip per
		// such message.
		steady := c.dataQueued && c.dataBefore
		c.dataBefore = c.dataQueued
		if cap(c.out) > maxIdleOutput || !steady {
			bufpool.Put(c.out)
			c.out = nil
		} else {
			c.out = c.out[:0]
		}
		c.dataQueued = false
	}
	return payload
}

// BufferedPayload returns the message payload bytes queued but not yet
// written.
func (c *Conn) BufferedPayload() int {
	return c.buffered
}

// Pending returns how many bytes of frames are queued and not yet written,
// in all the output's buffers.
func (c *Conn) Pending() int {
	n := len(c.out) - c.tailStart()
	for i, b := range c.backlog() {
		if i == 0 {
			b = b[c.head:]
		}
		n += len(b)
	}
	return n
}

// backlog is the buffers queued ahead of out, oldest first.
func (c *Conn) backlog() [][]byte {
	if c.earlier == nil {
		return nil
	}
	return *c.earlier
}

// tailStart is where the unwritten part of out begins: out is written
// after the queue, and from head once the queue is empty.
func (c *Conn) tailStart() int {
	if len(c.backlog()) > 0 {
		return 0
	}
	return c.head
}

// reserve makes room for n more bytes after len(c.out). A buffer whose
// unwritten bytes are few slides them to the front; otherwise a new buffer
// takes the frames that follow, and the current one waits in the queue
// (or is given back, when nothing of it is left to write).
func (c *Conn) reserve(n int) {
	if cap(c.out)-len(c.out) >= n {
		return
	}
	start := c.tailStart()
	pending := len(c.out) - start
	keep := start // where the bytes to keep begin
	if start > 0 && (c.hdrLeft > 0 || c.payLeft > 0) {
		keep = c.frameStart // a frame partly written stays whole, for CarryOver
	}
	if keep > 0 && cap(c.out)-(len(c.out)-keep) >= n && pending <= cap(c.out)/4 {
		// Cheap: at most a quarter of the buffer moves, to free the rest.
		copy(c.out, c.out[keep:])
		c.out = c.out[:len(c.out)-keep]
		c.head -= keep
		c.frameStart = 0
		return
	}
	size := max(n, min(2*cap(c.out), maxChunk), minOutput)
	if pending == 0 {
		bufpool.Put(c.out)
		c.head = 0
	} else {
		// head goes on counting in the same buffer, now the queue's last
		// (its first, when the queue was empty).
		if c.earlier == nil {
			c.earlier = new([][]byte)
		}
		*c.earlier = append(*c.earlier, c.out)
	}
	c.out = bufpool.Get(size)[:0]
	c.pongLen = 0 // a pong ending the queued buffer can no longer be replaced
}

// Discard gives back every buffer the connection holds, queued output and
// partial input alike, once the connection is over: nothing more is read
// or written. It returns the message payload bytes that were queued and
// never written, for the driver's bufferedAmount.
func (c *Conn) Discard() (unwritten int) {
	unwritten = c.buffered
	bufpool.Put(c.out)
	for _, b := range c.backlog() {
		bufpool.Put(b)
	}
	c.out, c.earlier, c.head, c.buffered = nil, nil, 0, 0
	if c.z != nil {
		c.z = c.z.cfg.idle // its window and queue go with the connection
	}
	c.hdrLeft, c.payLeft, c.dataFrame, c.pongLen = 0, 0, false, 0
	bufpool.Put(c.msg)
	c.msg, c.ctrl, c.streamed = nil, nil, 0
	c.msgOp, c.inPayload, c.hdrLen = 0, false, 0
	c.closeSent = true
	return unwritten
}
