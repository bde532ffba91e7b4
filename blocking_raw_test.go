package websocket_test

// The blocking API (Dial, WaitForNextMessage) against the raw server: the
// same failures, reported as returned errors, and nothing left behind once
// the socket is closed.

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// openFDs counts the process's open file descriptors (Linux), or -1.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func TestRawDialHandshakeRefused(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.write([]byte("HTTP/1.1 403 Forbidden\r\nX-Why: nope\r\nContent-Length: 0\r\n\r\n"))
		c.expectEOF()
	})
	before := goroutineIDs()
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL, nil)
	srv.report(t)
	if ws != nil {
		t.Errorf("Dial returned a socket with error %v", err)
	}
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 403 || he.Header.Get("X-Why") != "nope" {
		t.Errorf("Dial error = %#v, want a *HandshakeError with status 403 and X-Why: nope", err)
	}
	if left := libGoroutinesSince(before, 3*time.Second); left != "" {
		t.Errorf("goroutines left after a failed Dial:\n%s", left)
	}
}

// A protocol error while blocked in WaitForNextMessage: the messages before
// it, then a *ClosedError with close 1006 whose cause is the
// *ProtocolError (as ClosedError documents); the server gets close 1002.
// The server then holds TCP open: Close (as `defer ws.Close()` would) must
// release the socket within CloseTimeout.
func TestRawDialProtocolError(t *testing.T) {
	release := make(chan struct{})
	dialed := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		select {
		case <-dialed:
		case <-time.After(rawFailBound):
			c.fail("Dial did not return")
		}
		c.write(textFrame("a"), frameSpec{Fin: true, Op: opText, Rsv: rsv1, Payload: []byte("b")}.bytes())
		c.readClose()
		c.expectEOFWithin(2 * time.Second)
		<-release
	})
	before := goroutineIDs()
	fds := openFDs()
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL, &websocket.Config{CloseTimeout: 200 * time.Millisecond})
	close(dialed)
	if err != nil {
		close(release)
		t.Fatalf("Dial: %v", err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || m.Text() != "a" {
		t.Errorf("first WaitForNextMessage = %q, %v; want \"a\"", m.Text(), err)
	}
	_, err = ws.WaitForNextMessage(ctx)
	var ce *websocket.ClosedError
	if !errors.As(err, &ce) || !errors.Is(err, websocket.ErrClosed) || ce.Event.Code != 1006 || ce.Event.WasClean {
		t.Errorf("second WaitForNextMessage error = %v, want a *ClosedError with close 1006 not clean", err)
	}
	var pe *websocket.ProtocolError
	if !errors.As(err, &pe) || pe.Code != 1002 {
		t.Errorf("errors.As(%v, *ProtocolError) fails: ClosedError.Err = %v, want the *ProtocolError with code 1002 the error event carried", err, ce.Err)
	}
	if st := ws.ReadyState(); st != websocket.Closed {
		t.Errorf("ReadyState = %v, want CLOSED", st)
	}
	start := time.Now()
	ws.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with CloseTimeout 200ms", d)
	}
	left := libGoroutinesSince(before, 2*time.Second)
	fdsAfter := openFDs()
	close(release)
	rep := srv.report(t)
	checkOnlyClose(t, rep, 1002)
	if left != "" {
		t.Errorf("after Close (CloseTimeout 200ms), with the server holding TCP open, goroutines of the socket are left:\n%s", left)
	}
	// The server's end of the connection is still open: one more.
	if fds >= 0 && fdsAfter > fds+1 {
		t.Errorf("%d file descriptors open before Dial, %d after Close (one is the server's)", fds, fdsAfter)
	}
}

// Close on a dialed socket, then no more calls (defer ws.Close() style):
// Close waits for the closing handshake (or CloseTimeout), and the socket
// is released when it returns.
func TestRawDialCloseThenLeave(t *testing.T) {
	for _, c := range []struct {
		name     string
		closeTCP bool
	}{{"server closes TCP", true}, {"server keeps TCP open", false}} {
		t.Run(c.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := startRawServer(t, func(rc *rawConn) {
				rc.accept()
				rc.readClose()
				rc.write(closeFrame(1000, ""))
				if c.closeTCP {
					rc.closeTCP()
				}
				<-release
			})
			before := goroutineIDs()
			fds := openFDs()
			ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
			defer cancel()
			ws, err := websocket.Dial(ctx, srv.URL, &websocket.Config{CloseTimeout: 200 * time.Millisecond})
			if err != nil {
				close(release)
				t.Fatalf("Dial: %v", err)
			}
			start := time.Now()
			ws.Close()
			took := time.Since(start)
			st := ws.ReadyState()
			left := libGoroutinesSince(before, 2*time.Second)
			fdsAfter := openFDs()
			close(release)
			rep := srv.report(t)
			checkOnlyClose(t, rep, -1)
			if st != websocket.Closed {
				t.Errorf("ReadyState after Close returned = %v, want CLOSED", st)
			}
			if took > 2*time.Second {
				t.Errorf("Close took %v with CloseTimeout 200ms", took)
			}
			if left != "" {
				t.Errorf("goroutines of a closed dialed socket are left:\n%s", left)
			}
			// The server's end may still be open: one more.
			if fds >= 0 && fdsAfter > fds+1 {
				t.Errorf("%d file descriptors open before Dial, %d after Close returned (one may be the server's)", fds, fdsAfter)
			}
		})
	}
}

// The normal blocking flow: Close, then WaitForNextMessage until the
// *ClosedError, which carries the server's code; nothing left behind.
func TestRawDialCloseAndWait(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(textFrame("pending"))
		c.answerClose(4321, "ack")
	})
	before := goroutineIDs()
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	ws.CloseWith(1000, "bye")
	var ce *websocket.ClosedError
	for {
		_, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			if !errors.As(err, &ce) {
				t.Fatalf("WaitForNextMessage: %v", err)
			}
			break
		}
	}
	rep := srv.report(t)
	checkOnlyClose(t, rep, 1000)
	if ce.Event.Code != 4321 || ce.Event.Reason != "ack" || !ce.Event.WasClean {
		t.Errorf("close event %+v, want 4321 \"ack\" clean", ce.Event)
	}
	if left := libGoroutinesSince(before, 3*time.Second); left != "" {
		t.Errorf("goroutines left:\n%s", left)
	}
}

// Messages and a close frame written with the 101 response: the socket did
// open (an event-driven socket fires open, message, message, close), so
// Dial must return it and WaitForNextMessage deliver both messages before
// the *ClosedError; Dial must not report the connection as never opened
// and drop the messages.
func TestRawDialMessagesAndCloseCoalescedWithHandshake(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.write(c.response101(), textFrame("a"), textFrame("b"), closeFrame(1013, "full"))
		c.readClose()
		c.closeTCP()
	})
	before := goroutineIDs()
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL, nil)
	rep := srv.report(t)
	checkOnlyClose(t, rep, 1013)
	if err != nil {
		t.Fatalf("Dial = %v; the connection opened and two messages arrived before the close", err)
	}
	var got []string
	var ce *websocket.ClosedError
	for {
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			if !errors.As(err, &ce) {
				t.Fatalf("WaitForNextMessage: %v", err)
			}
			break
		}
		got = append(got, m.Text())
	}
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("messages %q, want [a b]", got)
	}
	if ce.Event.Code != 1013 || ce.Event.Reason != "full" || !ce.Event.WasClean {
		t.Errorf("close event %+v, want 1013 \"full\" clean", ce.Event)
	}
	if left := libGoroutinesSince(before, 3*time.Second); left != "" {
		t.Errorf("goroutines left:\n%s", left)
	}
}
