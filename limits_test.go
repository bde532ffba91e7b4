package websocket_test

// The bounds that keep a socket's memory in check whatever its peer does:
// the inbox of a dialed socket (the server is pushed back), the send
// backlog (Send refuses), the buffers given back at close; and a close
// that waits for the backlog the server is still reading.

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// A dialed socket whose program does not read stops reading once its inbox
// is full, so the server cannot send it everything; once the program
// reads, every message arrives, in order.
func TestInboxFullPushesTheServerBack(t *testing.T) {
	t.Parallel()
	const (
		size  = 16 << 10
		count = 4096 // 64 MiB: far more than the kernel's buffers hold
		inbox = 256 << 10
	)
	blocked := make(chan int, 1) // bytes written when a write first stalled
	resume := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		written, stalled := 0, false
		for i := range count {
			p := make([]byte, size)
			binary.BigEndian.PutUint64(p, uint64(i))
			frame := binaryFrame(p)
			for len(frame) > 0 {
				if !stalled {
					// A write that cannot finish in this long means the
					// client has stopped reading; should it stall on a
					// slow machine for another reason, the bytes written
					// are fewer, which the test allows.
					c.nc.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
				}
				n, err := c.nc.Write(frame)
				frame, written = frame[n:], written+n
				if err != nil {
					if stalled || !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
						c.fail("writing message %d: %v", i, err)
					}
					stalled = true
					blocked <- written
					<-resume
					c.nc.SetDeadline(time.Now().Add(rawConnDeadline))
				}
			}
		}
		if !stalled {
			blocked <- -written
		}
		c.answerClose(1000, "")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL, &websocket.Config{MaxInboxSize: inbox})
	if err != nil {
		t.Fatal(err)
	}
	written := <-blocked
	if written < 0 {
		t.Fatalf("the server wrote all %d bytes to a client that did not read", -written)
	}
	held := websocket.InboxBytes(ws)
	t.Logf("server stalled after %d bytes; inbox holds %d", written, held)
	if limit := inbox + 64<<10 + size + 64*(inbox/size+8); held > limit {
		t.Errorf("inbox holds %d bytes, want at most %d", held, limit)
	}
	close(resume)
	for i := range count {
		m, err := ws.WaitForNextMessage(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got := binary.BigEndian.Uint64(m.Data); got != uint64(i) || len(m.Data) != size {
			t.Fatalf("message %d is number %d of %d bytes", i, got, len(m.Data))
		}
		m.Release()
	}
	ws.CloseWith(1000, "")
	srv.report(t)
}

type timeout interface{ Timeout() bool }

func isTimeout(err error) bool {
	var te timeout
	return errors.As(err, &te) && te.Timeout()
}

// Against a server that does not read, Send refuses once the backlog would
// pass MaxBufferedAmount, and the socket stays open; closed, it gives the
// backlog back and BufferedAmount still counts what was never sent.
func TestSendBacklogBoundAndRelease(t *testing.T) {
	t.Parallel()
	const (
		chunk = 256 << 10
		bound = 1 << 20
	)
	done := make(chan struct{})
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		<-done // never reads
	})
	defer close(done)
	l := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL, &websocket.Config{
		Loop: l, MaxBufferedAmount: bound, CloseTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		accepted, maxAmount int
		refusal             error
		stateAtRefusal      websocket.ReadyState
		closeEv             websocket.CloseEvent
		heldAfter, amount   int
	)
	p := make([]byte, chunk)
	var tick *websocket.Timer
	tick = l.SetInterval(func() {
		if ws.ReadyState() != websocket.Open {
			return
		}
		for {
			err := ws.Send(p)
			if err != nil {
				refusal, stateAtRefusal = err, ws.ReadyState()
				tick.Stop()
				ws.Close()
				return
			}
			accepted += chunk
			maxAmount = max(maxAmount, ws.BufferedAmount())
			if accepted > 256<<20 {
				t.Error("256 MiB accepted by a server that does not read")
				tick.Stop()
				ws.Close()
				return
			}
			if ws.BufferedAmount() >= bound/2 {
				return // the rest in a later task, once the loop wrote
			}
		}
	}, time.Millisecond)
	ws.OnClose = func(c websocket.CloseEvent) {
		closeEv = c
	}
	runLoop(t, l, rawFailBound)
	heldAfter, amount = websocket.HeldOutput(ws), ws.BufferedAmount()
	if !errors.Is(refusal, websocket.ErrBufferFull) || stateAtRefusal != websocket.Open {
		t.Errorf("Send refused with %v in state %v, want ErrBufferFull while Open", refusal, stateAtRefusal)
	}
	if maxAmount > bound {
		t.Errorf("BufferedAmount reached %d, past the bound %d", maxAmount, bound)
	}
	if closeEv.Code != websocket.CloseAbnormal {
		t.Errorf("close %+v, want 1006 (the server never read the close frame)", closeEv)
	}
	if heldAfter != 0 {
		t.Errorf("%d bytes of frames still held after the close", heldAfter)
	}
	// The portable poller takes what the kernel cannot into a buffer of
	// its own, as the kernel's send buffer takes bytes: only the native
	// poller leaves the refused backlog in the socket for sure.
	if amount > bound || amount <= 0 && os.Getenv("WSLOOP_POLLER") != "portable" {
		t.Errorf("BufferedAmount after the close = %d, want the unsent bytes (0 < n <= %d)", amount, bound)
	}
	t.Logf("accepted %d bytes; %d never sent", accepted, amount)
}

