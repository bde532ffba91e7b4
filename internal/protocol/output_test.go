package protocol

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/gobwas/ws"
)

// payloadMap marks which bytes of out are message payload.
func payloadMap(t *testing.T, out []byte) []bool {
	t.Helper()
	m := make([]bool, 0, len(out))
	frames := mustDecode(t, out)
	for _, f := range frames {
		h := frameHeaderSize(len(f.payload), true)
		for range h {
			m = append(m, false)
		}
		for range f.payload {
			m = append(m, f.op.IsData())
		}
	}
	return m
}

func TestAdvanceExactPayload(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		c := NewConn(Config{})
		var mp []bool
		written := 0
		queued := 0
		queue := func() {
			before := len(allOutput(c))
			switch r.IntN(5) {
			case 0:
				n := r.IntN(300)
				c.WriteMessage(true, make([]byte, n))
				queued += n
			case 1:
				n := r.IntN(70000)
				c.WriteText(string(bytes.Repeat([]byte{'a'}, n)))
				queued += n
			case 2:
				c.WritePing(make([]byte, r.IntN(126)))
			case 3:
				c.WritePong(nil)
			default:
				c.WriteMessage(false, nil)
			}
			out := allOutput(c)
			if len(out) != c.Pending() {
				t.Fatalf("Pending %d, %d bytes queued", c.Pending(), len(out))
			}
			mp = append(mp, payloadMap(t, out[before:])...)
		}
		for range 1 + r.IntN(6) {
			queue()
		}
		for len(c.Output()) > 0 {
			n := r.IntN(len(c.Output()) + 1)
			if r.IntN(4) == 0 {
				n = r.IntN(min(len(c.Output()), 16) + 1)
			}
			want := 0
			for _, p := range mp[written : written+n] {
				if p {
					want++
				}
			}
			if got := c.Advance(n); got != want {
				t.Fatalf("round %d: Advance(%d) = %d, want %d", round, n, got, want)
			}
			written += n
			queued -= want
			if c.BufferedPayload() != queued {
				t.Fatalf("BufferedPayload %d, want %d", c.BufferedPayload(), queued)
			}
			// Sometimes queue more while partly drained, which may slide
			// the buffer under Advance's cursor or start a new one.
			if r.IntN(5) == 0 && round%2 == 0 {
				mp = mp[written:]
				written = 0
				queue()
			}
		}
		if c.BufferedPayload() != 0 {
			t.Fatalf("BufferedPayload %d after drain", c.BufferedPayload())
		}
	}
}

func TestAdvanceByteByByte(t *testing.T) {
	c := NewConn(Config{})
	c.WriteText("abc")
	c.WritePing([]byte("zz"))
	c.WriteMessage(true, make([]byte, 200))
	total, calls := 0, 0
	for len(c.Output()) > 0 {
		total += c.Advance(1)
		calls++
	}
	if total != 203 || calls != (6+3)+(6+2)+(8+200) {
		t.Fatalf("total %d over %d calls", total, calls)
	}
}

func TestOutputRelease(t *testing.T) {
	c := NewConn(Config{})
	c.WriteMessage(true, make([]byte, 10000))
	c.Advance(100)
	if cap(c.out) < 10000 {
		t.Fatal("buffer released while not drained")
	}
	c.Advance(len(c.Output()))
	if c.out != nil || c.head != 0 || len(c.Output()) != 0 {
		t.Fatalf("large buffer kept after drain: cap %d", cap(c.out))
	}
	// A small buffer is kept so steady traffic does not allocate.
	c.WriteText("small")
	c.Advance(len(c.Output()))
	if cap(c.out) == 0 || cap(c.out) > maxIdleOutput {
		t.Fatalf("small buffer: cap %d", cap(c.out))
	}
}

func TestOutputCompaction(t *testing.T) {
	// A connection that never fully drains must not grow without bound.
	c := NewConn(Config{})
	for range 10000 {
		c.WriteMessage(true, make([]byte, 50))
		c.Advance(len(c.Output()) - 10)
	}
	if cap(c.out) > 4*minOutput {
		t.Fatalf("buffer grew to %d", cap(c.out))
	}
	if len(c.Output()) != 10 {
		t.Fatalf("%d bytes pending", len(c.Output()))
	}
	c.Advance(len(c.Output()))
	if c.BufferedPayload() != 0 {
		t.Fatalf("BufferedPayload %d", c.BufferedPayload())
	}
}

func TestAdvancePanicsPastOutput(t *testing.T) {
	c := NewConn(Config{})
	c.WritePing(nil)
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	c.Advance(len(c.Output()) + 1)
}

func TestAutomaticFramesInOutput(t *testing.T) {
	// Pongs and the close echo queued by Feed interleave with writes and
	// count as control bytes.
	c := NewConn(Config{})
	c.WriteText("one")
	feedAll(c, pingFrame("p"))
	c.WriteText("two")
	feedAll(c, closeCode(1000, ""))
	frames := mustDecode(t, allOutput(c))
	ops := []ws.OpCode{ws.OpText, ws.OpPong, ws.OpText, ws.OpClose}
	for i, f := range frames {
		if f.op != ops[i] {
			t.Fatalf("frame %d: %v", i, f.op)
		}
	}
	if got := c.Advance(len(c.Output())); got != 6 {
		t.Fatalf("payload %d", got)
	}
}

// A backlog of large messages is never copied to make room for the next:
// the bytes being written stay where they are, and Pending counts them all.
func TestBacklogIsNotMoved(t *testing.T) {
	c := NewConn(Config{})
	msg := make([]byte, 1<<20)
	c.WriteMessage(true, msg)
	c.Advance(1000) // partly written, as a slow peer takes it
	first := &c.Output()[0]
	for i := range 16 {
		c.WriteMessage(true, msg)
		if &c.Output()[0] != first {
			t.Fatalf("message %d moved the bytes being written", i)
		}
	}
	if want := 17*(len(msg)+14) - 1000; c.Pending() != want {
		t.Fatalf("Pending %d, want %d", c.Pending(), want)
	}
	total := 0
	for len(c.Output()) > 0 {
		total += c.Advance(len(c.Output()))
	}
	if total != 17*len(msg)-(1000-14) { // the first 1000 bytes: a 14-byte header, then payload
		t.Fatalf("Advance reported %d payload bytes", total)
	}
	if c.BufferedPayload() != 0 || c.Pending() != 0 {
		t.Fatalf("after the drain: BufferedPayload %d, Pending %d", c.BufferedPayload(), c.Pending())
	}
}

// Output that carried only control frames gives its buffer back once
// written, so an idle connection that pings keeps none; output that
// carried a message keeps its small buffer for the next.
func TestControlOnlyOutputKeepsNoBuffer(t *testing.T) {
	c := NewConn(Config{})
	c.WritePing([]byte("12345678"))
	c.Advance(len(c.Output()))
	if c.out != nil {
		t.Errorf("a ping's buffer kept (cap %d)", cap(c.out))
	}
	c.WriteText("hello")
	c.WritePing(nil)
	c.Advance(len(c.Output()))
	if c.out == nil {
		t.Error("a message's small buffer not kept")
	}
	c.WritePong(nil)
	c.Advance(len(c.Output()))
	if c.out != nil {
		t.Error("a pong's buffer kept after the message's was drained")
	}
}
