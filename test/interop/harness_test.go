// Package interop_test checks the client against WebSocket servers written
// with other libraries, started by the peers package on the loopback
// interface.
//
// scenarios_test.go holds what is checked, as functions of a peer and its
// URL, so that each server is one small file (python_test.go, node_test.go,
// gorilla_test.go, coder_test.go) naming what it does differently, and
// interop_test.go runs every scenario against every peer. This file holds the harness the scenarios share: a
// socket on an event loop of its own, run on the test goroutine under a
// watchdog, and a dialed socket for the blocking API under a deadline.
package interop_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// scenarioTimeout bounds one scenario: a loop still running, or a blocking
// call still waiting, after it is a failure. It is a bound, never a wait:
// every scenario ends on events, the slowest (16 MiB each way) in about a
// second under the race detector. The margin is for loaded CI machines,
// where the scenarios also share one single-threaded Python server and the
// four peers run at the same time.
const scenarioTimeout = 30 * time.Second

// peer is a server the scenarios run against.
type peer struct {
	// name names the peer's subtest.
	name string
	// start starts a server supporting protocols (it selects the first one
	// the client offers that is among them) and returns its ws:// URL. It
	// echoes every message with its type and understands the text commands
	// "!close CODE REASON" and "!ping PAYLOAD".
	start func(t testing.TB, protocols ...string) string
	// closeEchoesReason: the server answers the client's close frame with
	// the same code and the same reason; otherwise with the code alone.
	closeEchoesReason bool
	// reportsPong: once the client's pong to "!ping PAYLOAD" arrives, the
	// server sends the text message "pong:PAYLOAD".
	reportsPong bool
}

// loopSocket is a socket made by NewWithConfig on an event loop of its own,
// which run drives on the test goroutine: callbacks may use t freely.
type loopSocket struct {
	t    *testing.T
	loop *websocket.EventLoop
	ws   *websocket.WebSocket

	// closes are the close events fired, and closeStates the readyState
	// seen in OnClose for each.
	closes      []websocket.CloseEvent
	closeStates []websocket.ReadyState
}

// newLoopSocket starts connecting to url with cfg (its Loop replaced by a
// new one). An error event fails the test; the close event is recorded for
// wantClose.
func newLoopSocket(t *testing.T, url string, cfg websocket.Config) *loopSocket {
	t.Helper()
	s := &loopSocket{t: t, loop: websocket.NewEventLoop()}
	s.loop.OnPanic = func(v any, stack []byte) {
		t.Errorf("panic in a callback: %v\n%s", v, stack)
	}
	cfg.Loop = s.loop
	ws, err := websocket.NewWithConfig(url, &cfg)
	if err != nil {
		t.Fatalf("NewWithConfig(%q): %v", url, err)
	}
	s.ws = ws
	if got := ws.ReadyState(); got != websocket.Connecting {
		t.Errorf("readyState right after NewWithConfig = %v; want CONNECTING", got)
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		t.Errorf("error event: %v", e.Err)
	}
	ws.OnClose = func(e websocket.CloseEvent) {
		s.closes = append(s.closes, e)
		s.closeStates = append(s.closeStates, ws.ReadyState())
	}
	return s
}

// fail reports a failure from a callback and closes the socket, so that
// the loop ends rather than waiting for the watchdog.
func (s *loopSocket) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf(format, args...)
	s.ws.Close()
}

// run runs the loop until it returns by itself, as it must once the socket
// has closed; a watchdog stops it after scenarioTimeout and fails the test.
func (s *loopSocket) run() {
	s.t.Helper()
	var stopped atomic.Bool
	watchdog := time.AfterFunc(scenarioTimeout, func() {
		stopped.Store(true)
		s.loop.Stop()
	})
	err := s.loop.Run()
	watchdog.Stop()
	if err != nil {
		s.t.Fatalf("loop.Run: %v", err)
	}
	if stopped.Load() {
		s.t.Fatalf(
			"loop still running after %v: stopped by the watchdog (readyState %v, BufferedAmount %d, %d close events)",
			scenarioTimeout, s.ws.ReadyState(), s.ws.BufferedAmount(), len(s.closes),
		)
	}
}

// wantClose checks that exactly one close event fired, equal to want (its
// Target set to the socket), with readyState CLOSED in OnClose and after.
func (s *loopSocket) wantClose(want websocket.CloseEvent) {
	s.t.Helper()
	want.Target = s.ws
	switch {
	case len(s.closes) != 1:
		s.t.Errorf("%d close events; want exactly one, %v", len(s.closes), describeClose(want, s.ws))
		for _, e := range s.closes {
			s.t.Errorf("close event %v", describeClose(e, s.ws))
		}
	case s.closes[0] != want:
		s.t.Errorf("close event %v; want %v", describeClose(s.closes[0], s.ws), describeClose(want, s.ws))
	case s.closeStates[0] != websocket.Closed:
		s.t.Errorf("readyState in OnClose = %v; want CLOSED", s.closeStates[0])
	}
	if got := s.ws.ReadyState(); got != websocket.Closed {
		s.t.Errorf("readyState after the loop = %v; want CLOSED", got)
	}
}

