package echoserver_test

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/internal/echoserver"
)

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()

	srv, err := echoserver.Listen("127.0.0.1:0", echoserver.Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf(
			"Listen: %v",
			err,
		)
	}
	// One connection in each state a goroutine can be in: reading frames,
	// in the middle of a message, and still in the opening handshake.
	idle := dial(t, srv.URL())
	busy := dial(t, srv.URL())
	busy.send(ws.OpText, false, []byte("part"))
	// The pong says the server has read the fragment before it: it is in
	// the middle of the message, and no byte of busy's is left unread,
	// which would make Close reset the connection instead of ending it
	// (seen under load).
	busy.send(ws.OpPing, true, []byte("p"))
	busy.expect(ws.OpPong, []byte("p"))
	raw, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatalf(
			"dialing without handshake: %v",
			err,
		)
	}
	defer raw.Close()
	// A round trip proves the server is serving before it is closed.
	idle.send(ws.OpText, true, []byte("x"))
	idle.expect(ws.OpText, []byte("x"))

	if err := srv.Close(); err != nil {
		t.Fatalf(
			"Close: %v",
			err,
		)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf(
			"second Close: %v",
			err,
		)
	}
	idle.expectEOF()
	busy.expectEOF()
	if _, err := net.Dial("tcp", srv.Addr().String()); err == nil {
		t.Fatalf(
			"dialing %v after Close succeeded",
			srv.Addr(),
		)
	}

	// The server's goroutines have returned when Close does, but the
	// runtime counts them until they have fully exited, which is
	// asynchronous: poll briefly.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf(
			"%d goroutines after Close, %d before:\n%s",
			n, before, buf[:runtime.Stack(buf, true)],
		)
	}
}
