package protocol

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/gobwas/ws"
	kflate "github.com/klauspost/compress/flate"
)

// wordSource makes text of random words from a small vocabulary (2 to 9
// hex digits each), which deflate compresses by back-references to the
// words' earlier copies: how far back those reach is what these tests
// measure.
type wordSource struct {
	rng        *rand.ChaCha8
	vocabulary [32]string
}

func newWordSource(seed byte) *wordSource {
	s := &wordSource{rng: rand.NewChaCha8([32]byte{seed})}
	for i := range s.vocabulary {
		w := make([]byte, 2+i%8)
		for j := range w {
			w[j] = "0123456789abcdef"[s.rng.Uint64()&15]
		}
		s.vocabulary[i] = string(w) + " "
	}
	return s
}

// words returns n bytes of random words.
func (s *wordSource) words(n int) []byte {
	var p []byte
	for len(p) < n {
		p = append(p, s.vocabulary[s.rng.Uint64()%32]...)
	}
	return p[:n]
}

// Under a window of 2^bits, a Conn refers back no further, at either end
// (each by its own setting, the other end's set to the other extreme): a
// block repeated 1.2 windows after it began is compressed again from
// scratch, while with a window twice as large it is a back-reference.
func TestCompressWindow(t *testing.T) {
	for _, role := range roles {
		testCompressWindow(t, role.server)
	}
}

func testCompressWindow(t *testing.T, server bool) {
	compressed := func(bits int, p []byte) int {
		t.Helper()
		other := 15
		if bits == 15 {
			other = 8
		}
		c := NewConn(Config{Server: server, Deflate: roleDeflate(server, other, false, bits)})
		c.WriteMessage(true, p)
		frames, err := decodeFrames(allOutput(c), !server)
		if err != nil || len(frames) != 1 || frames[0].rsv != 4 {
			t.Fatalf("server %v, bits %d: %d frames (%v), want one compressed", server, bits, len(frames), err)
		}
		r := NewConn(Config{Server: !server, Deflate: roleDeflate(!server, bits, false, 15)})
		f := wireFor(!server, compressedFrame(ws.OpBinary, frames[0].payload))
		if evs, err := feedAll(r, f); err != nil || len(evs) != 1 || !bytes.Equal(evs[0].Data, p) {
			t.Fatalf("server %v, bits %d: inflating our own frame: %v", server, bits, err)
		}
		return len(frames[0].payload)
	}
	src := newWordSource(9)
	// a, then b, then a again 1.2 windows after the first began: with
	// the copy referred to, the whole costs what a and b do; without, a
	// costs again (about two thirds more).
	for bits := 8; bits <= 15; bits++ {
		w := 1 << bits
		ab := append(src.words(w*8/10), src.words(w*4/10)...)
		aba := append(ab[:len(ab):len(ab)], ab[:w*8/10]...)
		if got, base := compressed(bits, aba), compressed(bits, ab); got*4 < base*5 {
			t.Errorf("server %v, bits %d: %d bytes compressed to %d, and without the copy %d to %d; the copy 1.2 windows back was referred to", server, bits, len(aba), got, len(ab), base)
		}
		if bits < 15 {
			if got, base := compressed(bits+1, aba), compressed(bits+1, ab); got*10 > base*12 {
				t.Errorf("server %v, bits %d: %d bytes compressed to %d, and without the copy %d to %d; want the copy referred to", server, bits+1, len(aba), got, len(ab), base)
			}
		}
	}
}

// peerCompressor compresses messages as a peer with a window of 2^bits
// does: with context takeover one stream over the connection, each
// message flushed and its trailing empty block stripped (RFC 7692 7.2.1);
// without, each message on its own.
type peerCompressor struct {
	buf      bytes.Buffer
	w        *kflate.Writer
	takeover bool
}

func newPeerCompressor(t *testing.T, bits int, takeover bool) *peerCompressor {
	z := &peerCompressor{takeover: takeover}
	var err error
	if z.w, err = kflate.NewWriterWindow(&z.buf, 1<<bits); err != nil {
		t.Fatal(err)
	}
	return z
}

