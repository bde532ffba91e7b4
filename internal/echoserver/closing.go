package echoserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// closeTimeout bounds how long the server waits for the client's close frame
// after sending its own, so that a silent client can not hold the connection.
const closeTimeout = 2 * time.Second

// lingerMode says what the server does between sending its close frame and
// closing TCP.
type lingerMode int

const (
	// lingerNone: the client has already sent its close frame.
	lingerNone lingerMode = iota
	// lingerFrames: the frame stream is intact, so the server skips what is
	// left of the current frame and reads frames until the client's close.
	lingerFrames
	// lingerBytes: the server does not know where the next frame starts, so
	// it half-closes and discards bytes until the client closes TCP.
	lingerBytes
)

// shutdown is returned as an error by the read and handle paths to make the
// connection end with a close frame carrying body.
type shutdown struct {
	body   []byte
	linger lingerMode
	// unread is how many bytes of the current frame's payload the server
	// has not read yet, for lingerFrames.
	unread int64
}

func (sd *shutdown) Error() string {
	if len(sd.body) < 2 {
		return "close frame without status"
	}
	code, reason := ws.ParseCloseFrameData(sd.body)
	return fmt.Sprintf("close frame %d %q", code, reason)
}

// closedByClient answers the client's close frame p: its status code when
// it is one a client may send, 1002 when the frame is malformed.
func closedByClient(p []byte) error {
	if len(p) == 0 {
		// RFC 6455 lets a close frame carry no status, and an empty answer
		// is the only one that does not invent one.
		return &shutdown{body: nil}
	}
	code, reason := ws.ParseCloseFrameData(p)
	if len(p) < 2 || ws.CheckCloseFrameData(code, reason) != nil {
		return &shutdown{body: ws.NewCloseFrameBody(ws.StatusProtocolError, "invalid close frame")}
	}
	return &shutdown{body: ws.NewCloseFrameBody(code, "")}
}

// tooBig rejects a message that grew beyond maxMessageSize with a frame of
// which unread bytes are still to come.
func tooBig(unread int64) error {
	return &shutdown{
		body:   ws.NewCloseFrameBody(ws.StatusMessageTooBig, "message too big"),
		linger: lingerFrames,
		unread: unread,
	}
}

// readFailure turns a read error into the close frame RFC 6455 asks for,
// when there is one; errors of the connection itself are returned as they
// are, since no close frame can be sent over it.
func readFailure(err error) error {
	var sd *shutdown
	var pe ws.ProtocolError
	switch {
	case errors.As(err, &sd):
		return sd
	case errors.Is(err, wsutil.ErrInvalidUTF8):
		// The reader stops at the first invalid byte, maybe in the middle
		// of a frame.
		return &shutdown{
			body:   ws.NewCloseFrameBody(ws.StatusInvalidFramePayloadData, "invalid UTF-8"),
			linger: lingerBytes,
		}
	case errors.As(err, &pe):
		return &shutdown{
			body:   ws.NewCloseFrameBody(ws.StatusProtocolError, pe.Error()),
			linger: lingerBytes,
		}
	}
	return err
}

// linger waits, at most closeTimeout, for the client to acknowledge the
// close frame the server has sent. Closing TCP while the client's bytes are
// still unread would make the kernel reset the connection, and the client
// could lose the close frame.
func (c *session) linger(sd *shutdown) {
	if sd.linger == lingerNone {
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(closeTimeout))
	if sd.linger == lingerBytes {
		if tc, ok := c.nc.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		io.Copy(io.Discard, c.br)
		return
	}
	skip := sd.unread
	for {
		if _, err := io.CopyN(io.Discard, c.br, skip); err != nil {
			return
		}
		hdr, err := ws.ReadHeader(c.br)
		if err != nil {
			return
		}
		if hdr.OpCode == ws.OpClose {
			io.CopyN(io.Discard, c.br, hdr.Length)
			return
		}
		skip = hdr.Length
	}
}
