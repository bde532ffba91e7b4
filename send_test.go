package websocket_test

// Send, SendText, Ping and Pong against the socket's state, as the browser's
// send() throws or silently drops.

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

func TestRawSendWhileConnecting(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.answerClose(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	ws := tc.WS
	// The loop has not run: the socket is surely still connecting.
	if st := ws.ReadyState(); st != websocket.Connecting {
		t.Fatalf("ReadyState before Run = %v", st)
	}
	if err := ws.SendText("early"); !errors.Is(err, websocket.ErrInvalidState) {
		t.Errorf("SendText while Connecting = %v, want ErrInvalidState", err)
	}
	if err := ws.Send([]byte("early")); !errors.Is(err, websocket.ErrInvalidState) {
		t.Errorf("Send while Connecting = %v, want ErrInvalidState", err)
	}
	if err := ws.Ping(nil); !errors.Is(err, websocket.ErrInvalidState) {
		t.Errorf("Ping while Connecting = %v, want ErrInvalidState", err)
	}
	if err := ws.Pong(nil); !errors.Is(err, websocket.ErrInvalidState) {
		t.Errorf("Pong while Connecting = %v, want ErrInvalidState", err)
	}
	if n := ws.BufferedAmount(); n != 0 {
		t.Errorf("BufferedAmount after refused sends = %d, want 0 (the browser throws, nothing is queued)", n)
	}
	tc.OnOpen = func(ws *websocket.WebSocket) { ws.CloseWith(1000, "") }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	checkOnlyClose(t, rep, 1000) // nothing of the early sends reached the wire
}

// After Close, sends return ErrClosed, nothing reaches the wire, and
// BufferedAmount grows by each message's byte length and stays there.
func TestRawSendAfterClose(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readFrame() // "sent", before the close
		c.answerClose(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if err := ws.SendText("sent"); err != nil {
			t.Errorf("SendText while Open = %v", err)
		}
		ws.Close()
		steps := []struct {
			name string
			send func() error
			want int
		}{
			// "sent" is held until this task ends, as in Chromium: 4
			// bytes more than what was dropped.
			{`SendText("hello")`, func() error { return ws.SendText("hello") }, 4 + 5},
			{`SendText("héllo")`, func() error { return ws.SendText("héllo") }, 4 + 11}, // é is 2 bytes
			{`Send(3 bytes)`, func() error { return ws.Send([]byte{1, 2, 3}) }, 4 + 14},
			{`SendText("")`, func() error { return ws.SendText("") }, 4 + 14},
		}
		for _, s := range steps {
			if err := s.send(); !errors.Is(err, websocket.ErrClosed) {
				t.Errorf("%s after Close = %v, want ErrClosed", s.name, err)
			}
			if n := ws.BufferedAmount(); n != s.want {
				t.Errorf("BufferedAmount after %s = %d, want %d", s.name, n, s.want)
			}
		}
		if err := ws.Ping([]byte("p")); !errors.Is(err, websocket.ErrClosed) {
			t.Errorf("Ping after Close = %v, want ErrClosed", err)
		}
		if err := ws.Pong([]byte("p")); !errors.Is(err, websocket.ErrClosed) {
			t.Errorf("Pong after Close = %v, want ErrClosed", err)
		}
		if n := ws.BufferedAmount(); n != 4+14 {
			t.Errorf("BufferedAmount after Ping and Pong = %d, want 18 (control frames are not counted)", n)
		}
	}
	var atClose int
	tc.OnClose = func(ws *websocket.WebSocket, _ websocket.CloseEvent) { atClose = ws.BufferedAmount() }
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	if atClose != 14 {
		t.Errorf("BufferedAmount in OnClose = %d, want 14", atClose)
	}
	if n := tc.WS.BufferedAmount(); n != 14 {
		t.Errorf("BufferedAmount after Run = %d, want 14", n)
	}
	if err := tc.WS.SendText("ab"); !errors.Is(err, websocket.ErrClosed) {
		t.Errorf("SendText when Closed = %v, want ErrClosed", err)
	}
	if n := tc.WS.BufferedAmount(); n != 16 {
		t.Errorf("BufferedAmount after a send when Closed = %d, want 16", n)
	}
	if len(rep.Frames) != 2 || rep.Frames[0].Op != opText || string(rep.Frames[0].Payload) != "sent" {
		t.Fatalf("client sent %v, want text(\"sent\") then close", rep.Frames)
	}
	checkCloseFrame(t, rep.Frames[1], -1)
}

// Sends after the server's close frame arrived (the socket is Closing,
// waiting for the server's end of TCP) are dropped and counted too.
func TestRawSendWhileClosingAfterServerClose(t *testing.T) {
	loop := websocket.NewEventLoop()
	wsCh := make(chan *websocket.WebSocket, 1)
	var (
		closingState websocket.ReadyState
		closingErr   error
		closingBA    int
	)
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(closeFrame(1000, ""))
		c.readClose()
		// The client has echoed and waits for the server's FIN: send from
		// a task on its loop now.
		ws := <-wsCh
		done := make(chan struct{})
		loop.Post(func() {
			closingState = ws.ReadyState()
			closingErr = ws.SendText("four")
			closingBA = ws.BufferedAmount()
			close(done)
		})
		select {
		case <-done:
		case <-time.After(rawFailBound):
			c.fail("the posted task did not run")
		}
		c.closeWrite()
		c.expectEOF()
	})
	tc := newTraceClient(t, srv.URL, &websocket.Config{Loop: loop})
	wsCh <- tc.WS
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	if closingState != websocket.Closing {
		t.Errorf("ReadyState after the server's close frame = %v, want CLOSING", closingState)
	}
	if !errors.Is(closingErr, websocket.ErrClosed) {
		t.Errorf("SendText while Closing = %v, want ErrClosed", closingErr)
	}
	if closingBA != 4 {
		t.Errorf("BufferedAmount after SendText while Closing = %d, want 4", closingBA)
	}
	if n := tc.WS.BufferedAmount(); n != 4 {
		t.Errorf("BufferedAmount after Run = %d, want 4", n)
	}
	checkOnlyClose(t, rep, 1000)
}

