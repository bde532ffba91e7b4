package compression_test

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

const (
	// bombSize is what the servers' bomb inflates to: 64 MiB of zeros,
	// about 64 KiB on the wire.
	bombSize = 64 * MiB
	// bombLimit is the client's MaxMessageSize against it.
	bombLimit = 1 * MiB
	// bombAllocBound bounds what the client may allocate from sending
	// "!bomb" to the end of the socket: the compressed frame, the output
	// up to the limit, noise. Inflating the message whole would take four
	// times as much.
	bombAllocBound = 16 * MiB
)

// TestBomb has a real server send a message that inflates to 64 MiB, a
// thousand times its size on the wire, to a client whose MaxMessageSize
// is 1 MiB: the client fails the connection with 1009 having allocated a
// bounded amount, on an event loop (with the server's context takeover)
// and with the blocking API (without it). It does not run in parallel:
// it measures the process's allocations.
func TestBomb(t *testing.T) {
	for _, p := range allPeers {
		t.Run(p.name, func(t *testing.T) {
			t.Run("EventLoop", func(t *testing.T) {
				bombLoop(t, p.start(t, peers.Deflate{}))
			})
			t.Run("Blocking", func(t *testing.T) {
				bombBlocking(t, p.start(t, peers.Deflate{ServerNoContextTakeover: true}))
			})
		})
	}
}

// bombCommand has the server send the bomb.
var bombCommand = "!bomb " + strconv.Itoa(bombSize)

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// checkBombed checks the failure's cause, what came over the wire and
// what the client allocated.
func checkBombed(t *testing.T, ws *websocket.WebSocket, err error, allocated uint64) {
	t.Helper()
	var pe *websocket.ProtocolError
	if !errors.As(err, &pe) || pe.Code != 1009 {
		t.Errorf("the failure: %v (%T); want a *websocket.ProtocolError with Code 1009", err, err)
	}
	// The message was compressed: far less than the limit came in, so
	// the limit was reached by inflating.
	if in := ws.Stats().BytesIn; in < bombSize/2048 || in > bombLimit/4 {
		t.Errorf("%d bytes received; want the bomb compressed, %d to %d bytes", in, bombSize/2048, bombLimit/4)
	}
	if allocated > bombAllocBound {
		t.Errorf("the client allocated %d bytes against the bomb; want at most %d (MaxMessageSize %d)", allocated, bombAllocBound, bombLimit)
	}
	t.Logf("%d bytes received, %d allocated", ws.Stats().BytesIn, allocated)
}

func bombLoop(t *testing.T, url string) {
	loop := websocket.NewEventLoop()
	loop.OnPanic = func(v any, stack []byte) {
		t.Errorf("panic in a callback: %v\n%s", v, stack)
	}
	ws, err := websocket.NewWithConfig(url, &websocket.Config{Loop: loop, MaxMessageSize: bombLimit})
	if err != nil {
		t.Fatalf("NewWithConfig(%q): %v", url, err)
	}
	var before uint64
	var events []websocket.Event
	ws.OnOpen = func(websocket.OpenEvent) {
		if ws.Extensions() == "" {
			t.Errorf("no extension settled")
		}
		runtime.GC()
		before = totalAlloc()
		if err := ws.SendText(bombCommand); err != nil {
			t.Errorf("SendText: %v", err)
			ws.Close()
		}
	}
	ws.OnMessage = func(e websocket.MessageEvent) {
		t.Errorf("a message of %d bytes; want none, the connection failed", len(e.Data))
		events = append(events, e)
	}
	ws.OnError = func(e websocket.ErrorEvent) { events = append(events, e) }
	ws.OnClose = func(e websocket.CloseEvent) { events = append(events, e) }

	var stopped atomic.Bool
	watchdog := time.AfterFunc(timeout, func() {
		stopped.Store(true)
		loop.Stop()
	})
	err = loop.Run()
	watchdog.Stop()
	allocated := totalAlloc() - before
	if err != nil {
		t.Fatalf("loop.Run: %v", err)
	}
	if stopped.Load() {
		t.Fatalf("loop still running after %v; events %v", timeout, events)
	}
	if len(events) != 2 {
		t.Fatalf("events %v; want error, then close 1006", events)
	}
	e, ok := events[0].(websocket.ErrorEvent)
	if !ok {
		t.Fatalf("first event %T; want an ErrorEvent", events[0])
	}
	if c, ok := events[1].(websocket.CloseEvent); !ok || c.Code != websocket.CloseAbnormal || c.WasClean {
		t.Errorf("second event %+v; want a close event 1006, not clean", events[1])
	}
	checkBombed(t, ws, e.Err, allocated)
}

func bombBlocking(t *testing.T, url string) {
	ws, ctx := dial(t, url, &websocket.Config{MaxMessageSize: bombLimit})
	if ws.Extensions() == "" {
		t.Errorf("no extension settled")
	}
	runtime.GC()
	before := totalAlloc()
	if err := ws.SendText(bombCommand); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	m, err := ws.WaitForNextMessage(ctx)
	allocated := totalAlloc() - before
	if err == nil {
		t.Fatalf("a message of %d bytes; want the connection failed", len(m.Data))
	}
	var ce *websocket.ClosedError
	if !errors.As(err, &ce) {
		t.Fatalf("WaitForNextMessage: %v (%T); want a *websocket.ClosedError", err, err)
	}
	if ce.Event.Code != websocket.CloseAbnormal || ce.Event.WasClean {
		t.Errorf("the close: %d, clean %t; want 1006, not clean", ce.Event.Code, ce.Event.WasClean)
	}
	checkBombed(t, ws, ce.Err, allocated)
}

// TestInflateLimit has the servers send a compressed message of exactly
// MaxMessageSize, which is delivered, then one a byte longer, which fails
// the connection with 1009: the limit holds for what the message inflates
// to, not for its few bytes on the wire, and to the byte.
func TestInflateLimit(t *testing.T) {
	const limit = 200_000 // no size class of the library's buffers
	for _, p := range allPeers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ws, ctx := dial(t, p.start(t, peers.Deflate{}), &websocket.Config{MaxMessageSize: limit})
			if err := ws.SendText("!bomb " + strconv.Itoa(limit)); err != nil {
				t.Fatalf("SendText: %v", err)
			}
			m, err := ws.WaitForNextMessage(ctx)
			if err != nil {
				t.Fatalf("a message of MaxMessageSize: %v; want it delivered", err)
			}
			if !m.Binary || len(m.Data) != limit || !bytes.Equal(m.Data, make([]byte, limit)) {
				t.Errorf("a message of %d bytes, binary %t; want %d zeros", len(m.Data), m.Binary, limit)
			}
			if in := ws.Stats().BytesIn; in > limit/100 {
				t.Errorf("%d bytes received; want the message compressed", in)
			}
			if err := ws.SendText("!bomb " + strconv.Itoa(limit+1)); err != nil {
				t.Fatalf("SendText: %v", err)
			}
			m, err = ws.WaitForNextMessage(ctx)
			var pe *websocket.ProtocolError
			if err == nil {
				t.Fatalf("a message of %d bytes over MaxMessageSize %d; want the connection failed", len(m.Data), limit)
			} else if !errors.As(err, &pe) || pe.Code != 1009 {
				t.Errorf("a message of MaxMessageSize + 1: %v; want a *websocket.ProtocolError with Code 1009", err)
			}
		})
	}
}
