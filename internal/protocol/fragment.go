package protocol

import (
	"errors"

	"github.com/gobwas/ws"
)

// ErrFragmentOpen is returned by WriteMessage and WriteText while a message
// written in fragments is unfinished: its frames must not be interleaved
// with another message's (RFC 6455 5.4). Control frames may be.
var ErrFragmentOpen = errors.New("protocol: a message is being written in fragments")

// WriteFragment queues the next frame of a message written in pieces: the
// first call opens it as text or binary, each later one continues it, and
// the one with fin set ends it. The payload counts as message data, as
// WriteMessage's does. The caller keeps a text message valid UTF-8 as a
// whole; the core does not check what it sends.
func (c *Conn) WriteFragment(binary bool, p []byte, fin bool) error {
	if c.closeSent {
		return ErrClosed
	}
	op := ws.OpContinuation
	if !c.fragOpen {
		op = ws.OpText
		if binary {
			op = ws.OpBinary
		}
	}
	b0 := byte(op)
	if fin {
		b0 |= bitFin
	}
	start, key := c.beginFrame(b0, len(p))
	c.out = append(c.out, p...)
	c.endFrame(start, key)
	c.buffered += len(p)
	c.dataQueued = true
	c.fragOpen = !fin
	return nil
}

// FragmentOpen reports whether a message written in fragments is
// unfinished.
func (c *Conn) FragmentOpen() bool { return c.fragOpen }
