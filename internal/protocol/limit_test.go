package protocol

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wsloop/websocket/internal/bufpool"
)

func TestSizeLimitHeaderOnly(t *testing.T) {
	const limit = 100
	// The header announcing limit+1 bytes fails the connection before any
	// payload arrives, and nothing is buffered.
	for _, n := range []int{limit + 1, 70000, 1 << 40} {
		c := NewConn(Config{MaxMessageSize: limit})
		_, err := feedAll(c, hdr(0x82, n))
		checkFailed(t, c, err, 1009)
	}
	// Exactly the limit is fine.
	c := NewConn(Config{MaxMessageSize: limit})
	evs, err := feedAll(c, binFrame(make([]byte, limit)))
	if err != nil || len(evs) != 1 {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
}

func TestSizeLimitAcrossFragments(t *testing.T) {
	const limit = 100
	c := NewConn(Config{MaxMessageSize: limit})
	_, err := feed(c,
		frame(false, ws.OpText, bytes.Repeat([]byte{'a'}, 60)),
		frame(false, ws.OpContinuation, bytes.Repeat([]byte{'b'}, 30)),
		pingFrame("control frames do not count"),
		hdr(0x80, 11), // 60+30+11 > 100: fails at the header
	)
	checkFailed(t, c, err, 1009)

	c = NewConn(Config{MaxMessageSize: limit})
	evs, err := feed(c,
		frame(false, ws.OpText, bytes.Repeat([]byte{'a'}, 60)),
		frame(true, ws.OpContinuation, bytes.Repeat([]byte{'b'}, 40)),
		textFrame(string(bytes.Repeat([]byte{'c'}, 100))), // a new message starts from zero
	)
	if err != nil || len(evs) != 2 || len(evs[0].Data) != 100 {
		t.Fatalf("%v %v", eventsString(evs), err)
	}
}

func TestSizeLimitDefault(t *testing.T) {
	for _, m := range []int64{0, -1} {
		c := NewConn(Config{MaxMessageSize: m})
		if c.maxSize != DefaultMaxMessageSize {
			t.Fatalf("MaxMessageSize %d resolves to %d", m, c.maxSize)
		}
		if _, err := feedAll(c, hdr(0x82, DefaultMaxMessageSize)); err != nil {
			t.Fatal(err)
		}
		c = NewConn(Config{MaxMessageSize: m})
		_, err := feedAll(c, hdr(0x82, DefaultMaxMessageSize+1))
		checkFailed(t, c, err, 1009)
	}
}

func TestLargeFrameBufferGrowth(t *testing.T) {
	// A large final frame fed in pieces ends up in a buffer of its size
	// class, and announcing it does not allocate all of it up front.
	const n = 3 << 20
	c := NewConn(Config{})
	payload := bytes.Repeat([]byte{7}, n)
	in := binFrame(payload)
	if _, err := feedAll(c, in[:20]); err != nil {
		t.Fatal(err)
	}
	if cap(c.msg) > eagerReserve {
		t.Fatalf("reserved %d bytes on announcement", cap(c.msg))
	}
	var evs []Event
	for q := in[20:]; len(q) > 0; {
		k := min(len(q), 64<<10)
		e, err := feedAll(c, q[:k])
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e...)
		q = q[k:]
	}
	if len(evs) != 1 || !bytes.Equal(evs[0].Data, payload) || cap(evs[0].Data) != bufpool.Cap(n) {
		t.Fatalf("got %d events, cap %d", len(evs), cap(evs[0].Data))
	}
	// A small one gets its whole buffer at once.
	c = NewConn(Config{})
	in = binFrame(bytes.Repeat([]byte{1}, 1000))
	feedAll(c, in[:10])
	if cap(c.msg) != bufpool.Cap(1000) {
		t.Fatalf("reserved %d", cap(c.msg))
	}
}
