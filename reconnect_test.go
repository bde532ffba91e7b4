package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// fastRetry reconnects after 10ms, without jitter, so traces are exact.
func fastRetry() *websocket.ReconnectPolicy {
	return &websocket.ReconnectPolicy{InitialDelay: 10 * time.Millisecond, MaxDelay: 40 * time.Millisecond, Jitter: -1}
}

// A connection that ends abruptly is made again on the same socket:
// reconnect, then open again; close fires once, at the end.
func TestReconnectAfterAbruptEnd(t *testing.T) {
	srv := startRawServer(t,
		func(c *rawConn) {
			c.accept()
			c.write(textFrame("one"))
			c.reset()
		},
		func(c *rawConn) {
			c.accept()
			c.write(textFrame("two"))
			c.finish(websocket.CloseNormal, "")
		})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Reconnect: fastRetry()})
	tc.run()
	tc.expectTrace(traceOpen, `message OPEN text "one"`,
		"reconnect CONNECTING attempt=1 after close 1006 <nil>",
		traceOpen, `message OPEN text "two"`, traceCleanNormal)
	if d := tc.Reconnects[0].Delay; d != 10*time.Millisecond {
		t.Errorf("delay %v, want InitialDelay without jitter", d)
	}
	srv.report(t)
	srv.report(t)
}

// What is sent while reconnecting waits, counted in BufferedAmount, and
// goes out once the socket is open again; Ping is refused meanwhile.
func TestReconnectQueuesSends(t *testing.T) {
	srv := startRawServer(t,
		func(c *rawConn) {
			c.accept()
			c.closeTCP()
		},
		func(c *rawConn) {
			c.accept()
			if f := c.readFrame(); f.Op != opText || string(f.Payload) != "queued" {
				c.fail("want the queued message, got %v", f)
			}
			c.finish(websocket.CloseNormal, "")
		})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Reconnect: fastRetry()})
	tc.OnReconnect = func(ws *websocket.WebSocket, _ websocket.ReconnectEvent) {
		if err := ws.SendText("queued"); err != nil {
			t.Errorf("SendText while reconnecting: %v", err)
		}
		if n := ws.BufferedAmount(); n != 6 {
			t.Errorf("BufferedAmount %d while reconnecting, want 6", n)
		}
		if err := ws.Ping(nil); !errors.Is(err, websocket.ErrInvalidState) {
			t.Errorf("Ping while reconnecting: %v", err)
		}
	}
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if len(tc.Reconnects) > 0 && ws.BufferedAmount() != 6 {
			t.Errorf("BufferedAmount %d at reopen, before the task ends", ws.BufferedAmount())
		}
	}
	tc.run()
	tc.expectTrace(traceOpen, "reconnect CONNECTING attempt=1 after close 1006 <nil>", traceOpen, traceCleanNormal)
	srv.report(t)
	srv.report(t)
}

// Messages the lost connection had not wholly written go out again, whole
// and in order, on the next: the next server gets exactly the messages the
// socket still counted in BufferedAmount, a run that ends the sequence.
func TestReconnectCarriesUnwrittenMessages(t *testing.T) {
	const n, size = 64, 256 << 10 // 16 MiB: more than loopback's buffers take
	got := make(chan []int, 1)
	srv := startRawServer(t,
		func(c *rawConn) {
			c.accept()
			// Reads nothing, so the client's backlog stays, then resets.
			if err := c.nc.SetReadBuffer(4096); err != nil {
				c.fail("%v", err)
			}
			c.reset()
		},
		func(c *rawConn) {
			c.accept()
			var seqs []int
			for {
				f := c.readFrame()
				if f.Op == opClose {
					break
				}
				seqs = append(seqs, int(f.Payload[0]))
			}
			got <- seqs
			c.write(closeFrame(websocket.CloseNormal, ""))
			c.closeTCP()
		})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Reconnect: fastRetry()})
	msg := make([]byte, size)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if len(tc.Reconnects) > 0 {
			ws.CloseWith(websocket.CloseNormal, "") // after what was carried
			return
		}
		for i := range n {
			msg[0] = byte(i)
			if err := ws.Send(msg); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
	}
	carried := -1
	tc.OnReconnect = func(ws *websocket.WebSocket, _ websocket.ReconnectEvent) { carried = ws.BufferedAmount() }
	tc.run()
	seqs := <-got
	if carried <= 0 || carried%size != 0 || len(seqs) != carried/size {
		t.Fatalf("carried %d bytes, the next server got %d messages", carried, len(seqs))
	}
	for i, s := range seqs {
		if want := n - len(seqs) + i; s != want {
			t.Fatalf("the next server got messages %v, want the last %d in order", seqs, len(seqs))
		}
	}
	srv.report(t)
	srv.report(t)
}

// A normal close by the server ends the socket: no reconnection.
func TestReconnectStopsOnNormalClose(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.finish(websocket.CloseNormal, "bye")
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Reconnect: fastRetry()})
	tc.run()
	tc.expectTrace(traceOpen, `close CLOSED 1000 "bye" clean=true`)
	srv.report(t)
}

// A server restarting (1012) is retried; a protocol error is not.
func TestReconnectRetryPolicy(t *testing.T) {
	srv := startRawServer(t,
		func(c *rawConn) {
			c.accept()
			c.finish(websocket.CloseServiceRestart, "")
		},
		func(c *rawConn) {
			c.accept()
			c.write(frameSpec{Fin: true, Op: opText, Mask: true, Payload: []byte("x")}.bytes())
			c.drainUntilEOF()
		})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Reconnect: fastRetry()})
	tc.run()
	tc.expectTrace(traceOpen, "reconnect CONNECTING attempt=1 after close 1012 <nil>",
		traceOpen, "error CLOSED ProtocolError(1002)", traceAbnormal)
	srv.report(t)
	srv.report(t)
}

