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

// roleDeflate is a Deflate under which a Conn in the given role inflates
// its peer's messages by a window of 2^peerBits, kept between messages
// when peerTakeover, and compresses its own within 2^ownBits. The
// settings that do not govern the role are set the other way, so that a
// Conn that read the wrong ones shows it.
func roleDeflate(server bool, peerBits int, peerTakeover bool, ownBits int) *Deflate {
	if server {
		return &Deflate{ClientMaxWindowBits: peerBits, ClientNoContextTakeover: !peerTakeover,
			ServerMaxWindowBits: ownBits, ServerNoContextTakeover: peerTakeover}
	}
	return &Deflate{ServerMaxWindowBits: peerBits, ServerNoContextTakeover: !peerTakeover,
		ClientMaxWindowBits: ownBits, ClientNoContextTakeover: peerTakeover}
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

// A compressed message split over frames and reads inflates whole, at
// both ends.
func TestInflateFragmented(t *testing.T) {
	msg := bytes.Repeat([]byte("fragmented and compressed "), 1000)
	z := newServerDeflater().compress(msg, true)
	first := frame(false, ws.OpBinary, z[:10])
	first[0] |= bitRsv1
	for _, role := range roles {
		c := NewConn(Config{Server: role.server, Deflate: &Deflate{}})
		in := wireFor(role.server, cat(first, pingFrame("p"), frame(false, ws.OpContinuation, z[10:20]), frame(true, ws.OpContinuation, z[20:])))
		var evs []Event
		for i := 0; i < len(in); i += 7 {
			e, err := feed(c, in[i:min(i+7, len(in))])
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e...)
		}
		if len(evs) != 2 || evs[0].Kind != KindPing || !bytes.Equal(evs[1].Data, msg) {
			t.Fatalf("%s: %v", role.name, eventsString(evs))
		}
	}
}

// RSV1 is for the first frame of a message, with the extension, at both
// ends.
func TestRsv1Rules(t *testing.T) {
	for _, tt := range []struct {
		name    string
		deflate bool
		in      []byte
	}{
		{"without the extension", false, compressedFrame(ws.OpText, []byte{0x03, 0x00})},
		{"on a control frame", true, func() []byte { f := pingFrame("x"); f[0] |= bitRsv1; return f }()},
		{"on a continuation", true, cat(frame(false, ws.OpText, []byte("a")), compressedFrame(ws.OpContinuation, []byte("b")))},
		{"RSV2 with the extension", true, func() []byte { f := textFrame("x"); f[0] |= 0x20; return f }()},
	} {
		for _, role := range roles {
			cfg := Config{Server: role.server}
			if tt.deflate {
				cfg.Deflate = &Deflate{}
			}
			c := NewConn(cfg)
			_, err := feedAll(c, wireFor(role.server, tt.in))
			if e, ok := err.(*Error); !ok || e.Code != 1002 {
				t.Errorf("%s, %s: %v, want a 1002", role.name, tt.name, err)
			}
		}
	}
}

// Data that is not deflate fails with 1002 (as in Chromium); inflated text
// that is not UTF-8 with 1007; at both ends.
func TestInflateInvalid(t *testing.T) {
	for _, role := range roles {
		cfg := Config{Server: role.server, Deflate: &Deflate{}}
		c := NewConn(cfg)
		_, err := feedAll(c, wireFor(role.server, compressedFrame(ws.OpBinary, []byte{0xff, 0xff, 0xff})))
		checkFailed(t, c, err, 1002)
		c = NewConn(cfg)
		_, err = feedAll(c, wireFor(role.server, compressedFrame(ws.OpText, newServerDeflater().compress([]byte{'a', 0xff}, true))))
		checkFailed(t, c, err, 1007)
	}
}

