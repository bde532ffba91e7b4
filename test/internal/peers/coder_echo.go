package peers

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// CoderEcho starts an echo server on github.com/coder/websocket, in this
// process, on 127.0.0.1 with an ephemeral port and returns its ws:// URL;
// it is stopped by t.Cleanup, which ends every connection.
//
// It behaves as PythonEcho: it selects the first of the client's protocols
// among protocols, echoes messages with their type (up to 64 MiB), and
// understands "!close CODE REASON" and "!ping PAYLOAD" (reported by
// "pong:PAYLOAD" once the pong arrives). It answers a close frame as coder
// does: with the same code and reason.
//
// coder/websocket cannot send a ping with a payload of the caller's choice
// (Conn.Ping numbers its own), so the server writes that one frame itself
// on the connection coder hijacked, at a point where coder is not writing;
// coder still reads the client's pong and reports it through
// OnPongReceived.
func CoderEcho(t testing.TB, protocols ...string) string {
	t.Helper()
	return serveGo(t, "coder", func(w http.ResponseWriter, r *http.Request, track func(io.Closer) bool) {
		// The Go library ranks by the server's order: it is offered the
		// selected protocol alone.
		var supported []string
		if p := selectProtocol(offeredProtocols(r), protocols); p != "" {
			supported = []string{p}
		}
		hw := &hijackRecorder{ResponseWriter: w}
		c := &coderConn{hw: hw}
		var pending pendingPings
		conn, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
			Subprotocols: supported,
			// Runs inside Read, on this goroutine, like every write of
			// this connection.
			OnPongReceived: func(_ context.Context, payload []byte) {
				if err := reportPong(c, &pending, payload); err != nil {
					c.conn.CloseNow()
				}
			},
		})
		if err != nil {
			return // coder has answered with an HTTP error
		}
		defer conn.CloseNow()
		c.conn = conn
		if !track(hw.conn) {
			return
		}
		conn.SetReadLimit(maxMessageSize)
		runEcho(c, &pending)
	})
}

// offeredProtocols is the client's Sec-WebSocket-Protocol list, in order.
func offeredProtocols(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		out = append(out, splitComma(v)...)
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			p := s[start:i]
			for len(p) > 0 && (p[0] == ' ' || p[0] == '\t') {
				p = p[1:]
			}
			for len(p) > 0 && (p[len(p)-1] == ' ' || p[len(p)-1] == '\t') {
				p = p[:len(p)-1]
			}
			if p != "" {
				out = append(out, p)
			}
			start = i + 1
		}
	}
	return out
}

// hijackRecorder keeps the connection coder hijacks, for the server's own
// ping frames and for the cleanup.
type hijackRecorder struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the ResponseWriter cannot be hijacked")
	}
	c, brw, err := hj.Hijack()
	h.conn = c
	return c, brw, err
}

type coderConn struct {
	hw   *hijackRecorder
	conn *websocket.Conn
}

func (c *coderConn) read() (bool, []byte, error) {
	typ, p, err := c.conn.Read(context.Background())
	return typ == websocket.MessageBinary, p, err
}

func (c *coderConn) write(binary bool, p []byte) error {
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	return c.conn.Write(context.Background(), typ, p)
}

// ping writes an unmasked, final ping frame (a payload of at most 125
// bytes, checked by runEcho) straight to the connection. It runs on the
// handler goroutine between coder's calls: coder writes only from it, and
// flushes every final frame before its call returns, so the frame cannot
// land inside one of coder's.
func (c *coderConn) ping(payload []byte) error {
	frame := append([]byte{0x89, byte(len(payload))}, payload...)
	_, err := c.hw.conn.Write(frame)
	return err
}

// close runs coder's closing handshake: it sends the close frame, waits for
// the client's, and closes the connection.
func (c *coderConn) close(code int, reason string) error {
	return c.conn.Close(websocket.StatusCode(code), reason)
}
