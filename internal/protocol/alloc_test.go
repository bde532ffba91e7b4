package protocol

import (
	"testing"

	"github.com/gobwas/ws"
)

func skipAllocsUnderRace(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items)")
	}
}

func TestAllocsFeedSmallMessage(t *testing.T) {
	skipAllocsUnderRace(t)
	c := NewConn(Config{})
	in := textFrame("a small text message of 32 bytes")
	if n := testing.AllocsPerRun(1000, func() { drain(c, in) }); n != 1 {
		t.Fatalf("Feed of a whole message: %v allocs, want 1 (the payload)", n)
	}
	// Split across three Feed calls, it still costs one allocation of
	// exactly the message's size.
	if n := testing.AllocsPerRun(1000, func() { drain(c, in[:1]); drain(c, in[1:10]); drain(c, in[10:]) }); n != 1 {
		t.Fatalf("Feed of a split message: %v allocs, want 1", n)
	}
	bin := binFrame(make([]byte, 100000))
	if n := testing.AllocsPerRun(100, func() { drain(c, bin) }); n != 1 {
		t.Fatalf("Feed of a large message: %v allocs, want 1", n)
	}
}

func TestAllocsFeedPing(t *testing.T) {
	skipAllocsUnderRace(t)
	c := NewConn(Config{})
	in := pingFrame("heartbeat")
	n := testing.AllocsPerRun(1000, func() {
		drain(c, in)
		c.Advance(len(c.Output()))
	})
	if n != 1 {
		t.Fatalf("ping with automatic pong: %v allocs, want 1 (the event's copy)", n)
	}
	in = pongFrame("")
	if n := testing.AllocsPerRun(1000, func() { drain(c, in) }); n != 0 {
		t.Fatalf("empty pong: %v allocs", n)
	}
}

func TestAllocsWrite(t *testing.T) {
	skipAllocsUnderRace(t)
	c := NewConn(Config{})
	p := make([]byte, 1000)
	// Warm the output buffer; every later write fits it.
	c.WriteMessage(true, p)
	c.Advance(len(c.Output()))
	cases := map[string]func(){
		"WriteMessage": func() { c.WriteMessage(true, p) },
		"WriteText":    func() { c.WriteText("a text message, sent as a string") },
		"WritePing":    func() { c.WritePing([]byte("ping")) },
		"WritePong":    func() { c.WritePong(nil) },
	}
	for name, write := range cases {
		n := testing.AllocsPerRun(1000, func() {
			write()
			c.Advance(len(c.Output()))
		})
		if n != 0 {
			t.Errorf("%s: %v allocs, want 0", name, n)
		}
	}
}

func TestAllocsFragmentedAssembly(t *testing.T) {
	skipAllocsUnderRace(t)
	// A fragmented message needs its buffer to grow; bound it loosely so a
	// regression to per-byte growth shows.
	c := NewConn(Config{})
	var in []byte
	for range 9 {
		in = append(in, frame(false, ws.OpContinuation, make([]byte, 1000))...)
	}
	in = append(frame(false, ws.OpBinary, make([]byte, 1000)), in...)
	in = append(in, frame(true, ws.OpContinuation, make([]byte, 1000))...)
	if n := testing.AllocsPerRun(100, func() { drain(c, in) }); n > 6 {
		t.Fatalf("11 KB in 11 fragments: %v allocs", n)
	}
}