func TestRawPingPayloadTooLong(t *testing.T) {
	p125 := bytes.Repeat([]byte{'5'}, 125)
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		f := c.readFrame()
		if f.Op != opPing {
			c.fail("expected the client's ping, got %v", f)
		}
		c.write(pongFrame(f.Payload))
		f = c.readFrame()
		if f.Op != opPong {
			c.fail("expected the client's pong, got %v", f)
		}
		c.finish(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if err := ws.Ping(bytes.Repeat([]byte{'x'}, 126)); !errors.Is(err, websocket.ErrPayloadTooLong) {
			t.Errorf("Ping(126 bytes) = %v, want ErrPayloadTooLong", err)
		}
		if err := ws.Pong(bytes.Repeat([]byte{'x'}, 126)); !errors.Is(err, websocket.ErrPayloadTooLong) {
			t.Errorf("Pong(126 bytes) = %v, want ErrPayloadTooLong", err)
		}
		if err := ws.Ping(p125); err != nil {
			t.Errorf("Ping(125 bytes) = %v", err)
		}
		if err := ws.Pong([]byte("unsolicited")); err != nil {
			t.Errorf("Pong = %v", err)
		}
		if n := ws.BufferedAmount(); n != 0 {
			t.Errorf("BufferedAmount after control frames = %d, want 0", n)
		}
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, "pong OPEN len=125", traceCleanNormal)
	if len(rep.Frames) != 3 {
		t.Fatalf("client sent %v, want ping(125 bytes), pong, close", rep.Frames)
	}
	if f := rep.Frames[0]; f.Op != opPing || !bytes.Equal(f.Payload, p125) {
		t.Errorf("client's first frame = %v, want the 125-byte ping", f)
	}
	if f := rep.Frames[1]; f.Op != opPong || string(f.Payload) != "unsolicited" {
		t.Errorf("client's second frame = %v, want pong(\"unsolicited\")", f)
	}
	checkCloseFrame(t, rep.Frames[2], 1000)
}

