package torture_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	websocket "github.com/wsloop/websocket"
)

// The same torture through the blocking API: Dial, then WaitForNextMessage
// and LowLevelReceive on the socket's inbox, fed by the background loop.

// dialRaw dials the raw server with the blocking API under runBound.
func dialRaw(t *testing.T, url string, cfg *websocket.Config) (*websocket.WebSocket, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	t.Cleanup(cancel)
	ws, err := websocket.Dial(ctx, url, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, ctx
}

// wantFailure checks that a blocking receive reports the failure: a
// *ClosedError carrying close 1006 and, as its cause, a *ProtocolError
// with code; and that it keeps doing so.
func wantFailure(t *testing.T, ws *websocket.WebSocket, ctx context.Context, code int) {
	t.Helper()
	for _, call := range []string{"WaitForNextMessage", "LowLevelReceive", "WaitForNextMessage again"} {
		var err error
		if strings.HasPrefix(call, "LowLevel") {
			var e websocket.Event
			e, err = ws.LowLevelReceive(ctx)
			if err == nil {
				t.Fatalf("%s: %T %v; want the failure", call, e, e)
			}
		} else {
			var m websocket.MessageEvent
			m, err = ws.WaitForNextMessage(ctx)
			if err == nil {
				t.Fatalf("%s: message %s; want the failure", call, payload(m.Data))
			}
		}
		var ce *websocket.ClosedError
		var pe *websocket.ProtocolError
		switch {
		case !errors.As(err, &ce):
			t.Fatalf("%s: %v (%T); want a *websocket.ClosedError", call, err, err)
		case ce.Event.Code != websocket.CloseAbnormal || ce.Event.WasClean:
			t.Errorf("%s: close event %d clean=%t; want 1006, not clean", call, ce.Event.Code, ce.Event.WasClean)
		case !errors.As(err, &pe) || pe.Code != code:
			t.Errorf("%s: cause %v; want a *websocket.ProtocolError with code %d", call, ce.Err, code)
		}
		if !errors.Is(err, websocket.ErrClosed) {
			t.Errorf("%s: errors.Is(err, ErrClosed) is false", call)
		}
	}
	if got := ws.ReadyState(); got != websocket.Closed {
		t.Errorf("readyState %v; want CLOSED", got)
	}
}

// A message, then each length violation: the message is returned, then
// the failure; the server sees the code.
func TestBlockingLengthViolations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []byte
		code   int
	}{
		{"Length2To63", appendHeader(nil, true, opBinary, 1<<63, 64), websocket.CloseProtocolError},
		{"Length2To63Minus1", appendHeader(nil, true, opBinary, 1<<63-1, 64), websocket.CloseMessageTooBig},
		{"Announced32MiBPlus1", appendHeader(nil, true, opText, websocket.DefaultMaxMessageSize+1, 0), websocket.CloseMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(c *rawConn) {
				c.write(textFrame("before"), tc.header)
				c.failedWith(tc.code)
			})
			var h heapWatch
			h.start()
			ws, ctx := dialRaw(t, srv.URL, nil)
			m, err := ws.WaitForNextMessage(ctx)
			if err != nil || m.Text() != "before" {
				t.Fatalf("WaitForNextMessage: %s, %v; want the message before the violation", payload(m.Data), err)
			}
			wantFailure(t, ws, ctx, tc.code)
			srv.wait(t)
			h.finish()
			if alloc := int64(h.totalAfter - h.totalBefore); alloc > 2*MiB {
				t.Errorf("the connection allocated %s", mib(alloc))
			}
		})
	}
}

