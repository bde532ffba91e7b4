package websocket_test

// The closing handshake from the client's side, and the ways a server can end
// a connection without one.

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

func TestRawClientCloseWithCodeAndReason(t *testing.T) {
	var closeErr error
	var stateAfter websocket.ReadyState
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.answerClose(4001, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		closeErr = ws.CloseWith(4001, "done")
		stateAfter = ws.ReadyState()
	}
	tc.run()
	rep := srv.report(t)
	if closeErr != nil {
		t.Errorf("CloseWith(4001, \"done\") = %v", closeErr)
	}
	if stateAfter != websocket.Closing {
		t.Errorf("ReadyState after CloseWith = %v, want CLOSING", stateAfter)
	}
	tc.expectTrace(traceOpen, `close CLOSED 4001 "" clean=true`)
	checkOnlyClose(t, rep, 4001)
	if len(rep.Frames) == 1 {
		if _, reason := rep.Frames[0].closeCode(); reason != "done" {
			t.Errorf("client's close reason = %q, want \"done\"", reason)
		}
	}
}

func TestRawClientCloseSendsEmptyPayload(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readClose()
		c.write(closeRawFrame(nil))
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if err := ws.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `close CLOSED 1005 "" clean=true`)
	checkOnlyClose(t, rep, -1)
}

// Close and CloseWith twice: only the first close frame goes out.
func TestRawClientCloseTwice(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readClose()
		c.write(closeFrame(1000, ""))
		c.closeWrite()
		c.expectEOF() // nothing after the first close frame
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		ws.CloseWith(1000, "first")
		ws.Close()
		if err := ws.CloseWith(3000, "second"); err != nil {
			t.Errorf("second CloseWith = %v, want nil (it does nothing)", err)
		}
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	checkOnlyClose(t, rep, 1000)
}

// The server never answers the client's close frame: after CloseTimeout the
// client gives up, close 1006, not clean, and no error event.
func TestRawClientCloseServerSilent(t *testing.T) {
	var closedAt time.Time
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readClose()
		c.expectEOF() // the client closes TCP after its CloseTimeout
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 200 * time.Millisecond})
	tc.OnOpen = func(ws *websocket.WebSocket) {
		closedAt = time.Now()
		ws.Close()
	}
	var waited time.Duration
	tc.OnClose = func(*websocket.WebSocket, websocket.CloseEvent) { waited = time.Since(closedAt) }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceAbnormal)
	checkOnlyClose(t, rep, -1)
	if waited < 190*time.Millisecond {
		t.Errorf("close event %v after Close(), want it after the 200ms CloseTimeout", waited)
	}
}

// The server answers with its close frame but never closes TCP: after
// CloseTimeout the client closes it, and the close was clean, with the
// server's code.
func TestRawServerClosesButKeepsTCP(t *testing.T) {
	t.Run("server initiated", func(t *testing.T) {
		srv := startRawServer(t, func(c *rawConn) {
			c.accept()
			c.write(closeFrame(4002, "later"))
			c.readClose()
			c.expectEOF() // the client ends TCP after its CloseTimeout
		})
		tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 200 * time.Millisecond})
		tc.run()
		rep := srv.report(t)
		tc.expectTrace(traceOpen, `close CLOSED 4002 "later" clean=true`)
		checkOnlyClose(t, rep, 4002)
		if tc.Elapsed < 190*time.Millisecond {
			t.Errorf("Run returned after %v, before the CloseTimeout", tc.Elapsed)
		}
	})
	t.Run("client initiated", func(t *testing.T) {
		srv := startRawServer(t, func(c *rawConn) {
			c.accept()
			c.readClose()
			c.write(closeFrame(1000, "ok"))
			c.expectEOF()
		})
		tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 200 * time.Millisecond})
		tc.OnOpen = func(ws *websocket.WebSocket) { ws.CloseWith(3001, "") }
		tc.run()
		rep := srv.report(t)
		tc.expectTrace(traceOpen, `close CLOSED 1000 "ok" clean=true`)
		checkOnlyClose(t, rep, 3001)
	})
}

