package echoserver_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/internal/echoserver"
)

// ioTimeout keeps a broken server from hanging the tests until the global
// test timeout, which would hide which step failed.
const ioTimeout = 5 * time.Second

// startServer runs a server for the test, logging to the test log, and
// closes it when the test ends.
func startServer(t *testing.T, protocols ...string) *echoserver.Server {
	t.Helper()
	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{
		Protocols: protocols,
		Logf:      t.Logf,
	})
	if err != nil {
		t.Fatalf(
			"Listen: %v",
			err,
		)
	}
	// Close waits for the server's goroutines, so none of them logs after
	// the test has ended.
	t.Cleanup(func() { srv.Close() })
	return srv
}

// client is a bare gobwas/ws client that lets tests send and expect frames
// one by one.
type client struct {
	t        *testing.T
	conn     net.Conn
	r        io.Reader
	protocol string
}

func dial(t *testing.T, url string, protocols ...string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	conn, br, hs, err := ws.Dialer{Protocols: protocols}.Dial(ctx, url)
	if err != nil {
		t.Fatalf(
			"Dial(%q): %v",
			url, err,
		)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(ioTimeout))
	c := &client{t: t, conn: conn, r: conn, protocol: hs.Protocol}
	if br != nil {
		// The server's first bytes came with the handshake response.
		c.r = br
	}
	return c
}

func (c *client) send(op ws.OpCode, fin bool, p []byte) {
	c.t.Helper()
	if err := ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewFrame(op, fin, p))); err != nil {
		c.t.Fatalf(
			"sending %v frame: %v",
			op, err,
		)
	}
}

func (c *client) sendClose(code ws.StatusCode, reason string) {
	c.t.Helper()
	c.send(ws.OpClose, true, ws.NewCloseFrameBody(code, reason))
}

// recv reads one frame, control frames included.
func (c *client) recv() ws.Frame {
	c.t.Helper()
	hdr, err := ws.ReadHeader(c.r)
	if err != nil {
		c.t.Fatalf(
			"reading frame header: %v",
			err,
		)
	}
	p := make([]byte, hdr.Length)
	if _, err := io.ReadFull(c.r, p); err != nil {
		c.t.Fatalf(
			"reading %v frame payload: %v",
			hdr.OpCode, err,
		)
	}
	return ws.Frame{Header: hdr, Payload: p}
}

// expect reads a frame and checks it is a final frame with op and p.
func (c *client) expect(op ws.OpCode, p []byte) {
	c.t.Helper()
	f := c.recv()
	if f.Header.OpCode != op || !f.Header.Fin || !bytes.Equal(f.Payload, p) {
		c.t.Fatalf(
			"got %v frame (fin %v) %q; want %v frame %q",
			f.Header.OpCode, f.Header.Fin, clip(f.Payload), op, clip(p),
		)
	}
}

// expectClose reads a frame and checks it is a close frame with code and
// reason.
func (c *client) expectClose(code ws.StatusCode, reason string) {
	c.t.Helper()
	f := c.recv()
	gotCode, gotReason := ws.ParseCloseFrameData(f.Payload)
	if f.Header.OpCode != ws.OpClose || gotCode != code || gotReason != reason {
		c.t.Fatalf(
			"got %v frame %d %q; want close frame %d %q",
			f.Header.OpCode, gotCode, gotReason, code, reason,
		)
	}
}

// expectEOF checks that the server has closed TCP with nothing more to say.
func (c *client) expectEOF() {
	c.t.Helper()
	n, err := c.r.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, io.EOF) {
		c.t.Fatalf(
			"after close: read %d bytes, %v; want EOF",
			n, err,
		)
	}
}

// clip keeps failure messages about big payloads readable.
func clip(p []byte) string {
	if len(p) > 64 {
		return string(p[:64]) + "..."
	}
	return string(p)
}