// A server that is down is tried MaxAttempts times, with growing waits;
// then the socket gives up with the last failure.
func TestReconnectMaxAttempts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close() // nothing listens there now
	tc := newTraceClient(t, url, &websocket.Config{Reconnect: &websocket.ReconnectPolicy{
		InitialDelay: 5 * time.Millisecond, MaxDelay: 12 * time.Millisecond, Jitter: -1, MaxAttempts: 3}})
	tc.run()
	tc.expectTrace(
		"reconnect CONNECTING attempt=1 after close 1006 ConnectError",
		"reconnect CONNECTING attempt=2 after close 1006 ConnectError",
		"reconnect CONNECTING attempt=3 after close 1006 ConnectError",
		"error CLOSED ConnectError", traceAbnormal)
	var delays []time.Duration
	for _, r := range tc.Reconnects {
		delays = append(delays, r.Delay)
	}
	if fmt.Sprint(delays) != "[5ms 10ms 12ms]" {
		t.Errorf("delays %v, want 5ms doubling, capped at 12ms", delays)
	}
}

// The program's Close while the socket waits to reconnect ends it, as a
// close while connecting does; nothing is left on the loop.
func TestReconnectClosedWhileWaiting(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Reconnect: &websocket.ReconnectPolicy{InitialDelay: time.Hour}})
	tc.OnReconnect = func(ws *websocket.WebSocket, _ websocket.ReconnectEvent) {
		ws.SendText("never sent")
		ws.Close()
	}
	tc.run()
	tc.expectTrace(traceOpen, "reconnect CONNECTING attempt=1 after close 1006 <nil>",
		"error CLOSED ErrClosedWhileConnecting", traceAbnormal)
	if n := tc.WS.BufferedAmount(); n != len("never sent") {
		t.Errorf("BufferedAmount %d after the close, want the dropped message counted", n)
	}
	srv.report(t)
}

// A socket found dead by keepalive reconnects.
func TestReconnectAfterKeepalive(t *testing.T) {
	srv := startRawServer(t,
		func(c *rawConn) {
			c.accept()
			c.drainUntilEOF()
		},
		func(c *rawConn) {
			c.accept()
			c.finish(websocket.CloseNormal, "")
		})
	tc := newTraceClient(t, srv.URL, &websocket.Config{PingInterval: 30 * time.Millisecond, Reconnect: fastRetry()})
	tc.run()
	tc.expectTrace(traceOpen, "reconnect CONNECTING attempt=1 after close 1006 KeepaliveError(ping)",
		traceOpen, traceCleanNormal)
	srv.report(t)
	srv.report(t)
}

// A dialed socket reconnects while the program waits: WaitForNextMessage
// goes on returning messages, LowLevelReceive shows the reconnection.
func TestReconnectDialed(t *testing.T) {
	srv := startRawServer(t,
		func(c *rawConn) {
			c.accept()
			c.write(textFrame("a"))
			c.reset()
		},
		func(c *rawConn) {
			c.accept()
			c.write(textFrame("b"))
			c.finish(websocket.CloseNormal, "")
		})
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL, &websocket.Config{Reconnect: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for {
		e, err := ws.LowLevelReceive(ctx)
		if err != nil {
			var ce *websocket.ClosedError
			if !errors.As(err, &ce) || ce.Event.Code != websocket.CloseNormal {
				t.Fatal(err)
			}
			break
		}
		kinds = append(kinds, e.Type())
	}
	if fmt.Sprint(kinds) != "[message reconnect open message]" {
		t.Errorf("LowLevelReceive gave %v", kinds)
	}
	srv.report(t)
	srv.report(t)
}

func TestReconnectConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		p     websocket.ReconnectPolicy
		field string
	}{
		{websocket.ReconnectPolicy{InitialDelay: -1}, "Reconnect.InitialDelay"},
		{websocket.ReconnectPolicy{Factor: 0.5}, "Reconnect.Factor"},
		{websocket.ReconnectPolicy{Jitter: 1.5}, "Reconnect.Jitter"},
		{websocket.ReconnectPolicy{MaxAttempts: -1}, "Reconnect.MaxAttempts"},
		{websocket.ReconnectPolicy{InitialDelay: time.Minute, MaxDelay: time.Second}, "Reconnect.MaxDelay"},
	} {
		_, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &websocket.Config{Reconnect: &tt.p})
		var ce *websocket.ConfigError
		if !errors.As(err, &ce) || ce.Field != tt.field {
			t.Errorf("%+v: %v, want a ConfigError on %s", tt.p, err, tt.field)
		}
	}
}

// A handshake whose connection is reset before any answer (a server
// restarting resets what waits in its backlog) is retried; one the server
// answered wrongly is not.
func TestRetryTransientHandshakes(t *testing.T) {
	reset := &websocket.HandshakeError{Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
	ended := &websocket.HandshakeError{Err: io.EOF}
	wrong := &websocket.HandshakeError{StatusCode: 101, Err: errors.New("bad Sec-WebSocket-Accept")}
	notFound := &websocket.HandshakeError{StatusCode: 404, Err: errors.New("404")}
	ev := websocket.CloseEvent{Code: websocket.CloseAbnormal}
	for _, tt := range []struct {
		err  error
		want bool
	}{{reset, true}, {ended, true}, {wrong, false}, {notFound, false}} {
		if got := websocket.RetryTransient(ev, tt.err); got != tt.want {
			t.Errorf("RetryTransient(%v) = %v", tt.err, got)
		}
	}
}