// A small frame that inflates past MaxMessageSize fails with 1009 as soon
// as the output passes it, at both ends: the memory taken stays near the
// limit, not the bomb's size.
func TestInflateBomb(t *testing.T) {
	const limit = 1 << 20
	bomb := newServerDeflater().compress(make([]byte, 64<<20), true) // 64 MiB of zeros
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	for _, role := range roles {
		in := wireFor(role.server, compressedFrame(ws.OpBinary, bomb))
		c := NewConn(Config{Server: role.server, MaxMessageSize: limit, Deflate: &Deflate{}})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := feedAll(c, in)
		runtime.ReadMemStats(&after)
		checkFailed(t, c, err, 1009)
		if got := after.TotalAlloc - before.TotalAlloc; got > 8*limit {
			t.Errorf("%s: inflating the bomb allocated %d bytes; the limit is %d", role.name, got, limit)
		}
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
// its frame is written; at both ends.
func TestCompress(t *testing.T) {
	for _, role := range roles {
		for _, bits := range []int{15, 8} {
			testCompress(t, role.server, bits)
		}
	}
}

func testCompress(t *testing.T, server bool, bits int) {
	d := roleDeflate(server, 15, true, bits)
	d.Threshold = 64
	c := NewConn(Config{Server: server, Deflate: d})
	text := strings.Repeat("compress me, compress me ", 40) // 1000 bytes
	noise := make([]byte, 1000)
	rand.NewChaCha8([32]byte{5}).Read(noise)
	c.WriteText(text)
	c.WriteText("short")
	c.WriteMessage(true, noise)
	if got := c.BufferedPayload(); got != 2005 {
		t.Fatalf("server %v, bits %d: BufferedPayload %d, want 2005", server, bits, got)
	}
	out := allOutput(c)
	frames, err := decodeFrames(out, !server)
	if err != nil || len(frames) != 3 {
		t.Fatalf("server %v, bits %d: %d frames, %v", server, bits, len(frames), err)
	}
	if frames[0].rsv != 4 || len(frames[0].payload) >= 500 || frames[1].rsv != 0 || frames[2].rsv != 0 {
		t.Fatalf("server %v, bits %d: rsv %d %d %d, first payload %d bytes", server, bits, frames[0].rsv, frames[1].rsv, frames[2].rsv, len(frames[0].payload))
	}
	r := NewConn(Config{Server: !server, Deflate: roleDeflate(!server, bits, false, 15)})
	evs, err := feedAll(r, wireFor(!server, compressedFrame(ws.OpText, frames[0].payload)))
	if err != nil || len(evs) != 1 || string(evs[0].Data) != text {
		t.Fatalf("server %v, bits %d: inflating our own frame: %v %v", server, bits, eventsString(evs), err)
	}
	// Written a byte at a time: nothing counted until the compressed
	// frame's last byte, then all 1000.
	first := len(out) - frameHeaderSize(5, !server) - 5 - frameHeaderSize(1000, !server) - 1000
	for i := 0; i < first-1; i++ {
		c.Advance(1)
	}
	if got := c.BufferedPayload(); got != 2005 {
		t.Fatalf("server %v, bits %d: BufferedPayload %d before the frame's last byte", server, bits, got)
	}
	c.Advance(1)
	if got := c.BufferedPayload(); got != 1005 {
		t.Fatalf("server %v, bits %d: BufferedPayload %d after the compressed frame", server, bits, got)
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
// with the peer's context takeover it keeps its own, for the window; at
// both ends.
func TestDeflateStateIsSharedWhenIdle(t *testing.T) {
	for _, role := range roles {
		for _, takeover := range []bool{false, true} {
			testDeflateStateIsSharedWhenIdle(t, role.server, takeover)
		}
	}
}

func testDeflateStateIsSharedWhenIdle(t *testing.T, server, takeover bool) {
	cfg := roleDeflate(server, 15, takeover, 15)
	a, b := NewConn(Config{Server: server, Deflate: cfg}), NewConn(Config{Server: server, Deflate: cfg})
	if a.z != b.z || a.z != cfg.idle {
		t.Fatal("two idle connections do not share their state")
	}
	feedAll(a, wireFor(server, compressedFrame(ws.OpText, newServerDeflater().compress([]byte("hello hello hello"), true))))
	if (a.z != cfg.idle) != takeover {
		t.Errorf("server %v, takeover %v: after a compressed message, own state %v", server, takeover, a.z != cfg.idle)
	}
	a.WriteText(strings.Repeat("x", 500))
	if a.z == cfg.idle {
		t.Errorf("server %v: a queued compressed message kept in the shared state", server)
	}
	for len(a.Output()) > 0 {
		a.Advance(len(a.Output()))
	}
	if (a.z != cfg.idle) != takeover || b.z != cfg.idle || len(cfg.idle.zlens) != 0 || cfg.idle.window != nil {
		t.Errorf("server %v, takeover %v: once written, own state %v", server, takeover, a.z != cfg.idle)
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