func (z *peerCompressor) compress(p []byte) []byte {
	if !z.takeover {
		z.w.Reset(&z.buf)
	}
	z.buf.Reset()
	z.w.Write(p)
	z.w.Flush()
	return bytes.Clone(bytes.TrimSuffix(z.buf.Bytes(), []byte{0, 0, 0xff, 0xff}))
}

// Each end inflates its peer's messages by the peer's window, for every
// size from 8 to 15 bits: with context takeover, a message refers back
// into the ones before, up to the window, and the Conn keeps that much of
// them (512 bytes for 8 bits), no more; without, it keeps none, and holds
// the shared idle state between messages. Each message begins with the
// last half window of the one before, so that a peer with context refers
// to it; one is split over three frames; the input comes in uneven chunks.
func TestInflateWindows(t *testing.T) {
	for _, role := range roles {
		for bits := 8; bits <= 15; bits++ {
			for _, takeover := range []bool{true, false} {
				testInflateWindow(t, role.server, bits, takeover)
			}
		}
	}
}

func testInflateWindow(t *testing.T, server bool, bits int, takeover bool) {
	w := 1 << bits
	keep := 1 << max(bits, 9)
	src := newWordSource(byte(bits))
	z := newPeerCompressor(t, bits, takeover)
	var msgs [][]byte
	var in []byte
	prev := src.words(w)
	for i := range 6 {
		m := append(bytes.Clone(prev[len(prev)-w/2:]), src.words(w/2+i*w/4)...)
		msgs = append(msgs, m)
		prev = m
		zm := z.compress(m)
		if i == 3 { // three frames, RSV1 on the first
			first := frame(false, ws.OpText, zm[:len(zm)/3])
			first[0] |= bitRsv1
			in = append(in, cat(first, frame(false, ws.OpContinuation, zm[len(zm)/3:len(zm)/2]),
				frame(true, ws.OpContinuation, zm[len(zm)/2:]))...)
			continue
		}
		in = append(in, compressedFrame(ws.OpText, zm)...)
	}
	in = wireFor(server, in)
	d := roleDeflate(server, bits, takeover, 15)
	c := NewConn(Config{Server: server, Deflate: d})
	var got [][]byte
	for i, step := 0, 1; i < len(in); i, step = i+step, step*3%1021+1 {
		evs, err := feedFast(c, in[i:min(i+step, len(in))])
		if err != nil {
			t.Fatalf("server %v, bits %d, takeover %v: %v", server, bits, takeover, err)
		}
		for _, e := range evs {
			got = append(got, e.Data)
			if takeover && (len(c.z.window) > keep || cap(c.z.window) > keep) {
				t.Fatalf("server %v, bits %d: a window of %d bytes kept (cap %d), want %d at most", server, bits, len(c.z.window), cap(c.z.window), keep)
			}
			if !takeover && c.z.window != nil {
				t.Fatalf("server %v, bits %d: a window kept without context takeover", server, bits)
			}
		}
	}
	if !takeover && c.z != d.idle {
		t.Fatalf("server %v, bits %d: own state kept after the messages without context takeover", server, bits)
	}
	if len(got) != len(msgs) {
		t.Fatalf("server %v, bits %d, takeover %v: %d messages, want %d", server, bits, takeover, len(got), len(msgs))
	}
	for i := range msgs {
		if !bytes.Equal(got[i], msgs[i]) {
			t.Fatalf("server %v, bits %d, takeover %v: message %d differs", server, bits, takeover, i)
		}
	}
	if takeover {
		// The messages do refer back: a Conn that kept no window fails.
		evs, err := feed(NewConn(Config{Server: server, Deflate: roleDeflate(server, bits, false, 15)}), in)
		if err == nil && len(evs) == len(msgs) {
			t.Fatalf("server %v, bits %d: the messages inflate without the window; the test proves nothing", server, bits)
		}
	}
}
