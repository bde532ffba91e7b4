package peers_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wsloop/websocket/test/internal/peers"
)

// ioTimeout keeps a stuck peer from hanging the test binary.
const ioTimeout = 10 * time.Second

// conn is a raw gobwas/ws client connection.
type conn struct {
	net.Conn
	// r reads what the server sends: the dialer's buffer when the
	// handshake response came with more bytes, the connection otherwise.
	r        io.Reader
	protocol string
}

func (c *conn) Read(p []byte) (int, error) { return c.r.Read(p) }

func dial(t *testing.T, url string, protocols ...string) *conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	nc, br, hs, err := ws.Dialer{Protocols: protocols}.Dial(ctx, url)
	if err != nil {
		t.Fatalf(
			"Dial(%q): %v",
			url, err,
		)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(ioTimeout))
	c := &conn{Conn: nc, r: nc, protocol: hs.Protocol}
	if br != nil {
		c.r = br
	}
	return c
}

// servers are every peer's starter, by name.
var servers = []struct {
	name  string
	start func(t testing.TB, protocols ...string) string
}{
	{"Python", peers.PythonEcho},
	{"Node", peers.NodeEcho},
	{"Gorilla", peers.GorillaEcho},
	{"Coder", peers.CoderEcho},
}

// forEachServer runs test against every peer, in parallel.
func forEachServer(t *testing.T, test func(t *testing.T, start func(t testing.TB, protocols ...string) string)) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			test(t, s.start)
		})
	}
}

func TestEchoRoundTrip(t *testing.T) {
	forEachServer(t, testEchoRoundTrip)
}

func testEchoRoundTrip(t *testing.T, start func(t testing.TB, protocols ...string) string) {
	c := dial(t, start(t))
	if err := wsutil.WriteClientText(c, []byte("hello")); err != nil {
		t.Fatalf(
			"writing: %v",
			err,
		)
	}
	got, err := wsutil.ReadServerText(c)
	if err != nil || string(got) != "hello" {
		t.Fatalf(
			"read %q, %v; want %q",
			got, err, "hello",
		)
	}

	if err := wsutil.WriteClientBinary(c, []byte{0, 0xff}); err != nil {
		t.Fatalf(
			"writing: %v",
			err,
		)
	}
	p, op, err := wsutil.ReadServerData(c)
	if err != nil || op != ws.OpBinary || string(p) != "\x00\xff" {
		t.Fatalf(
			"read %v %q, %v; want binary %q",
			op, p, err, "\x00\xff",
		)
	}
}

func TestEchoCloseCommand(t *testing.T) {
	forEachServer(t, testEchoCloseCommand)
}

func testEchoCloseCommand(t *testing.T, start func(t testing.TB, protocols ...string) string) {
	c := dial(t, start(t))
	if err := wsutil.WriteClientText(c, []byte("!close 4000 bye")); err != nil {
		t.Fatalf(
			"writing: %v",
			err,
		)
	}
	// ReadServerText answers the close frame and reports it as an error.
	_, err := wsutil.ReadServerText(c)
	var closed wsutil.ClosedError
	if !errors.As(err, &closed) || closed.Code != 4000 || closed.Reason != "bye" {
		t.Fatalf(
			"read error %v; want close 4000 %q",
			err, "bye",
		)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf(
			"after the closing handshake: read %d bytes, %v; want EOF",
			n, err,
		)
	}
}

func TestEchoPingCommand(t *testing.T) {
	forEachServer(t, testEchoPingCommand)
}

func testEchoPingCommand(t *testing.T, start func(t testing.TB, protocols ...string) string) {
	c := dial(t, start(t))
	if err := wsutil.WriteClientText(c, []byte("!ping hi")); err != nil {
		t.Fatalf(
			"writing: %v",
			err,
		)
	}
	hdr, err := ws.ReadHeader(c)
	if err != nil {
		t.Fatalf(
			"reading header: %v",
			err,
		)
	}
	p := make([]byte, hdr.Length)
	if _, err := io.ReadFull(c, p); err != nil || hdr.OpCode != ws.OpPing || string(p) != "hi" {
		t.Fatalf(
			"got %v frame %q, %v; want ping %q",
			hdr.OpCode, p, err, "hi",
		)
	}
	// A pong with another payload answers nothing: the report names the
	// payload of the pong that did.
	if err := wsutil.WriteClientMessage(c, ws.OpPong, []byte("other")); err != nil {
		t.Fatalf(
			"writing pong: %v",
			err,
		)
	}
	if err := wsutil.WriteClientMessage(c, ws.OpPong, []byte("hi")); err != nil {
		t.Fatalf(
			"writing pong: %v",
			err,
		)
	}
	got, err := wsutil.ReadServerText(c)
	if err != nil || string(got) != "pong:hi" {
		t.Fatalf(
			"after the pong: read %q, %v; want %q",
			got, err, "pong:hi",
		)
	}
}

func TestEchoProtocol(t *testing.T) {
	forEachServer(t, testEchoProtocol)
}

func testEchoProtocol(t *testing.T, start func(t testing.TB, protocols ...string) string) {
	for _, tc := range []struct {
		name      string
		supported []string
		offered   []string
		want      string
	}{
		{
			// Ranking by both orders, the library's default, would
			// pick "a".
			name:      "client's first choice",
			supported: []string{"a", "z", "b"},
			offered:   []string{"b", "a"},
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, start(t, tc.supported...), tc.offered...)
			if c.protocol != tc.want {
				t.Fatalf(
					"selected protocol %q; want %q",
					c.protocol, tc.want,
				)
			}
		})
	}
}
