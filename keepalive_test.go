package websocket_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// A server that reads but never answers is found dead PongTimeout after
// the keepalive ping: error, close 1006, and the server gets the ping
// (8 bytes) and then a close frame 1011 before the connection ends.
func TestKeepaliveSilentServerFails(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.drainUntilEOF()
	})
	const interval, timeout = 100 * time.Millisecond, 150 * time.Millisecond
	tc := newTraceClient(t, srv.URL, &websocket.Config{PingInterval: interval, PongTimeout: timeout})
	var opened, failed time.Time
	tc.OnOpen = func(*websocket.WebSocket) { opened = time.Now() }
	tc.OnError = func(*websocket.WebSocket, websocket.ErrorEvent) { failed = time.Now() }
	tc.run()
	tc.expectTrace(traceOpen, "error CLOSED KeepaliveError(ping)", traceAbnormal)
	earliest := interval + timeout
	if d := failed.Sub(opened); d < earliest {
		t.Errorf("failed %v after open, before PingInterval+PongTimeout", d)
	}
	var ke *websocket.KeepaliveError
	if !errors.As(tc.Errors[0], &ke) || ke.Silence < earliest || !ke.Timeout() {
		t.Errorf("error %#v", tc.Errors[0])
	}
	rep := srv.report(t)
	if len(rep.Frames) != 2 || rep.Frames[0].Op != opPing || len(rep.Frames[0].Payload) != 8 {
		t.Fatalf("server got %v, want a keepalive ping then a close", rep.Frames)
	}
	checkCloseFrame(t, rep.Frames[1], websocket.CloseInternalError)
}

// IdleTimeout alone sends no ping: silence past it fails the connection.
func TestKeepaliveIdleTimeout(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.drainUntilEOF()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{IdleTimeout: 150 * time.Millisecond})
	tc.run()
	tc.expectTrace(traceOpen, "error CLOSED KeepaliveError(idle)", traceAbnormal)
	checkOnlyClose(t, srv.report(t), websocket.CloseInternalError)
}

// A server that answers keeps the socket open through several pings; each
// pong carries the round trip of its ping. The server closes cleanly after
// three.
func TestKeepaliveAnsweredStaysOpen(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		for range 3 {
			f := c.readFrame()
			if f.Op != opPing {
				c.fail("want a ping, got %v", f)
			}
			c.write(pongFrame(f.Payload))
		}
		c.finish(websocket.CloseNormal, "")
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{PingInterval: 50 * time.Millisecond})
	var rtts []time.Duration
	tc.OnPong = func(_ *websocket.WebSocket, p websocket.PongEvent) { rtts = append(rtts, p.RTT) }
	tc.run()
	tc.expectTrace(traceOpen,
		`pong OPEN "\x00\x00\x00\x00\x00\x00\x00\x01"`,
		`pong OPEN "\x00\x00\x00\x00\x00\x00\x00\x02"`,
		`pong OPEN "\x00\x00\x00\x00\x00\x00\x00\x03"`,
		`close CLOSED 1000 "" clean=true`)
	for i, d := range rtts {
		if d <= 0 {
			t.Errorf("pong %d: RTT %v", i, d)
		}
	}
	srv.report(t)
}

// A pong's RTT is set for the pong answering the socket's latest Ping, and
// zero for an unsolicited one.
func TestPongRTT(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		f := c.readFrame()
		c.write(pongFrame([]byte("other")), pongFrame(f.Payload), pongFrame(f.Payload))
		c.finish(websocket.CloseNormal, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if err := ws.Ping([]byte("abc")); err != nil {
			t.Error(err)
		}
	}
	var rtts []time.Duration
	tc.OnPong = func(_ *websocket.WebSocket, p websocket.PongEvent) { rtts = append(rtts, p.RTT) }
	tc.run()
	if len(rtts) != 3 || rtts[0] != 0 || rtts[1] <= 0 || rtts[2] != 0 {
		t.Errorf("RTTs %v: want 0 (unsolicited), > 0 (the answer), 0 (answered already)", rtts)
	}
	srv.report(t)
}

