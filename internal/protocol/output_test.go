package protocol

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/gobwas/ws"
)

// payloadMap marks which bytes of out, a server's or a client's, are
// message payload.
func payloadMap(t *testing.T, server bool, out []byte) []bool {
	t.Helper()
	m := make([]bool, 0, len(out))
	frames, err := decodeFrames(out, !server)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		h := frameHeaderSize(len(f.payload), !server)
		for range h {
			m = append(m, false)
		}
		for range f.payload {
			m = append(m, f.op.IsData())
		}
	}
	return m
}

// Advance counts exactly the message payload that the bytes written
// complete, however the output is cut, at both ends (whose headers
// differ), with fragments, and with more queued meanwhile.
func TestAdvanceExactPayload(t *testing.T) {
	for _, role := range roles {
		testAdvanceExactPayload(t, role.server)
	}
}

func testAdvanceExactPayload(t *testing.T, server bool) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		c := NewConn(Config{Server: server})
		var mp []bool
		written := 0
		queued := 0
		queue := func() {
			before := len(allOutput(c))
			switch r.IntN(6) {
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
			case 4:
				for i := range 3 {
					n := r.IntN(200)
					c.WriteFragment(true, make([]byte, n), i == 2)
					queued += n
				}
			default:
				c.WriteMessage(false, nil)
			}
			out := allOutput(c)
			if len(out) != c.Pending() {
				t.Fatalf("Pending %d, %d bytes queued", c.Pending(), len(out))
			}
			mp = append(mp, payloadMap(t, server, out[before:])...)
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
				t.Fatalf("server %v, round %d: Advance(%d) = %d, want %d", server, round, n, got, want)
			}
			written += n
			queued -= want
			if c.BufferedPayload() != queued {
				t.Fatalf("server %v: BufferedPayload %d, want %d", server, c.BufferedPayload(), queued)
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

// Written a byte at a time, each payload byte counts as it goes, at both
// ends: BufferedPayload falls by one at each, and not at a header's.
func TestAdvanceByteByByte(t *testing.T) {
	for _, role := range roles {
		c := NewConn(Config{Server: role.server})
		c.WriteText("abc")
		c.WritePing([]byte("zz"))
		c.WriteMessage(true, make([]byte, 200))
		c.WriteFragment(false, make([]byte, 70000), true)
		want := 70203
		total, calls := 0, 0
		for len(c.Output()) > 0 {
			n := c.Advance(1)
			total += n
			want -= n
			calls++
			if c.BufferedPayload() != want || n > 1 {
				t.Fatalf("%s: byte %d counted %d, BufferedPayload %d, want %d", role.name, calls, n, c.BufferedPayload(), want)
			}
		}
		key := 4 // a client's headers carry a masking key
		if role.server {
			key = 0
		}
		if total != 70203 || calls != (2+key+3)+(2+key+2)+(4+key+200)+(10+key+70000) {
			t.Fatalf("%s: total %d over %d calls", role.name, total, calls)
		}
	}
}

// At both ends, a large buffer is given back once drained, a small one
// kept.
func TestOutputRelease(t *testing.T) {
	for _, role := range roles {
		testOutputRelease(t, role.server)
	}
}

func testOutputRelease(t *testing.T, server bool) {
	c := NewConn(Config{Server: server})
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
	// A connection that never fully drains must not grow without bound,
	// at either end.
	for _, role := range roles {
		c := NewConn(Config{Server: role.server})
		for range 10000 {
			c.WriteMessage(true, make([]byte, 50))
			c.Advance(len(c.Output()) - 10)
		}
		if cap(c.out) > 4*minOutput {
			t.Fatalf("%s: buffer grew to %d", role.name, cap(c.out))
		}
		if len(c.Output()) != 10 {
			t.Fatalf("%s: %d bytes pending", role.name, len(c.Output()))
		}
		c.Advance(len(c.Output()))
		if c.BufferedPayload() != 0 {
			t.Fatalf("%s: BufferedPayload %d", role.name, c.BufferedPayload())
		}
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
// written, so an idle connection that pings keeps none; so does the first
// message after a quiet spell, so a socket that sends now and then keeps
// none either. Output that carried a message after another drained one
// keeps its small buffer for the next.
func TestControlOnlyOutputKeepsNoBuffer(t *testing.T) {
	for _, role := range roles {
		c := NewConn(Config{Server: role.server})
		c.WritePing([]byte("12345678"))
		c.Advance(len(c.Output()))
		if c.out != nil {
			t.Errorf("%s: a ping's buffer kept (cap %d)", role.name, cap(c.out))
		}
		c.WriteText("hello")
		c.Advance(len(c.Output()))
		if c.out != nil {
			t.Errorf("%s: a lone message's buffer kept (cap %d)", role.name, cap(c.out))
		}
		c.WriteText("hello")
		c.WritePing(nil)
		c.Advance(len(c.Output()))
		if c.out == nil {
			t.Errorf("%s: the small buffer of a second message in a row not kept", role.name)
		}
		c.WritePong(nil)
		c.Advance(len(c.Output()))
		if c.out != nil {
			t.Errorf("%s: a pong's buffer kept after the message's was drained", role.name)
		}
	}
}