// 100 000 one-byte fragments and 100 000 empty ones, through
// WaitForNextMessage.
func TestBlockingHundredThousandFragments(t *testing.T) {
	const n = 100000
	var input []byte
	msg := strings.Repeat("wsloop", n/6+1)[:n]
	for i := 0; i < n; i++ {
		op := opCont
		if i == 0 {
			op = opText
		}
		input = appendFrame(input, i == n-1, op, []byte{msg[i]})
	}
	input = appendFrame(input, false, opBinary, []byte("["))
	for i := 0; i < n; i++ {
		input = appendFrame(input, false, opCont, nil)
	}
	input = appendFrame(input, true, opCont, []byte("]"))
	srv := serve(t, func(c *rawConn) {
		c.write(input, closeFrame(1000, "done"))
		c.expectClose(1000)
	})
	ws, ctx := dialRaw(t, srv.URL, nil)
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || m.Binary || m.Text() != msg {
		t.Fatalf("WaitForNextMessage: %v binary=%t %s; want the 100 000-fragment text", err, m.Binary, payload(m.Data))
	}
	m, err = ws.WaitForNextMessage(ctx)
	if err != nil || !m.Binary || m.Text() != "[]" {
		t.Fatalf("WaitForNextMessage: %v binary=%t %s; want binary \"[]\"", err, m.Binary, payload(m.Data))
	}
	_, err = ws.WaitForNextMessage(ctx)
	var ce *websocket.ClosedError
	if !errors.As(err, &ce) || ce.Event.Code != 1000 || ce.Event.Reason != "done" || !ce.Event.WasClean || ce.Err != nil {
		t.Fatalf("after the messages: %v; want a clean ClosedError 1000 \"done\"", err)
	}
	srv.wait(t)
}

// 10 000 pings in one burst: LowLevelReceive returns every one, in order;
// WaitForNextMessage then passes over none it should not.
func TestBlockingPingBurst(t *testing.T) {
	input := cat(burstPings(), textFrame("after the pings"), closeFrame(1000, ""))
	srv := serve(t, func(c *rawConn) {
		c.write(input)
		var frames []clientFrame
		for {
			f := c.mustFrame()
			if f.op == opClose {
				break
			}
			frames = append(frames, f)
		}
		c.logf("%d pings answered by %d pongs", burst, checkPongs(c, frames))
	})
	ws, ctx := dialRaw(t, srv.URL, nil)
	for i := 0; i < burst; i++ {
		e, err := ws.LowLevelReceive(ctx)
		if err != nil {
			t.Fatalf("LowLevelReceive %d: %v", i, err)
		}
		p, ok := e.(websocket.PingEvent)
		if !ok || string(p.Data) != string(pingPayload(i)) {
			t.Fatalf("LowLevelReceive %d: %T %+v; want ping %q", i, e, e, pingPayload(i))
		}
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil || m.Text() != "after the pings" {
		t.Fatalf("WaitForNextMessage: %s, %v", payload(m.Data), err)
	}
	if _, err := ws.WaitForNextMessage(ctx); !errors.Is(err, websocket.ErrClosed) {
		t.Fatalf("after the message: %v; want the close", err)
	}
	srv.wait(t)
}

// Invalid UTF-8 and a reserved opcode through the blocking API.
func TestBlockingViolations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input []byte
		code  int
	}{
		{"InvalidUTF8AcrossFragments", cat(frame(false, opText, []byte("a\xe2")), frame(true, opCont, []byte("(b"))), websocket.CloseInvalidPayload},
		{"ReservedOpcodeInsideMessage", cat(frame(false, opText, []byte("a")), frame(false, 0x3, nil)), websocket.CloseProtocolError},
		{"FragmentFloodOverLimit", func() []byte {
			b := frame(false, opBinary, make([]byte, 600))
			return appendFrame(b, false, opCont, make([]byte, 600))
		}(), websocket.CloseMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(c *rawConn) {
				c.write(textFrame("before"), tc.input)
				c.failedWith(tc.code)
			})
			ws, ctx := dialRaw(t, srv.URL, &websocket.Config{MaxMessageSize: 1000})
			if m, err := ws.WaitForNextMessage(ctx); err != nil || m.Text() != "before" {
				t.Fatalf("WaitForNextMessage: %s, %v", payload(m.Data), err)
			}
			wantFailure(t, ws, ctx, tc.code)
			srv.wait(t)
		})
	}
}
