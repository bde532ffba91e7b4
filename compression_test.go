package websocket_test

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wsloop/websocket"
)

// serverFlate compresses as a server with context takeover does: one flate
// stream, each message flushed, its last four bytes cut (RFC 7692 7.2.1).
type serverFlate struct {
	buf bytes.Buffer
	w   *flate.Writer
}

func newServerFlate() *serverFlate {
	s := &serverFlate{}
	s.w, _ = flate.NewWriter(&s.buf, flate.BestSpeed)
	return s
}

func (s *serverFlate) frame(op byte, msg string) []byte {
	s.buf.Reset()
	s.w.Write([]byte(msg))
	s.w.Flush()
	return frameSpec{Fin: true, Rsv: 4, Op: op, Payload: bytes.TrimSuffix(s.buf.Bytes(), []byte{0, 0, 0xff, 0xff})}.bytes()
}

// inflateClient inflates a client's compressed message (RSV1), which
// refers to no earlier one.
func inflateClient(p []byte) (string, error) {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
	b, err := io.ReadAll(r)
	return string(b), err
}

// Compression is offered as Chromium offers it; when the server accepts,
// Extensions() has its words, its compressed messages (context takeover,
// fragmented) are inflated, and the client's messages past the threshold
// go compressed, short ones plain.
func TestCompressionEndToEnd(t *testing.T) {
	long := strings.Repeat("a long message, compressed both ways. ", 20)
	srv := startRawServer(t, func(c *rawConn) {
		if got := c.req.Header.Get("Sec-WebSocket-Extensions"); got != "permessage-deflate; client_max_window_bits" {
			c.fail("offer %q", got)
		}
		c.accept("Sec-WebSocket-Extensions: permessage-deflate;client_max_window_bits=15")
		z := newServerFlate()
		c.write(z.frame(opText, long), z.frame(opText, long)) // the second refers back to the first
		f := c.readFrame()
		if f.Rsv != 4 {
			c.fail("a long message sent uncompressed: %v", f)
		} else if got, err := inflateClient(f.Payload); err != nil || got != long {
			c.fail("inflating the client's message: %v", err)
		}
		if f := c.readFrame(); f.Rsv != 0 || string(f.Payload) != "short" {
			c.fail("a short message: %v", f)
		}
		c.finish(websocket.CloseNormal, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if got := ws.Extensions(); got != "permessage-deflate;client_max_window_bits=15" {
			t.Errorf("Extensions() = %q", got)
		}
	}
	n := 0
	tc.OnMessage = func(ws *websocket.WebSocket, m websocket.MessageEvent) {
		if m.Text() != long {
			t.Errorf("message %d: %q", n, m.Data)
		}
		if n++; n == 2 {
			ws.SendText(long)
			ws.SendText("short")
		}
	}
	tc.run()
	if n != 2 {
		t.Fatalf("%d messages", n)
	}
	srv.report(t)
}

// A server that answers the offer wrongly fails the connection, as in a
// browser: error (a HandshakeError), then close 1006.
func TestCompressionBadResponses(t *testing.T) {
	for _, resp := range []string{
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=16",
		"permessage-deflate; foo=1",
		"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
		"permessage-deflate, permessage-deflate",
	} {
		t.Run(resp, func(t *testing.T) {
			he, _, _ := runHandshakeFailure(t, nil, func(c *rawConn) {
				c.accept("Sec-WebSocket-Extensions: " + resp)
				c.expectEOF()
			})
			if !strings.Contains(he.Error(), "permessage-deflate") {
				t.Errorf("error %q does not name the extension", he.Error())
			}
		})
	}
}

// Frames the extension does not allow fail the connection with 1002; a
// compressed message that is not deflate with 1002, as in Chromium.
func TestCompressionFrameRules(t *testing.T) {
	for _, tt := range []struct {
		name  string
		frame []byte
		code  int
	}{
		{"RSV1 on a ping", frameSpec{Fin: true, Rsv: 4, Op: opPing}.bytes(), 1002},
		{"RSV1 on a continuation", cat(frag(opText, false, "a"), frameSpec{Fin: true, Rsv: 4, Op: opCont, Payload: []byte("b")}.bytes()), 1002},
		{"not deflate", frameSpec{Fin: true, Rsv: 4, Op: opBinary, Payload: []byte{0xff, 0xfe, 0xfd}}.bytes(), 1002},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startRawServer(t, func(c *rawConn) {
				c.accept("Sec-WebSocket-Extensions: permessage-deflate")
				c.write(tt.frame)
				checkCloseFrame(t, c.readClose(), tt.code)
				c.closeTCP()
			})
			tc := newTraceClient(t, srv.URL, nil)
			tc.run()
			tc.expectTrace(failTrace(tt.code)...)
			srv.report(t)
		})
	}
	t.Run("RSV1 without the extension", func(t *testing.T) {
		srv := startRawServer(t, func(c *rawConn) {
			c.accept()
			c.write(newServerFlate().frame(opText, "x"))
			checkCloseFrame(t, c.readClose(), 1002)
			c.closeTCP()
		})
		tc := newTraceClient(t, srv.URL, &websocket.Config{NoCompression: true})
		tc.run()
		tc.expectTrace(failTrace(1002)...)
		srv.report(t)
	})
}

// A small frame that inflates past MaxMessageSize fails with 1009.
func TestCompressionBomb(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept("Sec-WebSocket-Extensions: permessage-deflate")
		c.write(newServerFlate().frame(opBinary, strings.Repeat("\x00", 16<<20)))
		checkCloseFrame(t, c.readClose(), 1009)
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{MaxMessageSize: 1 << 20})
	tc.run()
	tc.expectTrace(failTrace(1009)...)
	srv.report(t)
}

// NoCompression offers nothing; a Compression out of range is refused.
func TestCompressionConfig(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		if got := c.req.Header.Values("Sec-WebSocket-Extensions"); len(got) != 0 {
			c.fail("offered %q with NoCompression", got)
		}
		c.accept()
		c.answerClose(websocket.CloseNormal, "")
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{NoCompression: true})
	tc.OnOpen = func(ws *websocket.WebSocket) { ws.CloseWith(websocket.CloseNormal, "") }
	tc.run()
	srv.report(t)
	for _, c := range []websocket.Compression{{Threshold: -1}, {ServerMaxWindowBits: 7}, {ClientMaxWindowBits: 16}} {
		_, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Compression: &c})
		var ce *websocket.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