// describeClose shows e, and whether its Target is ws.
func describeClose(e websocket.CloseEvent, ws *websocket.WebSocket) string {
	target := "target the socket"
	switch {
	case e.Target == nil:
		target = "no target"
	case e.Target != ws:
		target = "target another socket"
	}
	return fmt.Sprintf("{code %d, reason %q, wasClean %t, %s}", e.Code, e.Reason, e.WasClean, target)
}

// dial opens a socket with the blocking API; the returned context bounds the
// scenario's blocking calls.
func dial(t *testing.T, url string, cfg *websocket.Config) (*websocket.WebSocket, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	t.Cleanup(cancel)
	ws, err := websocket.Dial(ctx, url, cfg)
	if err != nil {
		t.Fatalf("Dial(%q): %v", url, err)
	}
	if got := ws.ReadyState(); got != websocket.Open {
		t.Fatalf("readyState after Dial = %v; want OPEN", got)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, ctx
}

// wantClosedError checks that the blocking API reports a clean close:
// every receive call returns a *websocket.ClosedError carrying want (its
// Target set to ws) and no failure cause, for which errors.Is(err,
// websocket.ErrClosed) holds, and sending returns websocket.ErrClosed.
func wantClosedError(t *testing.T, ws *websocket.WebSocket, ctx context.Context, want websocket.CloseEvent) {
	t.Helper()
	want.Target = ws
	check := func(call string, err error) {
		t.Helper()
		var ce *websocket.ClosedError
		switch {
		case !errors.As(err, &ce):
			t.Fatalf("%s: error %v (%T); want *websocket.ClosedError", call, err, err)
		case ce.Event != want:
			t.Errorf("%s: ClosedError carries %v; want %v", call, describeClose(ce.Event, ws), describeClose(want, ws))
		case ce.Err != nil:
			t.Errorf("%s: ClosedError.Err = %v; want nil after a closing handshake", call, ce.Err)
		}
		if !errors.Is(err, websocket.ErrClosed) {
			t.Errorf("%s: errors.Is(%v, ErrClosed) is false", call, err)
		}
	}
	m, err := ws.WaitForNextMessage(ctx)
	if err == nil {
		t.Fatalf("WaitForNextMessage: message %v; want the close", describe(m))
	}
	check("WaitForNextMessage", err)
	if got := ws.ReadyState(); got != websocket.Closed {
		t.Errorf("readyState after the close = %v; want CLOSED", got)
	}
	// Once closed it stays so, for every receive call.
	_, err = ws.WaitForNextMessage(ctx)
	check("WaitForNextMessage again", err)
	_, err = ws.LowLevelReceive(ctx)
	check("LowLevelReceive", err)
	if err := ws.SendText("late"); !errors.Is(err, websocket.ErrClosed) {
		t.Errorf("SendText after the close: %v; want ErrClosed", err)
	}
	if err := ws.Ping(nil); !errors.Is(err, websocket.ErrClosed) {
		t.Errorf("Ping after the close: %v; want ErrClosed", err)
	}
}

// msg is a message as sent or as expected back.
type msg struct {
	binary bool
	data   []byte
}

func text(s string) msg    { return msg{data: []byte(s)} }
func binary(p []byte) msg  { return msg{binary: true, data: p} }
func (m msg) kind() string { return map[bool]string{false: "text", true: "binary"}[m.binary] }

// String shows the type, the length and the start of the data, so that a
// 16 MiB mismatch does not flood the log.
func (m msg) String() string {
	const show = 40
	p := m.data
	more := ""
	if len(p) > show {
		p, more = p[:show], "..."
	}
	return fmt.Sprintf("%s[%d] %q%s", m.kind(), len(m.data), p, more)
}

func describe(e websocket.MessageEvent) msg { return msg{binary: e.Binary, data: e.Data} }

// send sends m with Send or SendText according to its type.
func send(ws *websocket.WebSocket, m msg) error {
	if m.binary {
		return ws.Send(m.data)
	}
	return ws.SendText(string(m.data))
}

// sameMessage reports whether got is want: same type, same bytes. An empty
// message must arrive as empty data, whether nil or not.
func sameMessage(got websocket.MessageEvent, want msg) bool {
	return got.Binary == want.binary && string(got.Data) == string(want.data)
}
