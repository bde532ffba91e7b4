package websocket

import (
	"testing"

	"github.com/wsloop/websocket/internal/protocol"
)

// discardConn is a poll.Conn that takes every byte at once.
type discardConn struct{}

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }
func (discardConn) CloseWrite() error           { return nil }
func (discardConn) Close() error                { return nil }
func (discardConn) SetPaused(bool)              {}
func (discardConn) Unsent() int                 { return 0 }

// openSocket is a socket in the Open state wired to discardConn, for
// measuring the loop side of the hot path without a network.
func openSocket() *WebSocket {
	ws := &WebSocket{loop: NewEventLoop(), core: protocol.NewConn(protocol.Config{}), conn: discardConn{}, maxBuffered: DefaultMaxBufferedAmount}
	ws.state.Store(int32(Open))
	return ws
}

// A received message costs one allocation, its payload; a sent one none.
func TestHotPathAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	ws := openSocket()
	got := 0
	ws.OnMessage = func(m MessageEvent) { got += len(m.Data) }
	frame := append([]byte{0x81, 32}, make([]byte, 32)...)
	if n := testing.AllocsPerRun(1000, func() { ws.onRead(frame) }); n != 1 {
		t.Errorf("receiving a message: %v allocations, want 1 (the payload)", n)
	}
	if got == 0 {
		t.Fatal("no message delivered")
	}
	// Released, the payload's buffer holds the next message: nothing is
	// allocated at all (sync.Pool may drop a buffer now and then, hence
	// the bound rather than 0). Payloads under 64 bytes are not worth
	// recycling and are always allocated.
	ws.OnMessage = func(m MessageEvent) { got += len(m.Data); m.Release() }
	kib := append([]byte{0x82, 126, 4, 0}, make([]byte, 1024)...)
	if n := testing.AllocsPerRun(1000, func() { ws.onRead(kib) }); n > 0.01 {
		t.Errorf("receiving a message that is released: %v allocations, want 0", n)
	}
	// Many messages in one read cost no more than their payloads: events
	// are delivered one by one, not collected.
	var many []byte
	for range 200 {
		many = append(many, frame...)
	}
	ws.OnMessage = func(m MessageEvent) { got += len(m.Data) }
	if n := testing.AllocsPerRun(100, func() { ws.onRead(many) }); n != 200 {
		t.Errorf("receiving 200 messages in one read: %v allocations, want 200", n)
	}
	payload := make([]byte, 32)
	if n := testing.AllocsPerRun(1000, func() { ws.Send(payload) }); n != 0 {
		t.Errorf("Send: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { ws.SendText("thirty-two bytes of text message") }); n != 0 {
		t.Errorf("SendText: %v allocations, want 0", n)
	}
}

func BenchmarkReceiveMessage(b *testing.B) {
	ws := openSocket()
	ws.OnMessage = func(MessageEvent) {}
	frame := append([]byte{0x81, 32}, make([]byte, 32)...)
	b.ReportAllocs()
	b.SetBytes(32)
	for b.Loop() {
		ws.onRead(frame)
	}
}

// BenchmarkReceiveReleased is BenchmarkReceiveMessage with a handler that
// releases each message, with 1 KiB messages, 64 per read as the loop
// reads them off a busy socket.
func BenchmarkReceiveReleased(b *testing.B) {
	ws := openSocket()
	ws.OnMessage = func(m MessageEvent) { m.Release() }
	frame := append([]byte{0x82, 126, 4, 0}, make([]byte, 1024)...)
	var read []byte
	for range 64 {
		read = append(read, frame...)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(read)))
	for b.Loop() {
		ws.onRead(read)
	}
}

func BenchmarkSendText(b *testing.B) {
	ws := openSocket()
	b.ReportAllocs()
	b.SetBytes(32)
	for b.Loop() {
		ws.SendText("thirty-two bytes of text message")
	}
}
