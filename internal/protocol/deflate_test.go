package protocol

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// serverDeflater compresses messages as a server does: one flate stream
// over the connection (context takeover), each message flushed and its
// trailing empty block stripped (RFC 7692 7.2.1).
type serverDeflater struct {
	buf bytes.Buffer
	w   *flate.Writer
}

func newServerDeflater() *serverDeflater {
	d := &serverDeflater{}
	d.w, _ = flate.NewWriter(&d.buf, flate.BestSpeed)
	return d
}

func (d *serverDeflater) compress(p []byte, takeover bool) []byte {
	if !takeover {
		d.w.Reset(&d.buf)
	}
	d.buf.Reset()
	d.w.Write(p)
	d.w.Flush()
	return bytes.TrimSuffix(d.buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// compressedFrame is a final data frame with RSV1 set.
func compressedFrame(op ws.OpCode, payload []byte) []byte {
	f := frame(true, op, payload)
	f[0] |= bitRsv1
	return f
}

// Compressed messages are inflated, text checked as UTF-8 once inflated,
// and with context takeover a message may refer back to the ones before;
// without it, it may not need to.
func TestInflate(t *testing.T) {
	for _, takeover := range []bool{true, false} {
		c := NewConn(Config{Deflate: &Deflate{ServerNoContextTakeover: !takeover}})
		d := newServerDeflater()
		msgs := []string{"hello hello hello hello", "hello hello hello hello, again", "héllo wörld"}
		var in []byte
		for _, m := range msgs {
			in = append(in, compressedFrame(ws.OpText, d.compress([]byte(m), takeover))...)
		}
		in = append(in, textFrame("plain")...)
		evs, err := feedAll(c, in)
		if err != nil {
			t.Fatal(err)
		}
		want := append(msgs, "plain")
		if len(evs) != len(want) {
			t.Fatalf("takeover %v: %v", takeover, eventsString(evs))
		}
		for i, e := range evs {
			if string(e.Data) != want[i] {
				t.Errorf("takeover %v: message %d %q, want %q", takeover, i, e.Data, want[i])
			}
		}
	}
}

// A compressed message split over frames and reads inflates whole.
func TestInflateFragmented(t *testing.T) {
	c := NewConn(Config{Deflate: &Deflate{}})
	msg := bytes.Repeat([]byte("fragmented and compressed "), 1000)
	z := newServerDeflater().compress(msg, true)
	first := frame(false, ws.OpBinary, z[:10])
	first[0] |= bitRsv1
	in := cat(first, pingFrame("p"), frame(false, ws.OpContinuation, z[10:20]), frame(true, ws.OpContinuation, z[20:]))
	var evs []Event
	for i := 0; i < len(in); i += 7 {
		e, err := feed(c, in[i:min(i+7, len(in))])
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e...)
	}
	if len(evs) != 2 || evs[0].Kind != KindPing || !bytes.Equal(evs[1].Data, msg) {
		t.Fatalf("%v", eventsString(evs))
	}
}

// RSV1 is for the first frame of a message, with the extension.
func TestRsv1Rules(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		in   []byte
	}{
		{"without the extension", Config{}, compressedFrame(ws.OpText, []byte{0x03, 0x00})},
		{"on a control frame", Config{Deflate: &Deflate{}}, func() []byte { f := pingFrame("x"); f[0] |= bitRsv1; return f }()},
		{"on a continuation", Config{Deflate: &Deflate{}}, cat(frame(false, ws.OpText, []byte("a")), compressedFrame(ws.OpContinuation, []byte("b")))},
		{"RSV2 with the extension", Config{Deflate: &Deflate{}}, func() []byte { f := textFrame("x"); f[0] |= 0x20; return f }()},
	} {
		c := NewConn(tt.cfg)
		_, err := feedAll(c, tt.in)
		if e, ok := err.(*Error); !ok || e.Code != 1002 {
			t.Errorf("%s: %v, want a 1002", tt.name, err)
		}
	}
}

// Data that is not deflate fails with 1002 (as in Chromium); inflated text that is not
// UTF-8 too.
func TestInflateInvalid(t *testing.T) {
	c := NewConn(Config{Deflate: &Deflate{}})
	_, err := feedAll(c, compressedFrame(ws.OpBinary, []byte{0xff, 0xff, 0xff}))
	checkFailed(t, c, err, 1002)
	c = NewConn(Config{Deflate: &Deflate{}})
	_, err = feedAll(c, compressedFrame(ws.OpText, newServerDeflater().compress([]byte{'a', 0xff}, true)))
	checkFailed(t, c, err, 1007)
}

