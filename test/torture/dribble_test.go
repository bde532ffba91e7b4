package torture_test

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// Frame headers one byte per write, the next byte written only once the
// client has read the previous one: every header byte reaches the client
// in a read of its own, whatever the poller and the scheduler do, without
// a sleep guessing how long the client needs.
//
// The client's progress is the kernel's: for each TCP socket it counts the
// bytes sent but not acknowledged (the write queue) and the bytes received
// but not read by the application (the read queue), as ss(8) shows them.
// Once the server's write queue and the client's read queue are both
// empty, the client has read every byte written so far. Both pollers read
// again only once the protocol core has consumed the previous read (the
// portable one waits for the loop to hand the read back), so each byte is
// also fed to the core on its own. tcpQueues (sockdiag_linux_test.go) asks
// the kernel for one socket's queues.

// waitDrained returns once the client has read everything the server
// wrote. It asks the kernel, yielding between looks; a client that stops
// reading for serverBound fails the script.
func (c *rawConn) waitDrained() {
	server := c.nc.LocalAddr().(*net.TCPAddr)
	client := c.nc.RemoteAddr().(*net.TCPAddr)
	deadline := time.Now().Add(serverBound)
	for {
		_, stx, err1 := tcpQueues(server, client)
		crx, _, err2 := tcpQueues(client, server)
		switch {
		case err1 != nil || err2 != nil:
			c.fatalf("asking the kernel for the queues: %v; %v", err1, err2)
		case stx == 0 && crx == 0:
			return
		case time.Now().After(deadline):
			c.fatalf("the client did not read what was written in %v (server write queue %d, client read queue %d)",
				serverBound, stx, crx)
		}
		runtime.Gosched()
	}
}

// dribble writes b one byte per write, each once the client has read the
// previous one. after, when not nil, is called once each byte is read.
func (c *rawConn) dribble(b []byte, after ...func(i int)) {
	for i := range b {
		c.write(b[i : i+1])
		c.waitDrained()
		for _, f := range after {
			f(i)
		}
	}
}

// wantPartial is an after hook for dribble: while a header is incomplete,
// the socket reports data pending (IsDataPending, safe from any
// goroutine), which shows the bytes so far were read and fed on their own.
func wantPartial(c *rawConn, ws *atomic.Pointer[websocket.WebSocket], n int) func(int) {
	return func(i int) {
		if i >= n-1 {
			return
		}
		// The kernel's queue being empty shows the loop read the byte; it
		// feeds it to the core a moment later, with no event to await
		// from here, so the check allows that moment (bounded).
		for deadline := time.Now().Add(2 * time.Second); !ws.Load().IsDataPending(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				c.fatalf("after %d of the header's %d bytes, IsDataPending is false: the client has not taken the byte in", i+1, n)
				return
			}
		}
	}
}

// dribbleCase is a frame whose header is dribbled, then its payload
// written at once.
type dribbleCase struct {
	header, payload []byte
}

func dribbleFrame(fin bool, op byte, payload []byte, enc int) dribbleCase {
	return dribbleCase{appendHeader(nil, fin, op, uint64(len(payload)), enc), payload}
}

// Every header form, dribbled: 7-bit, 16-bit and 64-bit lengths (each in
// its minimal encoding, as RFC 6455 requires: a longer one fails the
// connection, see internal/protocol), fragments, a ping and a pong between
// them, and the close frame. The client gets every message whole, answers the ping, and
// closes cleanly.
func TestDribbledHeaders(t *testing.T) {
	if why := tcpQueuesUsable(); why != "" {
		t.Skip(why)
	}
	p300 := bytes.Repeat([]byte("0123456789"), 30)
	p70k := bytes.Repeat([]byte{0x5a}, 70000)
	frames := []dribbleCase{
		dribbleFrame(true, opText, []byte("seven"), 0),
		dribbleFrame(true, opBinary, p300, 0),
		dribbleFrame(true, opBinary, p70k, 0),
		dribbleFrame(true, opText, []byte("sixteen"), 0),
		dribbleFrame(true, opText, []byte("sixty-four"), 0),
		dribbleFrame(true, opText, nil, 0),
		dribbleFrame(false, opText, []byte("frag"), 0),
		dribbleFrame(true, opPing, []byte("dribbled ping"), 0),
		dribbleFrame(true, opPong, nil, 0),
		dribbleFrame(false, opCont, []byte("men"), 0),
		dribbleFrame(true, opCont, []byte("ted"), 0),
		{closeFrame(4001, "dribbled")[:2], closeFrame(4001, "dribbled")[2:]},
	}
	var ws atomic.Pointer[websocket.WebSocket]
	srv := serve(t, func(c *rawConn) {
		for _, f := range frames {
			c.dribble(f.header, wantPartial(c, &ws, len(f.header)))
			if len(f.payload) > 0 {
				c.write(f.payload)
			}
		}
		if f := c.mustFrame(); f.op != opPong || string(f.payload) != "dribbled ping" {
			c.fatalf("client sent %v; want the pong", f)
		}
		c.expectClose(4001)
	})
	cl := newClient(t, srv.URL, nil)
	ws.Store(cl.ws)
	cl.run()
	srv.wait(t)
	cl.wantTrace(traceOpen,
		`message OPEN text "seven"`,
		"message OPEN binary len=300",
		"message OPEN binary len=70000",
		`message OPEN text "sixteen"`,
		`message OPEN text "sixty-four"`,
		`message OPEN text ""`,
		`ping OPEN "dribbled ping"`,
		`pong OPEN ""`,
		`message OPEN text "fragmented"`,
		`close CLOSED 4001 "dribbled" clean=true`,
	)
	if len(cl.messages) > 2 && (!bytes.Equal(cl.messages[1].Data, p300) || !bytes.Equal(cl.messages[2].Data, p70k)) {
		t.Errorf("a dribbled message arrived corrupted")
	}
	cl.messages = nil
	cl.wantHeap(4*MiB, retainBound)
}

