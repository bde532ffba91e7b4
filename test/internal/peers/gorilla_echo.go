package peers

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// GorillaEcho starts an echo server on github.com/gorilla/websocket, in this
// process, on 127.0.0.1 with an ephemeral port and returns its ws:// URL;
// it is stopped by t.Cleanup, which ends every connection.
//
// It behaves as PythonEcho: it selects the first of the client's protocols
// among protocols, echoes messages with their type (up to 64 MiB), and
// understands "!close CODE REASON" and "!ping PAYLOAD" (reported by
// "pong:PAYLOAD" once the pong arrives). It answers a close frame as
// gorilla does by default: with the same code and no reason.
func GorillaEcho(t testing.TB, protocols ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gorilla peer: %v", err)
	}
	GorillaEchoOn(t, ln, protocols...)
	return "ws://" + ln.Addr().String() + "/"
}

// GorillaEchoOn is GorillaEcho serving on ln, a listener of the caller's: a
// TLS listener (the URL is then wss://), a Unix socket, a listener in
// another network namespace. The server closes ln at t.Cleanup.
func GorillaEchoOn(t testing.TB, ln net.Listener, protocols ...string) {
	t.Helper()
	upgrader := websocket.Upgrader{
		// The client sends no Origin unless told to; tests never do.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	serveGoOn(t, "gorilla", ln, func(w http.ResponseWriter, r *http.Request, track func(io.Closer) bool) {
		// Subprotocols nil: gorilla then answers with the protocol put in
		// the response header.
		h := http.Header{}
		if p := selectProtocol(websocket.Subprotocols(r), protocols); p != "" {
			h.Set("Sec-WebSocket-Protocol", p)
		}
		conn, err := upgrader.Upgrade(w, r, h)
		if err != nil {
			return // gorilla has answered with an HTTP error
		}
		defer conn.Close()
		if !track(conn) {
			return
		}
		conn.SetReadLimit(maxMessageSize)
		c := gorillaConn{conn}
		var pending pendingPings
		// The pong handler runs inside ReadMessage, on this goroutine,
		// which is the connection's only writer of messages.
		conn.SetPongHandler(func(payload string) error {
			return reportPong(c, &pending, []byte(payload))
		})
		runEcho(c, &pending)
	})
}

type gorillaConn struct{ c *websocket.Conn }

func (g gorillaConn) read() (bool, []byte, error) {
	typ, p, err := g.c.ReadMessage()
	return typ == websocket.BinaryMessage, p, err
}

func (g gorillaConn) write(binary bool, p []byte) error {
	typ := websocket.TextMessage
	if binary {
		typ = websocket.BinaryMessage
	}
	return g.c.WriteMessage(typ, p)
}

func (g gorillaConn) ping(payload []byte) error {
	return g.c.WriteControl(websocket.PingMessage, payload, time.Now().Add(closeWait))
}

// close sends the close frame, then reads (dropping messages) until the
// client's close frame, which ReadMessage reports as an error.
func (g gorillaConn) close(code int, reason string) error {
	msg := websocket.FormatCloseMessage(code, reason)
	if err := g.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait)); err != nil {
		return err
	}
	g.c.SetReadDeadline(time.Now().Add(closeWait))
	for {
		if _, _, err := g.c.ReadMessage(); err != nil {
			if websocket.IsCloseError(err, code) || websocket.IsCloseError(err, websocket.CloseNoStatusReceived) {
				return nil
			}
			return err
		}
	}
}