// A small frame that inflates past MaxMessageSize fails with 1009 as soon
// as the output passes it: the memory taken stays near the limit, not the
// bomb's size.
func TestInflateBomb(t *testing.T) {
	const limit = 1 << 20
	bomb := newServerDeflater().compress(make([]byte, 64<<20), true) // 64 MiB of zeros
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	c := NewConn(Config{MaxMessageSize: limit, Deflate: &Deflate{}})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := feedAll(c, compressedFrame(ws.OpBinary, bomb))
	runtime.ReadMemStats(&after)
	checkFailed(t, c, err, 1009)
	if got := after.TotalAlloc - before.TotalAlloc; got > 8*limit {
		t.Errorf("inflating the bomb allocated %d bytes; the limit is %d", got, limit)
	}
}

// The window kept for context takeover is the peer's window, no more
// (but 512 bytes for 8 bits, which zlib uses then), and holds the end of
// its output; none is kept when the peer forgoes context takeover, and the
// peer is the server for a client-role Conn, the client for a server-role
// one.
func TestKeepWindow(t *testing.T) {
	d := &deflateState{cfg: (&Deflate{}).idleState().cfg}
	r := rand.New(rand.NewPCG(3, 4))
	var all []byte
	for range 50 {
		out := make([]byte, r.IntN(600))
		for i := range out {
			out[i] = byte(r.IntN(256))
		}
		all = append(all, out...)
		d.keepWindow(out, 8)
		want := all[max(0, len(all)-512):]
		if !bytes.Equal(d.window, want) || cap(d.window) > 512 {
			t.Fatalf("window %d bytes (cap %d), want the last %d", len(d.window), cap(d.window), len(want))
		}
	}
	msg := bytes.Repeat([]byte("window "), 200) // 1400 bytes
	z := newServerDeflater().compress(msg, false)
	for _, tc := range []struct {
		server bool
		cfg    *Deflate
		keep   int
	}{
		{false, &Deflate{ServerMaxWindowBits: 10, ClientMaxWindowBits: 9}, 1024},
		{true, &Deflate{ServerMaxWindowBits: 10, ClientMaxWindowBits: 9}, 512},
		{false, &Deflate{ServerNoContextTakeover: true}, 0},
		{false, &Deflate{ClientNoContextTakeover: true}, len(msg)},
		{true, &Deflate{ClientNoContextTakeover: true}, 0},
		{true, &Deflate{ServerNoContextTakeover: true}, len(msg)},
	} {
		d := &deflateState{cfg: tc.cfg.idleState().cfg}
		out, e := d.inflate(z, 1<<20, tc.server)
		if e != nil || !bytes.Equal(out, msg) {
			t.Fatalf("server %v: inflated %d bytes, %v", tc.server, len(out), e)
		}
		if !bytes.Equal(d.window, msg[len(msg)-tc.keep:]) {
			t.Errorf("server %v, takeover off server %v client %v: window of %d bytes, want %d", tc.server, tc.cfg.ServerNoContextTakeover, tc.cfg.ClientNoContextTakeover, len(d.window), tc.keep)
		}
	}
}