// Data sent before Close reaches a server that reads it slowly, however
// long that takes beyond CloseTimeout, and the close that follows is clean:
// the timeout measures the closing handshake, not the drain.
func TestCloseAfterBacklogDeliversEverything(t *testing.T) {
	t.Parallel()
	const (
		size  = 256 << 10
		count = 64                    // 16 MiB
		pause = 32 * time.Millisecond // per message: 8 MiB/s, 2 s in all
	)
	srv := startRawServer(t, func(c *rawConn) {
		c.nc.SetReadBuffer(64 << 10)
		c.nc.SetDeadline(time.Now().Add(3 * rawConnDeadline))
		c.accept()
		buf := make([]byte, size)
		for i := range count {
			// Only the header and the first byte are decoded: unmasking
			// 16 MiB under the race detector would be a slower reader
			// than the one this test means to be.
			var h [14]byte
			if _, err := io.ReadFull(c.br, h[:4]); err != nil || h[0] != 0x80|opBinary || h[1] != 0x80|127 {
				c.fail("message %d: header % x, %v", i, h[:4], err)
			}
			if _, err := io.ReadFull(c.br, h[4:]); err != nil || binary.BigEndian.Uint64(h[2:10]) != size {
				c.fail("message %d: header % x, %v", i, h, err)
			}
			if _, err := io.ReadFull(c.br, buf); err != nil || buf[0]^h[10] != byte(i) {
				c.fail("message %d: payload starts %x, %v", i, buf[0]^h[10], err)
			}
			time.Sleep(pause) // a slow reader
		}
		c.answerClose(1000, "")
	})
	l := websocket.NewEventLoop()
	ws, err := websocket.NewWithConfig(srv.URL, &websocket.Config{
		Loop: l, CloseTimeout: 1500 * time.Millisecond, MaxBufferedAmount: 2 * count * size,
	})
	if err != nil {
		t.Fatal(err)
	}
	var closeEv websocket.CloseEvent
	var failed error
	ws.OnOpen = func(websocket.OpenEvent) {
		p := make([]byte, size)
		for i := range count {
			p[0] = byte(i)
			if err := ws.Send(p); err != nil {
				t.Errorf("Send %d: %v", i, err)
			}
		}
		ws.CloseWith(1000, "done")
	}
	ws.OnError = func(e websocket.ErrorEvent) { failed = e.Err }
	ws.OnClose = func(c websocket.CloseEvent) { closeEv = c }
	runLoop(t, l, 3*rawFailBound)
	srv.report(t)
	if failed != nil || closeEv.Code != 1000 || !closeEv.WasClean {
		t.Errorf("close %+v (error %v), want a clean 1000", closeEv, failed)
	}
	if n := ws.BufferedAmount(); n != 0 {
		t.Errorf("BufferedAmount after the close = %d, want 0", n)
	}
}

// Closing a socket whose full inbox stopped the reading: the loop reads
// again, for the server's close frame, and the close is clean.
func TestCloseWithFullInboxIsClean(t *testing.T) {
	t.Parallel()
	srv := startRawServer(t, func(c *rawConn) {
		c.accept()
		p := make([]byte, 4<<10)
		for range 256 { // 1 MiB: the kernel's buffers take what the client does not read
			c.write(binaryFrame(p))
		}
		c.nc.SetReadDeadline(time.Now().Add(rawConnDeadline))
		for {
			if f := c.readFrame(); f.Op == opClose {
				break
			}
		}
		c.write(closeFrame(1000, "ok"))
		c.closeTCP()
	})
	ctx, cancel := context.WithTimeout(context.Background(), rawFailBound)
	defer cancel()
	ws, err := websocket.Dial(ctx, srv.URL, &websocket.Config{MaxInboxSize: 64 << 10, CloseTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := websocket.AwaitPaused(ctx, ws); err != nil {
		t.Fatal(err)
	}
	ws.CloseWith(1000, "")
	var closed *websocket.ClosedError
	for {
		_, err := ws.WaitForNextMessage(ctx)
		if errors.As(err, &closed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if closed.Event.Code != 1000 || !closed.Event.WasClean || closed.Event.Reason != "ok" {
		t.Errorf("close %+v, want the server's clean 1000 \"ok\"", closed.Event)
	}
	srv.report(t)
}
