package protocol

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

// The messages not wholly written move to the next connection's state,
// the one being written again from its first byte, in order; control
// frames stay behind. It holds across the output's buffers.
func TestCarryOver(t *testing.T) {
	for _, big := range []int{300, 3 << 20} {
		c := NewConn(Config{})
		c.WriteText("sent")
		c.WritePing([]byte("p"))
		b := bytes.Repeat([]byte{7}, big)
		c.WriteMessage(true, b)
		c.WritePong([]byte("q"))
		c.WriteText("last")
		// "sent" and the ping are written, and part of b.
		n := 2 + 4 + 4 + 2 + 4 + 1 + 4 + 100
		for n > 0 {
			k := min(n, len(c.Output()))
			c.Advance(k)
			n -= k
		}
		next := NewConn(Config{})
		carried, lost, _ := c.CarryOver(next)
		if carried != big+4 || lost != 0 || next.BufferedPayload() != big+4 {
			t.Fatalf("big %d: carried %d lost %d buffered %d", big, carried, lost, next.BufferedPayload())
		}
		if u := c.Discard(); u != 0 {
			t.Errorf("Discard after CarryOver counts %d unwritten", u)
		}
		frames := mustDecode(t, allOutput(next))
		if len(frames) != 2 || frames[0].op != ws.OpBinary || !bytes.Equal(frames[0].payload, b) ||
			frames[1].op != ws.OpText || string(frames[1].payload) != "last" {
			t.Fatalf("big %d: next holds %d frames", big, len(frames))
		}
		// The next connection writes them and counts them down.
		got := 0
		for len(next.Output()) > 0 {
			got += next.Advance(len(next.Output()))
		}
		if got != big+4 || next.BufferedPayload() != 0 {
			t.Errorf("big %d: Advance counted %d, %d left", big, got, next.BufferedPayload())
		}
	}
}

// A fragmented message whose first frame was written cannot go on over
// another connection: its other frames are lost, and counted.
func TestCarryOverDropsAMessageBegun(t *testing.T) {
	c := NewConn(Config{})
	c.out = cat(frameMasked(false, ws.OpText, "ab"), frameMasked(false, ws.OpContinuation, "cd"),
		frameMasked(true, ws.OpContinuation, "ef"), frameMasked(true, ws.OpBinary, "gh"))
	c.buffered = 8
	c.Advance(len(frameMasked(false, ws.OpText, "ab")))
	next := NewConn(Config{})
	carried, lost, _ := c.CarryOver(next)
	if carried != 2 || lost != 4 {
		t.Fatalf("carried %d lost %d", carried, lost)
	}
	frames := mustDecode(t, allOutput(next))
	if len(frames) != 1 || string(frames[0].payload) != "gh" {
		t.Fatalf("next holds %+v", frames)
	}
}

// frameMasked is a client frame as the core writes one, FIN as given.
func frameMasked(fin bool, op ws.OpCode, s string) []byte {
	b0 := byte(op)
	if fin {
		b0 |= bitFin
	}
	hs := frameHeaderSize(len(s), true)
	b := make([]byte, hs+len(s))
	putHeader(b, b0, len(s), bitMask, [4]byte{1, 2, 3, 4})
	copy(b[hs:], s)
	ws.Cipher(b[hs:], [4]byte{1, 2, 3, 4}, 0)
	return b
}

// A buffer that slides its unwritten bytes to the front keeps the written
// part of the frame at head, so that CarryOver can send it again whole.
func TestCarryOverAfterSlide(t *testing.T) {
	c := NewConn(Config{})
	c.WriteMessage(true, make([]byte, 100)) // a 106-byte frame
	a := bytes.Repeat([]byte{'a'}, 300)     // a 308-byte frame
	c.WriteMessage(true, a)
	c.Advance(106 + 290) // the first, then into a
	capBefore := cap(c.out)
	b := bytes.Repeat([]byte{'b'}, 150)
	c.WriteMessage(true, b) // no room at the end: the buffer slides
	if cap(c.out) != capBefore || c.backlog() != nil {
		t.Fatalf("the buffer did not slide (cap %d, was %d)", cap(c.out), capBefore)
	}
	next := NewConn(Config{})
	if carried, _, _ := c.CarryOver(next); carried != 450 {
		t.Fatalf("carried %d", carried)
	}
	frames := mustDecode(t, allOutput(next))
	if len(frames) != 2 || !bytes.Equal(frames[0].payload, a) || !bytes.Equal(frames[1].payload, b) {
		t.Fatalf("next holds %d frames", len(frames))
	}
}

// WriteFragment writes one message in frames: the first text or binary,
// the rest continuations, FIN on the last; other messages wait.
func TestWriteFragment(t *testing.T) {
	c := NewConn(Config{})
	c.WriteFragment(true, []byte("ab"), false)
	if err := c.WriteText("x"); err != ErrFragmentOpen {
		t.Fatalf("WriteText in a fragmented message: %v", err)
	}
	c.WritePing([]byte("p")) // control frames may interleave
	c.WriteFragment(true, []byte("cd"), false)
	c.WriteFragment(true, nil, true)
	if c.FragmentOpen() || c.BufferedPayload() != 4 {
		t.Fatalf("open %v, buffered %d", c.FragmentOpen(), c.BufferedPayload())
	}
	frames, err := decodeClientFrames(allOutput(c)) // not mustDecode, which wants FIN on all
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		fin bool
		op  ws.OpCode
		p   string
	}{{false, ws.OpBinary, "ab"}, {true, ws.OpPing, "p"}, {false, ws.OpContinuation, "cd"}, {true, ws.OpContinuation, ""}}
	if len(frames) != len(want) {
		t.Fatalf("%d frames", len(frames))
	}
	for i, w := range want {
		if f := frames[i]; f.fin != w.fin || f.op != w.op || string(f.payload) != w.p {
			t.Errorf("frame %d: %v %v %q, want %v %v %q", i, f.fin, f.op, f.payload, w.fin, w.op, w.p)
		}
	}
	if err := c.WriteText("x"); err != nil {
		t.Fatal(err)
	}
}

// A message being written in fragments when the connection is lost goes
// on over the next when none of it was written, and is reported
// interrupted when its beginning was.
func TestCarryOverOpenFragment(t *testing.T) {
	c := NewConn(Config{})
	c.WriteFragment(false, []byte("ab"), false)
	next := NewConn(Config{})
	if _, _, interrupted := c.CarryOver(next); interrupted || !next.FragmentOpen() {
		t.Fatalf("unwritten: interrupted %v, open in next %v", interrupted, next.FragmentOpen())
	}
	c = NewConn(Config{})
	c.WriteFragment(false, []byte("ab"), false)
	c.WriteFragment(false, []byte("cd"), false)
	c.Advance(len(c.Output()) - 3) // into "cd"
	next = NewConn(Config{})
	carried, lost, interrupted := c.CarryOver(next)
	if !interrupted || next.FragmentOpen() || carried != 0 || lost != 2 {
		t.Fatalf("begun: carried %d lost %d interrupted %v open %v", carried, lost, interrupted, next.FragmentOpen())
	}
	c = NewConn(Config{})
	c.WriteFragment(false, []byte("ab"), false)
	c.Advance(len(c.Output()))
	next = NewConn(Config{})
	if _, _, interrupted := c.CarryOver(next); !interrupted {
		t.Fatal("a message wholly written so far is not reported interrupted")
	}
}
