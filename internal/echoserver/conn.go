package echoserver

import (
	"bufio"
	"compress/flate"
	"errors"
	"io"
	"net"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/gobwas/ws/wsutil"
)

const (
	// maxMessageSize bounds what one message may make the server hold in
	// memory, since it echoes messages whole.
	maxMessageSize = 64 << 20

	// handshakeTimeout keeps a client that never finishes its opening
	// handshake from holding a connection forever.
	handshakeTimeout = 10 * time.Second
)

// session is one upgraded connection. Only its own goroutine uses it, so
// reads and writes need no locking.
type session struct {
	srv *Server
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	rd  *wsutil.Reader

	// msgLen is the length of the message being read so far, kept here
	// rather than left to wsutil.Reader.MaxMessageSize because the reader
	// does not say how much of a rejected frame is left unread, which the
	// closing handshake needs to find the client's close frame.
	msgLen int64

	compress bool                 // permessage-deflate was negotiated
	msg      wsflate.MessageState // whether the message being read is compressed
	fw       *flate.Writer        // made by the first compressed message sent
}

func (s *Server) serve(nc net.Conn) {
	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	u := ws.Upgrader{Protocol: s.supports}
	ext := deflateExt()
	if s.opts.Compression {
		u.Negotiate = ext.Negotiate
	}
	hs, err := u.Upgrade(nc)
	if err != nil {
		s.logf("echoserver: %v: handshake: %v", nc.RemoteAddr(), err)
		return
	}
	nc.SetDeadline(time.Time{})
	s.logf("echoserver: %v: connected (protocol %q)", nc.RemoteAddr(), hs.Protocol)

	c := &session{
		srv: s,
		nc:  nc,
		br:  bufio.NewReader(nc),
		bw:  bufio.NewWriter(nc),
	}
	_, c.compress = ext.Accepted()
	c.rd = &wsutil.Reader{
		Source:         c.br,
		State:          ws.StateServerSide,
		CheckUTF8:      !c.compress, // checked once inflated, then
		OnIntermediate: c.control,
		OnContinuation: c.continuation,
	}
	if c.compress {
		c.rd.State |= ws.StateExtended // RSV1 has a meaning
		c.rd.Extensions = []wsutil.RecvExtension{&c.msg}
	}
	c.end(c.run())
}

// supports is called by the upgrader for each protocol the client offers, in
// the client's order, and the first true answer selects it.
func (s *Server) supports(p []byte) bool {
	for _, q := range s.opts.Protocols {
		if string(p) == q {
			return true
		}
	}
	return false
}

// run echoes messages until the connection has to end, and returns why.
func (c *session) run() error {
	for {
		op, p, err := c.next()
		if err != nil {
			return err
		}
		if err := c.handle(op, p); err != nil {
			return err
		}
	}
}

// next returns the next data message, reassembled, after handling the
// control frames that come before it or between its fragments.
func (c *session) next() (ws.OpCode, []byte, error) {
	for {
		hdr, err := c.rd.NextFrame()
		if err != nil {
			return 0, nil, readFailure(err)
		}
		if hdr.OpCode.IsControl() {
			if err := c.control(hdr, c.rd); err != nil {
				return 0, nil, err
			}
			continue
		}
		if hdr.Length > maxMessageSize {
			return 0, nil, tooBig(hdr.Length)
		}
		c.msgLen = hdr.Length
		// ReadAll grows its buffer as bytes arrive, so a length the client
		// merely declares costs nothing until it is actually sent.
		p, err := io.ReadAll(c.rd)
		if err != nil {
			return 0, nil, readFailure(err)
		}
		if c.msg.IsCompressed() {
			p, err = inflate(hdr.OpCode, p)
		} else if c.compress && hdr.OpCode == ws.OpText && !utf8.Valid(p) {
			err = readFailure(wsutil.ErrInvalidUTF8)
		}
		return hdr.OpCode, p, err
	}
}

func (c *session) continuation(hdr ws.Header, _ io.Reader) error {
	c.msgLen += hdr.Length
	if c.msgLen > maxMessageSize {
		return tooBig(hdr.Length)
	}
	return nil
}

// control handles a control frame whose unmasked payload is r.
func (c *session) control(hdr ws.Header, r io.Reader) error {
	p, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch hdr.OpCode {
	case ws.OpPing:
		return c.write(ws.OpPong, p)
	case ws.OpClose:
		return closedByClient(p)
	}
	return nil
}

// handle answers one data message: a command or an echo.
func (c *session) handle(op ws.OpCode, p []byte) error {
	if op == ws.OpText {
		if code, reason, ok := ParseClose(p); ok {
			return &shutdown{
				body:   ws.NewCloseFrameBody(ws.StatusCode(code), reason),
				linger: lingerFrames,
			}
		}
		if payload, ok := ParsePing(p); ok {
			return c.write(ws.OpPing, payload)
		}
	}
	return c.write(op, p)
}

func (c *session) write(op ws.OpCode, p []byte) error {
	if c.compress && (op == ws.OpText || op == ws.OpBinary) {
		return c.writeCompressed(op, p)
	}
	if err := wsutil.WriteServerMessage(c.bw, op, p); err != nil {
		return err
	}
	return c.bw.Flush()
}

// end finishes the connection the way err asks for; the caller closes TCP.
func (c *session) end(err error) {
	var sd *shutdown
	if !errors.As(err, &sd) {
		c.srv.logf("echoserver: %v: connection lost: %v", c.nc.RemoteAddr(), err)
		return
	}
	c.srv.logf("echoserver: %v: closing: %v", c.nc.RemoteAddr(), sd)
	if err := c.write(ws.OpClose, sd.body); err != nil {
		c.srv.logf("echoserver: %v: sending close frame: %v", c.nc.RemoteAddr(), err)
		return
	}
	c.linger(sd)
}