// With ManualPong the library leaves the server's pings unanswered: the
// program answers, here one ping of two.
func TestManualPong(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(pingFrame([]byte("one")), pingFrame([]byte("two")))
		if f := c.readFrame(); f.Op != opPong || string(f.Payload) != "two" {
			c.fail("want the program's pong for two, got %v", f)
		}
		c.finish(websocket.CloseNormal, "")
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{ManualPong: true})
	tc.OnPing = func(ws *websocket.WebSocket, p websocket.PingEvent) {
		if string(p.Data) == "two" {
			ws.Pong(p.Data)
		}
	}
	tc.run()
	tc.expectTrace(traceOpen, `ping OPEN "one"`, `ping OPEN "two"`, traceCleanNormal)
	rep := srv.report(t)
	if len(rep.Frames) != 2 {
		t.Errorf("server got %v, want the program's pong and the close echo", rep.Frames)
	}
}

// A dialed socket's keepalive runs while the program waits: the blocking
// call returns the KeepaliveError in its ClosedError.
func TestKeepaliveDialed(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.drainUntilEOF()
	})
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL, &websocket.Config{PingInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ws.WaitForNextMessage(ctx)
	var ce *websocket.ClosedError
	var ke *websocket.KeepaliveError
	if !errors.As(err, &ce) || ce.Event.Code != websocket.CloseAbnormal || !errors.As(err, &ke) || !ke.PingUnanswered {
		t.Fatalf("WaitForNextMessage: %v", err)
	}
	srv.report(t)
}

// A dialed socket whose program stops reading is not silent, only unheard:
// its loop stops reading it, and keepalive must not find it dead.
func TestKeepalivePausedInboxIsNotSilence(t *testing.T) {
	const n = 64
	payload := make([]byte, 1024)
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		for range n {
			c.write(binaryFrame(payload))
		}
		c.answerClose(websocket.CloseNormal, "")
	})
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	const idle = 100 * time.Millisecond
	ws, err := websocket.Dial(ctx, srv.URL, &websocket.Config{IdleTimeout: idle, MaxInboxSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if err := websocket.AwaitPaused(ctx, ws); err != nil {
		t.Fatal(err)
	}
	// Time must pass, unread, for the check to mean anything.
	time.Sleep(3 * idle)
	if st := ws.ReadyState(); st != websocket.Open {
		t.Fatalf("after %v of a full inbox: %v", 3*idle, st)
	}
	if _, err := ws.WaitForNextMessage(ctx); err != nil {
		t.Fatal(err)
	}
	// One message taken leaves the inbox over half full, so still paused.
	// Were it read again, the server's silence would count: it has sent
	// everything, which the portable poller may have read already.
	ws.CloseWith(websocket.CloseNormal, "")
	srv.report(t)
}

func TestKeepaliveConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg   websocket.Config
		field string
	}{
		{websocket.Config{PingInterval: -time.Second}, "PingInterval"},
		{websocket.Config{PingInterval: 30}, "PingInterval"},
		{websocket.Config{IdleTimeout: 5}, "IdleTimeout"},
		{websocket.Config{PingInterval: time.Second, PongTimeout: 10}, "PongTimeout"},
		{websocket.Config{PongTimeout: time.Second}, "PongTimeout"},
	} {
		_, err := websocket.NewWithConfig("ws://127.0.0.1:1/", &tt.cfg)
		var ce *websocket.ConfigError
		if !errors.As(err, &ce) || ce.Field != tt.field {
			t.Errorf("%+v: %v, want a ConfigError on %s", tt.cfg, err, tt.field)
		}
	}
}

// A KeepaliveError is a net.Error, so that code that retries on network
// timeouts recognizes it.
var _ net.Error = (*websocket.KeepaliveError)(nil)