// Messages at or over the threshold go compressed (RSV1, smaller, and
// inflating to the message), smaller ones and incompressible ones plain;
// BufferedPayload counts message bytes, a compressed message's whole once
// its frame is written.
func TestCompress(t *testing.T) {
	for _, bits := range []int{15, 8} {
		c := NewConn(Config{Deflate: &Deflate{Threshold: 64, ClientMaxWindowBits: bits}})
		text := strings.Repeat("compress me, compress me ", 40) // 1000 bytes
		noise := make([]byte, 1000)
		rand.NewChaCha8([32]byte{5}).Read(noise)
		c.WriteText(text)
		c.WriteText("short")
		c.WriteMessage(true, noise)
		if got := c.BufferedPayload(); got != 2005 {
			t.Fatalf("bits %d: BufferedPayload %d, want 2005", bits, got)
		}
		out := allOutput(c)
		frames, err := decodeClientFrames(out)
		if err != nil || len(frames) != 3 {
			t.Fatalf("bits %d: %d frames, %v", bits, len(frames), err)
		}
		if frames[0].rsv != 4 || len(frames[0].payload) >= 500 || frames[1].rsv != 0 || frames[2].rsv != 0 {
			t.Fatalf("bits %d: rsv %d %d %d, first payload %d bytes", bits, frames[0].rsv, frames[1].rsv, frames[2].rsv, len(frames[0].payload))
		}
		r := NewConn(Config{Deflate: &Deflate{ServerNoContextTakeover: true}})
		f := frame(true, ws.OpText, frames[0].payload)
		f[0] |= bitRsv1
		evs, err := feedAll(r, f)
		if err != nil || len(evs) != 1 || string(evs[0].Data) != text {
			t.Fatalf("bits %d: inflating our own frame: %v %v", bits, eventsString(evs), err)
		}
		// Written a byte at a time: nothing counted until the compressed
		// frame's last byte, then all 1000.
		first := len(out) - len(frames[1].payload) - 6 - len(frames[2].payload) - 8
		for i := 0; i < first-1; i++ {
			c.Advance(1)
		}
		if got := c.BufferedPayload(); got != 2005 {
			t.Fatalf("bits %d: BufferedPayload %d before the frame's last byte", bits, got)
		}
		c.Advance(1)
		if got := c.BufferedPayload(); got != 1005 {
			t.Fatalf("bits %d: BufferedPayload %d after the compressed frame", bits, got)
		}
	}
}

// A compressed message carried over a reconnect goes again uncompressed:
// the next connection may not have negotiated the extension.
func TestCarryOverCompressed(t *testing.T) {
	c := NewConn(Config{Deflate: &Deflate{}})
	text := strings.Repeat("carried ", 100)
	c.WriteText(text)
	c.WriteText(text)
	c.Advance(3)
	next := NewConn(Config{})
	carried, lost, _ := c.CarryOver(next)
	if carried != 1600 || lost != 0 || next.BufferedPayload() != 1600 {
		t.Fatalf("carried %d lost %d buffered %d", carried, lost, next.BufferedPayload())
	}
	frames := mustDecode(t, allOutput(next))
	if len(frames) != 2 || string(frames[0].payload) != text || string(frames[1].payload) != text {
		t.Fatalf("next holds %d frames", len(frames))
	}
}

// Between messages a connection holds the shared idle state: its own is
// made for a compressed message and given up once nothing is left in it;
// with context takeover it keeps its own, for the window.
func TestDeflateStateIsSharedWhenIdle(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		cfg := &Deflate{ServerNoContextTakeover: !takeover}
		a, b := NewConn(Config{Deflate: cfg}), NewConn(Config{Deflate: cfg})
		if a.z != b.z || a.z != cfg.idle {
			t.Fatal("two idle connections do not share their state")
		}
		feedAll(a, compressedFrame(ws.OpText, newServerDeflater().compress([]byte("hello hello hello"), true)))
		if (a.z != cfg.idle) != takeover {
			t.Errorf("takeover %v: after a compressed message, own state %v", takeover, a.z != cfg.idle)
		}
		a.WriteText(strings.Repeat("x", 500))
		if a.z == cfg.idle {
			t.Error("a queued compressed message kept in the shared state")
		}
		for len(a.Output()) > 0 {
			a.Advance(len(a.Output()))
		}
		if (a.z != cfg.idle) != takeover || b.z != cfg.idle || len(cfg.idle.zlens) != 0 || cfg.idle.window != nil {
			t.Errorf("takeover %v: once written, own state %v", takeover, a.z != cfg.idle)
		}
	}
}