// A whole conversation dribbled, payloads too: the same events as when it
// comes in one piece.
func TestDribbledConversation(t *testing.T) {
	if why := tcpQueuesUsable(); why != "" {
		t.Skip(why)
	}
	input := cat(
		textFrame("héllo €😀"),
		frame(false, opText, []byte("a\xe2\x82")),
		frame(true, opPing, []byte("p")),
		frame(true, opCont, []byte("\xac b")),
		closeFrame(1000, "bye"),
	)
	srv := serve(t, func(c *rawConn) {
		c.dribble(input)
		if f := c.mustFrame(); f.op != opPong || string(f.payload) != "p" {
			c.fatalf("client sent %v; want the pong", f)
		}
		c.expectClose(1000)
	})
	cl := newClient(t, srv.URL, nil)
	cl.run()
	srv.wait(t)
	cl.wantTrace(traceOpen, `message OPEN text "héllo €😀"`, `ping OPEN "p"`, `message OPEN text "a€ b"`,
		`close CLOSED 1000 "bye" clean=true`)
}

// Dribbled violations fail at the byte that makes them one, not later: the
// server dribbles the header up to that byte, and no further, and the
// client's close frame must come.
func TestDribbledViolations(t *testing.T) {
	if why := tcpQueuesUsable(); why != "" {
		t.Skip(why)
	}
	for _, tc := range []struct {
		name  string
		input []byte
		code  int
	}{
		{"Length2To63", appendHeader(nil, true, opBinary, 1<<63, 64), websocket.CloseProtocolError},
		{"Length2To63Minus1", appendHeader(nil, true, opBinary, 1<<63-1, 64), websocket.CloseMessageTooBig},
		{"Announced32MiBPlus1", appendHeader(nil, true, opBinary, websocket.DefaultMaxMessageSize+1, 64), websocket.CloseMessageTooBig},
		{"MaskedFrame", []byte{0x81, 0x85}, websocket.CloseProtocolError},
		{"ReservedOpcode", []byte{0x83, 0x00}, websocket.CloseProtocolError},
		{"FragmentedPing", []byte{0x09, 0x00}, websocket.CloseProtocolError},
		{"CloseOneByte", []byte{0x88, 0x01}, websocket.CloseProtocolError},
		{"InvalidUTF8", append(appendHeader(nil, true, opText, 100, 0), "ok \xff"...), websocket.CloseInvalidPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(c *rawConn) {
				c.dribble(tc.input)
				c.failedWith(tc.code)
			})
			cl := newClient(t, srv.URL, nil)
			cl.run()
			srv.wait(t)
			cl.wantTrace(openThenFailed(tc.code)...)
			cl.wantHeap(2*MiB, retainBound)
		})
	}
}

// The blocking API: while WaitForNextMessage runs the socket's loop, a
// header is dribbled; the message is returned whole, and in between the
// socket reports data pending but no message buffered.
func TestBlockingDribbledHeader(t *testing.T) {
	if why := tcpQueuesUsable(); why != "" {
		t.Skip(why)
	}
	payload := bytes.Repeat([]byte("dribble "), 8192) // 64 KiB: the 64-bit length form
	f := dribbleFrame(true, opBinary, payload, 64)
	var ws atomic.Pointer[websocket.WebSocket]
	ready := make(chan struct{})
	srv := serve(t, func(c *rawConn) {
		<-ready
		c.dribble(f.header, wantPartial(c, &ws, len(f.header)), func(int) {
			if ws.Load().IsMessageBuffered() {
				c.fatalf("a message is buffered in the middle of a header")
			}
		})
		c.write(f.payload)
		c.write(closeFrame(1000, ""))
		c.expectClose(1000)
	})
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	conn, err := websocket.Dial(ctx, srv.URL, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	ws.Store(conn)
	close(ready)
	m, err := conn.WaitForNextMessage(ctx)
	if err != nil || !m.Binary || !bytes.Equal(m.Data, payload) {
		t.Fatalf("WaitForNextMessage: %v binary=%t %d bytes; want the %d-byte binary message", err, m.Binary, len(m.Data), len(payload))
	}
	if _, err := conn.WaitForNextMessage(ctx); err == nil {
		t.Fatalf("a second message; want the close")
	}
	srv.wait(t)
}
