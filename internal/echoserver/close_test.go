package echoserver_test

import (
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func TestClientCloseIsEchoed(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want []byte
	}{
		{
			name: "code and reason",
			body: ws.NewCloseFrameBody(4000, "bye"),
			want: ws.NewCloseFrameBody(4000, ""),
		},
		{
			name: "normal closure",
			body: ws.NewCloseFrameBody(ws.StatusNormalClosure, ""),
			want: ws.NewCloseFrameBody(ws.StatusNormalClosure, ""),
		},
		{
			name: "no status",
			body: nil,
			want: nil,
		},
		{
			name: "reserved code",
			body: ws.NewCloseFrameBody(ws.StatusNoStatusRcvd, ""),
			want: ws.NewCloseFrameBody(ws.StatusProtocolError, "invalid close frame"),
		},
		{
			name: "one byte",
			body: []byte{3},
			want: ws.NewCloseFrameBody(ws.StatusProtocolError, "invalid close frame"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			c := dial(t, srv.URL())
			c.send(ws.OpClose, true, tc.body)
			c.expect(ws.OpClose, tc.want)
			c.expectEOF()
		})
	}
}

func TestCloseCommand(t *testing.T) {
	for _, tc := range []struct {
		msg    string
		code   ws.StatusCode
		reason string
	}{
		{
			msg:    "!close 4000 bye",
			code:   4000,
			reason: "bye",
		},
		{
			msg:    "!close 1001",
			code:   1001,
			reason: "",
		},
		{
			msg:    "!close 3000 with spaces  inside",
			code:   3000,
			reason: "with spaces  inside",
		},
		{
			// Codes a server must not send are sent anyway, for testing
			// the client's validation.
			msg:    "!close 1005 x",
			code:   1005,
			reason: "x",
		},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			srv := startServer(t)
			c := dial(t, srv.URL())
			c.send(ws.OpText, true, []byte(tc.msg))
			c.expectClose(tc.code, tc.reason)
			// Data still in flight is dropped while the server waits for
			// the client's close frame.
			c.send(ws.OpText, true, []byte("late"))
			c.sendClose(tc.code, "")
			c.expectEOF()
		})
	}
}

func TestCloseCommandWaitsForClient(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the server's close timeout")
	}
	srv := startServer(t)
	c := dial(t, srv.URL())
	c.send(ws.OpText, true, []byte("!close 4000"))
	c.expectClose(4000, "")
	// Without the client's answer the server gives up after its timeout,
	// well within the client's read deadline.
	c.expectEOF()
}

func TestPingCommand(t *testing.T) {
	srv := startServer(t)
	c := dial(t, srv.URL())
	c.send(ws.OpText, true, []byte("!ping hi there"))
	c.expect(ws.OpPing, []byte("hi there"))
	c.send(ws.OpPong, true, []byte("hi there"))
	c.send(ws.OpText, true, []byte("!ping"))
	c.expect(ws.OpPing, nil)
}

func TestNearCommandsAreEchoed(t *testing.T) {
	srv := startServer(t)
	c := dial(t, srv.URL())
	for _, msg := range []string{
		"!close",
		"!close ",
		"!closed 4000",
		"!close abc",
		"!close +4000",
		"!close 65536",
		"!close 4000 " + strings.Repeat("r", 124),
		"!pingx",
		"!ping " + strings.Repeat("p", 126),
		" !ping",
	} {
		c.send(ws.OpText, true, []byte(msg))
		c.expect(ws.OpText, []byte(msg))
	}
	// Commands are text messages only.
	c.send(ws.OpBinary, true, []byte("!close 4000"))
	c.expect(ws.OpBinary, []byte("!close 4000"))
}

func TestTooBigMessage(t *testing.T) {
	const limit = 64 << 20
	for _, tc := range []struct {
		name  string
		first []byte // a first fragment, if any
		size  int64  // the length declared by the frame that is too much
	}{
		{
			name: "one frame",
			size: limit + 1,
		},
		{
			name:  "fragments",
			first: []byte("x"),
			size:  limit,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			c := dial(t, srv.URL())
			op := ws.OpBinary
			if tc.first != nil {
				c.send(op, false, tc.first)
				op = ws.OpContinuation
			}
			// Only the header is sent: the server must refuse on the
			// declared length, not after buffering 64 MiB.
			hdr := ws.Header{
				Fin:    true,
				OpCode: op,
				Masked: true,
				Mask:   ws.NewMask(),
				Length: tc.size,
			}
			if err := ws.WriteHeader(c.conn, hdr); err != nil {
				t.Fatalf(
					"writing header: %v",
					err,
				)
			}
			c.expectClose(ws.StatusMessageTooBig, "message too big")
		})
	}
}

func TestInvalidUTF8(t *testing.T) {
	srv := startServer(t)
	c := dial(t, srv.URL())
	c.send(ws.OpText, true, []byte{'a', 0xff, 'b'})
	c.expectClose(ws.StatusInvalidFramePayloadData, "invalid UTF-8")
	c.sendClose(ws.StatusInvalidFramePayloadData, "")
	c.expectEOF()
}

func TestUnmaskedFrameIsProtocolError(t *testing.T) {
	srv := startServer(t)
	c := dial(t, srv.URL())
	if err := ws.WriteFrame(c.conn, ws.NewTextFrame([]byte("x"))); err != nil {
		t.Fatalf(
			"writing frame: %v",
			err,
		)
	}
	f := c.recv()
	code, _ := ws.ParseCloseFrameData(f.Payload)
	if f.Header.OpCode != ws.OpClose || code != ws.StatusProtocolError {
		t.Fatalf(
			"got %v frame with status %d; want close frame with %d",
			f.Header.OpCode, code, ws.StatusProtocolError,
		)
	}
	// The server has half-closed: it is done sending.
	c.expectEOF()
}