// FuzzInflate feeds compressed conversations, whole and in pieces, with
// and without the server's context takeover: the two must agree, and what
// comes out must be valid (text UTF-8, sizes within the limit, failures
// 1002, 1007 or 1009).
func FuzzInflate(f *testing.F) {
	z := newServerDeflater()
	seed := cat(compressedFrame(ws.OpText, z.compress([]byte("hello hello hello"), true)),
		compressedFrame(ws.OpBinary, z.compress(bytes.Repeat([]byte{7}, 300), true)),
		pingFrame("p"), textFrame("plain"))
	f.Add([]byte{3}, uint16(0), false, seed)
	f.Add([]byte{1, 9}, uint16(200), true, seed)
	f.Add([]byte{2}, uint16(0), false, compressedFrame(ws.OpText, []byte{0xff, 0x00}))
	f.Fuzz(func(t *testing.T, cuts []byte, limit uint16, noTakeover bool, data []byte) {
		cfg := func() Config {
			return Config{MaxMessageSize: int64(limit), Deflate: &Deflate{ServerNoContextTakeover: noTakeover}}
		}
		wantEvs, wantErr := feed(NewConn(cfg()), data)
		var chunks [][]byte
		for i, q := 0, data; len(q) > 0; i++ {
			n := 1
			if len(cuts) > 0 {
				n = max(1, int(cuts[i%len(cuts)]))
			}
			n = min(n, len(q))
			chunks = append(chunks, q[:n])
			q = q[n:]
		}
		gotEvs, gotErr := feed(NewConn(cfg()), chunks...)
		if !slices.Equal(eventsString(gotEvs), eventsString(wantEvs)) {
			t.Fatalf("events differ:\nchunked %q\nwhole   %q", eventsString(gotEvs), eventsString(wantEvs))
		}
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("errors differ: chunked %v, whole %v", gotErr, wantErr)
		}
		if e, ok := wantErr.(*Error); wantErr != nil && (!ok || e.Code != 1002 && e.Code != 1007 && e.Code != 1009) {
			t.Fatalf("failure %v", wantErr)
		}
		for _, e := range wantEvs {
			if e.Kind != KindMessage {
				continue
			}
			if !e.Binary && !utf8.Valid(e.Data) {
				t.Fatalf("invalid UTF-8 text delivered: %q", e.Data)
			}
			if limit != 0 && len(e.Data) > int(limit) {
				t.Fatalf("%d-byte message passed a %d-byte limit", len(e.Data), limit)
			}
		}
	})
}

// Under a window of 2^bits, the client refers back no further: a block
// repeated 1.2 windows after it began is compressed again from scratch,
// while with a window twice as large it is a back-reference.
func TestCompressWindow(t *testing.T) {
	compressed := func(bits int, p []byte) int {
		t.Helper()
		c := NewConn(Config{Deflate: &Deflate{ClientMaxWindowBits: bits}})
		c.WriteMessage(true, p)
		frames, err := decodeClientFrames(allOutput(c))
		if err != nil || len(frames) != 1 || frames[0].rsv != 4 {
			t.Fatalf("bits %d: %d frames (%v), want one compressed", bits, len(frames), err)
		}
		r := NewConn(Config{Deflate: &Deflate{ServerNoContextTakeover: true}})
		f := frame(true, ws.OpBinary, frames[0].payload)
		f[0] |= bitRsv1
		if evs, err := feedAll(r, f); err != nil || len(evs) != 1 || !bytes.Equal(evs[0].Data, p) {
			t.Fatalf("bits %d: inflating our own frame: %v", bits, err)
		}
		return len(frames[0].payload)
	}
	rng := rand.NewChaCha8([32]byte{9})
	var vocabulary [32]string // words of 2 to 9 hex digits
	for i := range vocabulary {
		w := make([]byte, 2+i%8)
		for j := range w {
			w[j] = "0123456789abcdef"[rng.Uint64()&15]
		}
		vocabulary[i] = string(w) + " "
	}
	words := func(n int) []byte { // n bytes of random words
		var p []byte
		for len(p) < n {
			p = append(p, vocabulary[rng.Uint64()%32]...)
		}
		return p[:n]
	}
	// a, then b, then a again 1.2 windows after the first began: with
	// the copy referred to, the whole costs what a and b do; without, a
	// costs again (about two thirds more).
	for bits := 8; bits <= 15; bits++ {
		w := 1 << bits
		ab := append(words(w*8/10), words(w*4/10)...)
		aba := append(ab[:len(ab):len(ab)], ab[:w*8/10]...)
		if got, base := compressed(bits, aba), compressed(bits, ab); got*4 < base*5 {
			t.Errorf("bits %d: %d bytes compressed to %d, and without the copy %d to %d; the copy 1.2 windows back was referred to", bits, len(aba), got, len(ab), base)
		}
		if bits < 15 {
			if got, base := compressed(bits+1, aba), compressed(bits+1, ab); got*10 > base*12 {
				t.Errorf("bits %d: %d bytes compressed to %d, and without the copy %d to %d; want the copy referred to", bits+1, len(aba), got, len(ab), base)
			}
		}
	}
}