// The server ends TCP without a close frame: close 1006, no error event (as
// browsers do for an abrupt end).
func TestRawAbruptTCPEndWhileOpen(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(textFrame("hi"))
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "hi"`, traceAbnormal)
	if len(rep.Frames) != 0 {
		t.Errorf("client sent %v, want nothing", rep.Frames)
	}
}

// The server half-closes without a close frame: the client must not wait for
// CloseTimeout (5 s) to report it.
func TestRawServerHalfCloseWhileOpen(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.closeWrite()
		c.drainUntilEOF()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.run()
	srv.report(t)
	tc.expectTrace(traceOpen, traceAbnormal)
	if tc.Elapsed > 4*time.Second {
		t.Errorf("Run took %v", tc.Elapsed)
	}
}

func TestRawTCPResetWhileOpen(t *testing.T) {
	opened := make(chan struct{}, 1)
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		select {
		case <-opened:
		case <-time.After(rawFailBound):
			c.fail("the client did not open")
		}
		c.reset()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(*websocket.WebSocket) { opened <- struct{}{} }
	tc.run()
	srv.report(t)
	tc.expectTrace(traceOpen, traceAbnormal)
}

// A reset while the client waits for the answer to its close frame.
func TestRawTCPResetWhileClosing(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readClose()
		c.reset()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.OnOpen = func(ws *websocket.WebSocket) { ws.CloseWith(1000, "") }
	tc.run()
	srv.report(t)
	tc.expectTrace(traceOpen, traceAbnormal)
	if tc.Elapsed > 4*time.Second {
		t.Errorf("Run took %v: the reset was not noticed", tc.Elapsed)
	}
}

// Once the client called Close, messages, pings and pongs are not delivered,
// and the client sends nothing after its close frame (no pong).
func TestRawNothingDeliveredAfterClientClose(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readClose()
		c.write(textFrame("late"))
		c.write(binaryFrame([]byte("late too")), pingFrame([]byte("late ping")), pongFrame([]byte("late pong")))
		c.write(closeFrame(1000, ""))
		c.closeWrite()
		c.expectEOF()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) { ws.Close() }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	checkOnlyClose(t, rep, -1)
}

// After a protocol error the client sends its close frame and half-closes:
// the server reads the close frame, then EOF, while the client still waits
// for the server's end of TCP (it has not closed the socket).
func TestRawHalfCloseAfterProtocolError(t *testing.T) {
	loop := websocket.NewEventLoop()
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(frameSpec{Fin: true, Op: opText, Mask: true, Payload: []byte("masked")}.bytes())
		c.readClose()
		c.expectEOFWithin(2 * time.Second)
		// The loop is still running the socket: a task posted now runs.
		alive := make(chan struct{})
		loop.Post(func() { close(alive) })
		select {
		case <-alive:
		case <-time.After(2 * time.Second):
			c.fail("the client's loop ended before the server closed TCP: the client closed instead of half-closing")
		}
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Loop: loop, CloseTimeout: 5 * time.Second})
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(failTrace(1002)...)
	checkOnlyClose(t, rep, 1002)
	if !rep.EOF {
		t.Errorf("server saw no EOF after the client's close frame")
	}
	if tc.Elapsed > 4*time.Second {
		t.Errorf("Run took %v: the server's FIN did not end the socket", tc.Elapsed)
	}
}

// After a protocol error, a server that never closes TCP: the client closes
// it after CloseTimeout and Run returns.
func TestRawServerSilentAfterProtocolError(t *testing.T) {
	runDone := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(frameSpec{Fin: true, Op: 0x7}.bytes())
		c.readClose()
		c.expectEOFWithin(2 * time.Second)
		select {
		case <-runDone:
		case <-time.After(rawFailBound):
			c.fail("Run did not return while the server held TCP open")
		}
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 200 * time.Millisecond})
	tc.run()
	close(runDone)
	rep := srv.report(t)
	tc.expectTrace(failTrace(1002)...)
	checkOnlyClose(t, rep, 1002)
	if tc.Elapsed < 190*time.Millisecond {
		t.Errorf("Run returned after %v, before the CloseTimeout", tc.Elapsed)
	}
}

// The server ends TCP right after the client's close frame, without its own
// close frame: abnormal, no error.
func TestRawServerEndsTCPWithoutAnsweringClose(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readClose()
		c.closeTCP()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.OnOpen = func(ws *websocket.WebSocket) { ws.CloseWith(1000, "") }
	tc.run()
	srv.report(t)
	tc.expectTrace(traceOpen, traceAbnormal)
	if tc.Elapsed > 4*time.Second {
		t.Errorf("Run took %v", tc.Elapsed)
	}
}

// The server's close frame and the client's cross on the wire: each side
// sends one close frame (the client does not echo after its own), and the
// close is clean with the server's code.
func TestRawSimultaneousClose(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(closeFrame(4100, "crossing"))
		c.readClose()
		c.closeWrite()
		c.expectEOF()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) { ws.CloseWith(4200, "mine") }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `close CLOSED 4100 "crossing" clean=true`)
	checkOnlyClose(t, rep, 4200)
}

// Close, CloseWith and SendText called from OnError and OnClose are
// harmless: nothing more goes on the wire.
func TestRawCloseFromCloseAndErrorHandlers(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(frameSpec{Fin: true, Op: opText, Rsv: rsv2}.bytes())
		c.readClose()
		c.expectEOF()
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnError = func(ws *websocket.WebSocket, _ websocket.ErrorEvent) { ws.Close() }
	tc.OnClose = func(ws *websocket.WebSocket, _ websocket.CloseEvent) {
		if err := ws.CloseWith(1000, ""); err != nil {
			t.Errorf("CloseWith in OnClose = %v", err)
		}
		if err := ws.SendText("x"); !errors.Is(err, websocket.ErrClosed) {
			t.Errorf("SendText in OnClose = %v, want ErrClosed", err)
		}
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(failTrace(1002)...)
	checkOnlyClose(t, rep, 1002)
}

// A protocol error while the client's output is still queued (the server is
// not reading): the client's close frame follows the queued data, then the
// client half-closes.
func TestRawProtocolErrorWithQueuedOutput(t *testing.T) {
	big := bytes.Repeat([]byte{0x5A}, 3<<20)
	sent := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		select {
		case <-sent:
		case <-time.After(rawFailBound):
			c.fail("the client did not send")
		}
		c.write(frameSpec{Fin: true, Op: opBinary, Mask: true, Payload: []byte("m")}.bytes())
		f := c.readFrame()
		if f.Op != opBinary || !bytes.Equal(f.Payload, big) {
			c.fail("expected the 3 MiB binary message, got %v", f)
		}
		c.readClose()
		c.expectEOFWithin(2 * time.Second)
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.OnOpen = func(ws *websocket.WebSocket) {
		ws.Send(big)
		close(sent)
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(failTrace(1002)...)
	if len(rep.Frames) == 2 {
		checkCloseFrame(t, rep.Frames[1], 1002)
	} else {
		t.Errorf("client sent %v, want the message then close(1002)", rep.Frames)
	}
}

// A protocol error after the client's own close frame: error, then close
// 1006; no second close frame goes out.
func TestRawProtocolErrorWhileClosing(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readClose()
		c.write(frameSpec{Fin: true, Op: 0xC}.bytes())
		c.expectEOFWithin(2 * time.Second)
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.OnOpen = func(ws *websocket.WebSocket) { ws.CloseWith(3003, "") }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(failTrace(1002)...)
	checkOnlyClose(t, rep, 3003)
}

// Close from OnMessage: the messages and pings that arrived in the same
// read after it are not delivered. (The core answered the ping while
// parsing the read, before the handler ran, so its pong may precede the
// close frame; nothing may follow the close frame.)
func TestRawCloseFromOnMessageStopsDelivery(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(textFrame("1"), textFrame("2"), pingFrame([]byte("3")), textFrame("4"))
		if f := c.readFrame(); f.Op == opPong && string(f.Payload) == "3" {
			c.rep.Frames = c.rep.Frames[:0] // allowed; check the rest
		} else if f.Op != opClose {
			c.fail("expected pong(\"3\") or close, got %v", f)
		} else {
			c.write(closeFrame(1000, ""))
			c.closeTCP()
			return
		}
		c.answerClose(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnMessage = func(ws *websocket.WebSocket, m websocket.MessageEvent) {
		if m.Text() == "1" {
			ws.Close()
		}
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "1"`, traceCleanNormal)
	checkOnlyClose(t, rep, -1)
}

// A reset while the client is streaming to a server that does not read: the
// program is told (close 1006), not left waiting.
func TestRawResetWhileClientSending(t *testing.T) {
	sent := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		select {
		case <-sent:
		case <-time.After(rawFailBound):
			c.fail("the client did not send")
		}
		c.reset()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{CloseTimeout: 5 * time.Second})
	tc.OnOpen = func(ws *websocket.WebSocket) {
		for range 4 {
			ws.Send(bytes.Repeat([]byte{1}, 1<<20))
		}
		close(sent)
	}
	tc.run()
	srv.report(t)
	tc.expectTrace(traceOpen, traceAbnormal)
	if tc.Elapsed > 4*time.Second {
		t.Errorf("Run took %v", tc.Elapsed)
	}
}