// A message larger than the connection takes at once: BufferedAmount counts
// what is not yet handed to the operating system and drains to 0; the
// server receives the message whole.
func TestRawBufferedAmountDrains(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		f := c.readFrame()
		if f.Op != opText || !f.Fin || string(f.Payload) != big {
			c.fail("expected the 1 MiB text message, got %v", f)
		}
		c.write(textFrame("got it"))
		c.answerClose(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	var atOpen, atMessage int
	tc.OnOpen = func(ws *websocket.WebSocket) {
		if err := ws.SendText(big); err != nil {
			t.Errorf("SendText(1 MiB) = %v", err)
		}
		atOpen = ws.BufferedAmount()
	}
	tc.OnMessage = func(ws *websocket.WebSocket, _ websocket.MessageEvent) {
		atMessage = ws.BufferedAmount()
		ws.Close()
	}
	tc.run()
	srv.report(t)
	tc.expectTrace(traceOpen, `message OPEN text "got it"`, traceCleanNormal)
	if atOpen < 0 || atOpen > len(big) {
		t.Errorf("BufferedAmount right after SendText(1 MiB) = %d, want 0..%d", atOpen, len(big))
	}
	t.Logf("BufferedAmount right after SendText(1 MiB): %d", atOpen)
	if atMessage != 0 {
		t.Errorf("BufferedAmount once the server has read everything = %d, want 0", atMessage)
	}
}

// Close after a large send: the message goes out whole before the close
// frame, however slowly the server reads.
func TestRawCloseAfterLargeSendKeepsData(t *testing.T) {
	big := bytes.Repeat([]byte{0xA5}, 3<<20)
	proceed := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		// Do not read until the client has queued both.
		select {
		case <-proceed:
		case <-time.After(rawFailBound):
			c.fail("the client did not send")
		}
		f := c.readFrame()
		if f.Op != opBinary || !bytes.Equal(f.Payload, big) {
			c.fail("expected the 3 MiB binary message, got %v", f)
		}
		c.answerClose(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		ws.Send(big)
		ws.CloseWith(1000, "after the data")
		close(proceed)
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	if len(rep.Frames) == 2 {
		checkCloseFrame(t, rep.Frames[1], 1000)
	} else {
		t.Errorf("client sent %v, want the message then close", rep.Frames)
	}
}

// SendText refuses text that is not UTF-8, sends nothing and keeps the
// connection; the valid message after it goes out alone.
func TestRawSendTextInvalidUTF8(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.readFrame()
		c.answerClose(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	tc.OnOpen = func(ws *websocket.WebSocket) {
		for _, bad := range []string{"\xff", "a\xc3", "\xed\xa0\x80" /* a surrogate */, "ok\xf4\x90\x80\x80" /* past U+10FFFF */} {
			if err := ws.SendText(bad); !errors.Is(err, websocket.ErrInvalidUTF8) {
				t.Errorf("SendText(%q) = %v, want ErrInvalidUTF8", bad, err)
			}
		}
		if n := ws.BufferedAmount(); n != 0 {
			t.Errorf("BufferedAmount after refused texts = %d, want 0", n)
		}
		if err := ws.SendText("valid €"); err != nil {
			t.Errorf("SendText of valid text = %v", err)
		}
		ws.CloseWith(1000, "")
	}
	tc.run()
	rep := srv.report(t)
	tc.expectTrace(traceOpen, traceCleanNormal)
	if len(rep.Frames) != 2 || string(rep.Frames[0].Payload) != "valid €" {
		t.Errorf("the server got %v, want the valid text and the close", rep.Frames)
	}
}

// Each message event is a task: messages read at once are delivered one
// by one, and what a handler sent is written before the next handler
// runs, so BufferedAmount reads 0 there again, as in the browser.
func TestRawEachMessageEventIsATask(t *testing.T) {
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		c.write(textFrame("one"), textFrame("two"), textFrame("three"))
		for _, want := range []string{"one", "two", "three"} {
			if f := c.readFrame(); f.Op != opText || string(f.Payload) != want {
				c.fail("expected the echo %q, got %v", want, f)
			}
		}
		c.answerClose(1000, "")
	})
	tc := newTraceClient(t, srv.URL, nil)
	var seen []int
	tc.OnMessage = func(ws *websocket.WebSocket, ev websocket.MessageEvent) {
		seen = append(seen, ws.BufferedAmount())
		if err := ws.SendText(ev.Text()); err != nil {
			t.Errorf("SendText = %v", err)
		}
		if len(seen) == 3 {
			ws.Close()
		}
	}
	tc.run()
	srv.report(t)
	if fmt.Sprint(seen) != "[0 0 0]" {
		t.Errorf("BufferedAmount at each message event: %v, want [0 0 0]", seen)
	}
}
