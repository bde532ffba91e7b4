package compression_test

import (
	"context"
	"os"
	"runtime"
	"testing"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// windowSockets is how many sockets the window test opens per mode: the
// windows they keep, 2 MiB at 15 bits, stand well clear of the heap's
// noise.
const windowSockets = 64

// TestWindowKept measures what a socket keeps between messages, as the
// heap's growth over windowSockets sockets that have each sent and
// received a compressed message (Node's server, its context takeover at
// 15 bits; without it; at 9 bits), against the same sockets before:
// with takeover at 15 bits what the server sent, up to its window (32
// KiB), more than without: here the 4 KiB message; at 9 bits no more than
// a few KiB more. It does not run in parallel: it
// measures the process's heap.
func TestWindowKept(t *testing.T) {
	none := perSocket(t, peers.Deflate{ServerNoContextTakeover: true})
	full := perSocket(t, peers.Deflate{})
	small := perSocket(t, peers.Deflate{ServerMaxWindowBits: 9})
	t.Logf("kept per socket after a compressed message each way: %d bytes without takeover, %d with (15 bits), %d with 9 bits", none, full, small)
	if d := full - none; d < 3*KiB || d > 8*KiB {
		t.Errorf("a socket with the server's context takeover at 15 bits keeps %d bytes more than one without; want the 4 KiB the server sent", d)
	}
	// On the native poller a socket holds no read buffer of its own, and
	// one that sent a single message gives its output buffer back once it
	// is written: without takeover nothing of the exchange stays. (The
	// portable poller's reader goroutine keeps a read buffer.)
	if os.Getenv("WSLOOP_POLLER") != "portable" && none > 256 {
		t.Errorf("a socket without the server's context takeover keeps %d bytes after a message each way; want none of the message's buffers", none)
	}
	if d := small - none; d > 2*KiB {
		t.Errorf("a socket with the server's context takeover at 9 bits keeps %d bytes more than one without; want about 512", d)
	}
}

// perSocket is the heap's growth per socket, in bytes, once each of
// windowSockets sockets to a Node server configured by d has sent and
// received a compressed message.
func perSocket(t *testing.T, d peers.Deflate) int {
	t.Helper()
	url := peers.NodeDeflate(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	msg := message(false, compressible, 4*KiB, 0)
	exchange := func(ws *websocket.WebSocket) {
		t.Helper()
		if err := msg.send(ws); err != nil {
			t.Fatalf("sending: %v", err)
		}
		echoed(t, ctx, ws, 0, msg)
	}
	open := func() *websocket.WebSocket {
		t.Helper()
		ws, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		t.Cleanup(func() { ws.Close() })
		return ws
	}
	// A socket of the same loop that stays open fills the loop's pools of
	// compressors and decompressors, and keeps the loop.
	exchange(open())
	sockets := make([]*websocket.WebSocket, windowSockets)
	for i := range sockets {
		sockets[i] = open()
	}
	before := liveHeap()
	for _, ws := range sockets {
		before := ws.Stats()
		exchange(ws)
		after := ws.Stats()
		sent := payloadSize(after.BytesOut-before.BytesOut, true)
		got := payloadSize(after.BytesIn-before.BytesIn, false)
		if sent >= len(msg.data) || got >= len(msg.data) {
			t.Fatalf("%v went out as %d bytes and came back as %d; want it compressed both ways", msg, sent, got)
		}
	}
	after := liveHeap()
	for _, ws := range sockets {
		ws.Close()
	}
	return (int(after) - int(before)) / windowSockets
}

// liveHeap is the heap in use once garbage is collected, pooled buffers
// included (a sync.Pool empties over two collections).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
