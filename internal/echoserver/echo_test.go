package echoserver_test

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func TestEchoKeepsType(t *testing.T) {
	srv := startServer(t)
	c := dial(t, srv.URL())
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	for _, m := range []wsutil.Message{
		{OpCode: ws.OpText, Payload: []byte("hello")},
		{OpCode: ws.OpBinary, Payload: []byte{0, 1, 2, 0xff}},
		{OpCode: ws.OpText, Payload: nil},
		{OpCode: ws.OpBinary, Payload: big},
	} {
		if err := wsutil.WriteClientMessage(c.conn, m.OpCode, m.Payload); err != nil {
			t.Fatalf(
				"writing %v message: %v",
				m.OpCode, err,
			)
		}
		c.expect(m.OpCode, m.Payload)
	}
}

func TestEchoReassemblesFragments(t *testing.T) {
	srv := startServer(t)
	c := dial(t, srv.URL())

	c.send(ws.OpText, false, []byte("hel"))
	// A control frame may come between fragments and is answered at once.
	c.send(ws.OpPing, true, []byte("between"))
	c.send(ws.OpContinuation, false, nil)
	c.send(ws.OpContinuation, true, []byte("lo"))
	c.expect(ws.OpPong, []byte("between"))
	c.expect(ws.OpText, []byte("hello"))

	// A character split between fragments is still valid UTF-8.
	e := []byte("é")
	c.send(ws.OpText, false, e[:1])
	c.send(ws.OpContinuation, true, e[1:])
	c.expect(ws.OpText, e)

	c.send(ws.OpBinary, false, []byte{1})
	c.send(ws.OpContinuation, true, []byte{2, 3})
	c.expect(ws.OpBinary, []byte{1, 2, 3})
}

func TestPingIsAnsweredWithSamePayload(t *testing.T) {
	srv := startServer(t)
	c := dial(t, srv.URL())
	c.send(ws.OpPing, true, []byte("abc"))
	c.expect(ws.OpPong, []byte("abc"))
	// The server ignores pongs: the next frame is the echo.
	c.send(ws.OpPong, true, []byte("unsolicited"))
	c.send(ws.OpText, true, []byte("after"))
	c.expect(ws.OpText, []byte("after"))
}

func TestProtocolSelection(t *testing.T) {
	for _, tc := range []struct {
		name      string
		supported []string
		offered   []string
		want      string
	}{
		{
			name:      "client order wins",
			supported: []string{"a", "b"},
			offered:   []string{"c", "b", "a"},
			want:      "b",
		},
		{
			name:      "no match",
			supported: []string{"a"},
			offered:   []string{"c"},
			want:      "",
		},
		{
			name:      "server supports none",
			supported: nil,
			offered:   []string{"a"},
			want:      "",
		},
		{
			name:      "client offers none",
			supported: []string{"a"},
			offered:   nil,
			want:      "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.supported...)
			c := dial(t, srv.URL(), tc.offered...)
			if c.protocol != tc.want {
				t.Fatalf(
					"selected protocol %q; want %q",
					c.protocol, tc.want,
				)
			}
			c.send(ws.OpText, true, []byte("x"))
			c.expect(ws.OpText, []byte("x"))
		})
	}
}

func TestURLAndAddr(t *testing.T) {
	srv := startServer(t)
	if want := "ws://" + srv.Addr().String() + "/"; srv.URL() != want {
		t.Fatalf(
			"URL() = %q; want %q",
			srv.URL(), want,
		)
	}
}
