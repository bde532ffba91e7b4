package main

// permessage-deflate (RFC 7692) on the paths under /deflate/: the offer is
// parsed with gobwas/ws's wsflate and answered with what the client asked
// for, so that every client's offer is honoured as it stands:
// server_no_context_takeover, client_no_context_takeover and
// server_max_window_bits are confirmed when offered, client_max_window_bits
// is left out of the answer (the client may then use 15 bits, which the
// server reads whatever it offered). The server compresses with
// compress/flate at BestSpeed, every data message it sends on such a
// connection; with a window under 15 bits asked for, with Huffman coding
// alone, which refers to nothing. Compressors and decompressors come from
// pools, but for the one /deflate/echo keeps per connection with its
// context taken over.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// deflatePrefix starts the paths on which the server negotiates
// permessage-deflate: /deflate/echo, /deflate/push, /deflate/idle.
const deflatePrefix = "/deflate/"

// maxMessage bounds a message the server takes whole (compressed or not,
// and once inflated).
const maxMessage = 64 << 20

// zNegotiation is one handshake's answer to the permessage-deflate offer.
type zNegotiation struct {
	ok     bool
	params wsflate.Parameters
}

// negotiate takes the first offer it can parse and answers it with the
// parameters the client asked for (see above).
func (n *zNegotiation) negotiate(opt httphead.Option) (httphead.Option, error) {
	if n.ok || !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
		return httphead.Option{}, nil
	}
	var offer wsflate.Parameters
	if err := offer.Parse(opt); err != nil {
		return httphead.Option{}, nil // not this one; maybe the next offer
	}
	n.params = wsflate.Parameters{
		ServerNoContextTakeover: offer.ServerNoContextTakeover,
		ClientNoContextTakeover: offer.ClientNoContextTakeover,
		ServerMaxWindowBits:     offer.ServerMaxWindowBits,
	}
	n.ok = true
	return n.params.Option(), nil
}

// zconn is a connection's permessage-deflate state.
type zconn struct {
	p wsflate.Parameters
	// keep: with the server's context takeover, keep a compressor for the
	// connection (/deflate/echo, /deflate/push); otherwise only the window
	// of what was sent, which a later message's compressor takes as its
	// dictionary (/deflate/idle, where thousands of connections each send
	// a message or two).
	keep bool
	fw   *flate.Writer // kept compressor; nil until the first message
	swin []byte        // the last 32 KiB the server sent (context takeover, no compressor kept)
	cwin []byte        // the last 32 KiB the client sent (its context takeover)
	out  bytes.Buffer
}

func newZconn(p wsflate.Parameters, keep bool) *zconn { return &zconn{p: p, keep: keep} }

func (z *zconn) huffman() bool {
	return z.p.ServerMaxWindowBits.Defined() && z.p.ServerMaxWindowBits < 15
}

var (
	readerPool  = sync.Pool{New: func() any { return flate.NewReader(nil) }}
	speedPool   = sync.Pool{New: func() any { w, _ := flate.NewWriter(io.Discard, flate.BestSpeed); return w }}
	huffmanPool = sync.Pool{New: func() any { w, _ := flate.NewWriter(io.Discard, flate.HuffmanOnly); return w }}
)

var errTooBig = errors.New("message too big")

// inflate decompresses one of the client's messages into dst[:0].
func (z *zconn) inflate(dst, in []byte) ([]byte, error) {
	var dict []byte
	if !z.p.ClientNoContextTakeover {
		dict = z.cwin
	}
	fr := readerPool.Get().(io.ReadCloser)
	defer readerPool.Put(fr)
	fr.(flate.Resetter).Reset(&tailReader{b: in}, dict)
	out := dst[:0]
	for {
		if len(out) == cap(out) {
			if len(out) > maxMessage {
				return out, errTooBig
			}
			out = append(out, 0)[:len(out)]
		}
		n, err := fr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, fmt.Errorf("inflate: %w", err)
		}
	}
	if !z.p.ClientNoContextTakeover {
		z.cwin = appendWindow(z.cwin, out)
	}
	return out, nil
}

// compress deflates one message as RFC 7692 7.2.1 says (flushed, the
// empty block's 4 bytes cut off). The result is valid until the next call.
func (z *zconn) compress(p []byte) ([]byte, error) {
	z.out.Reset()
	var err error
	switch {
	case z.huffman():
		err = pooled(&huffmanPool, &z.out, p)
	case z.p.ServerNoContextTakeover:
		err = pooled(&speedPool, &z.out, p)
	case z.keep:
		if z.fw == nil {
			z.fw, _ = flate.NewWriter(&z.out, flate.BestSpeed)
		}
		if _, err = z.fw.Write(p); err == nil {
			err = z.fw.Flush()
		}
	case len(z.swin) == 0:
		err = pooled(&speedPool, &z.out, p)
		z.swin = appendWindow(z.swin, p)
	default:
		fw, _ := flate.NewWriterDict(&z.out, flate.BestSpeed, z.swin)
		if _, err = fw.Write(p); err == nil {
			err = fw.Flush()
		}
		z.swin = appendWindow(z.swin, p)
	}
	if err != nil {
		return nil, err
	}
	b := z.out.Bytes()
	if !bytes.HasSuffix(b, flateTail[:4]) {
		return nil, fmt.Errorf("deflate: the flush did not end with 00 00 ff ff")
	}
	return b[:len(b)-4], nil
}

// pooled compresses p with a compressor from pool, starting afresh.
func pooled(pool *sync.Pool, dst io.Writer, p []byte) error {
	fw := pool.Get().(*flate.Writer)
	defer pool.Put(fw)
	fw.Reset(dst)
	_, err := fw.Write(p)
	if err == nil {
		err = fw.Flush()
	}
	fw.Reset(io.Discard)
	return err
}

// appendWindow keeps the last 32 KiB of w then p.
func appendWindow(w, p []byte) []byte {
	const size = 32 << 10
	if len(p) >= size {
		return append(w[:0], p[len(p)-size:]...)
	}
	if over := len(w) + len(p) - size; over > 0 {
		w = w[:copy(w, w[over:])]
	}
	return append(w, p...)
}

// flateTail ends a message for the inflater: the empty stored block the
// sender cut off, then a final empty stored block.
var flateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// tailReader reads b, then flateTail; it is an io.ByteReader, so that
// flate needs no bufio.Reader of its own.
type tailReader struct {
	b    []byte
	tail int
}

func (t *tailReader) Read(p []byte) (int, error) {
	if len(t.b) > 0 {
		n := copy(p, t.b)
		t.b = t.b[n:]
		return n, nil
	}
	if t.tail == len(flateTail) {
		return 0, io.EOF
	}
	n := copy(p, flateTail[t.tail:])
	t.tail += n
	return n, nil
}

func (t *tailReader) ReadByte() (byte, error) {
	if len(t.b) > 0 {
		c := t.b[0]
		t.b = t.b[1:]
		return c, nil
	}
	if t.tail == len(flateTail) {
		return 0, io.EOF
	}
	c := flateTail[t.tail]
	t.tail++
	return c, nil
}

// zecho echoes every data message, whole: a compressed one is inflated,
// and every echo is compressed when the extension was negotiated (z not
// nil), sent plain otherwise.
func zecho(c net.Conn, z *zconn, st *connStats) error {
	br := bufio.NewReaderSize(c, 8<<10)
	bw := bufio.NewWriterSize(c, 8<<10)
	var (
		hb         [ws.MaxHeaderSize - 2]byte
		msg, plain []byte
		op         ws.OpCode
		compressed bool
	)
	for {
		if br.Buffered() == 0 && bw.Buffered() > 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		h, err := ws.ReadHeaderBuffer(br, hb[:2])
		if err != nil {
			return err
		}
		if h.OpCode.IsControl() {
			if h.Rsv != 0 {
				writeClose(c, 1002, "RSV bit on a control frame")
				return nil
			}
			if done, err := control(c, br, bw, h); done || err != nil {
				return err
			}
			continue
		}
		switch {
		case h.OpCode != ws.OpContinuation:
			op, compressed, msg = h.OpCode, h.Rsv1(), msg[:0]
			if compressed && z == nil {
				writeClose(c, 1002, "RSV1 without permessage-deflate")
				return nil
			}
		case h.Rsv1():
			writeClose(c, 1002, "RSV1 on a continuation frame")
			return nil
		}
		if int64(len(msg))+h.Length > maxMessage {
			writeClose(c, 1009, "message too big")
			return nil
		}
		start := len(msg)
		msg = slices.Grow(msg, int(h.Length))[:start+int(h.Length)]
		if _, err := io.ReadFull(br, msg[start:]); err != nil {
			return err
		}
		ws.Cipher(msg[start:], h.Mask, 0)
		if !h.Fin {
			continue
		}
		data := msg
		if compressed {
			if plain, err = z.inflate(plain, msg); err != nil {
				writeClose(c, 1007, "bad deflate data")
				return err
			}
			data = plain
		}
		if st != nil {
			st.inPayload.Add(int64(len(data)))
			st.outPayload.Add(int64(len(data)))
			st.msgs.Add(1)
		}
		out := ws.Header{Fin: true, OpCode: op, Length: int64(len(data))}
		if z != nil {
			zp, err := z.compress(data)
			if err != nil {
				return err
			}
			data = zp
			out.Rsv = ws.Rsv(true, false, false)
			out.Length = int64(len(zp))
		}
		if err := ws.WriteHeader(bw, out); err != nil {
			return err
		}
		if _, err := bw.Write(data); err != nil {
			return err
		}
	}
}

// pushBatches makes what /push writes: first, written once (nil when
// there is none), then steady, again and again, each at least 64 KiB;
// and the payload bytes each holds. msgs are sent in turn. Compressed with
// the server's context takeover, the messages are compressed as one
// stream twice over: the first batch is the first round, the steady one
// the second, repeated. Every reference of the second round reaches back
// only into bytes the compressor had seen, the first round and the
// messages before it in the second, and in every repetition the same
// bytes precede it: so the stream is valid as it repeats, and costs the
// server no compression while it pushes.
func pushBatches(msgs [][]byte, z *zconn) (first, steady []byte, firstPayload, steadyPayload int64, err error) {
	frame := func(dst []byte, p []byte, rsv1 bool) []byte {
		h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(len(p))}
		if rsv1 {
			h.Rsv = ws.Rsv(true, false, false)
		}
		var hb bytes.Buffer
		ws.WriteHeader(&hb, h)
		return append(append(dst, hb.Bytes()...), p...)
	}
	var total int64
	for _, m := range msgs {
		total += int64(len(m))
	}
	var round []byte
	switch {
	case z == nil:
		for _, m := range msgs {
			round = frame(round, m, false)
		}
	case z.huffman() || z.p.ServerNoContextTakeover:
		for _, m := range msgs {
			zp, err := z.compress(m)
			if err != nil {
				return nil, nil, 0, 0, err
			}
			round = frame(round, zp, true)
		}
	default:
		z.keep = true
		for _, m := range msgs {
			zp, err := z.compress(m)
			if err != nil {
				return nil, nil, 0, 0, err
			}
			first = frame(first, zp, true)
		}
		firstPayload = total
		for _, m := range msgs {
			zp, err := z.compress(m)
			if err != nil {
				return nil, nil, 0, 0, err
			}
			round = frame(round, zp, true)
		}
		z.fw = nil
	}
	steady = make([]byte, 0, max(64<<10, len(round)))
	for len(steady)+len(round) <= cap(steady) || len(steady) == 0 {
		steady = append(steady, round...)
		steadyPayload += total
	}
	return first, steady, firstPayload, steadyPayload, nil
}

// connStats counts a connection's bytes, when the client asks for them
// (stats=1): on the wire after the handshake, and in its data messages
// (inflated), each way. The server prints them when the connection ends.
type connStats struct {
	inWire, outWire       atomic.Int64
	inPayload, outPayload atomic.Int64
	msgs                  atomic.Int64
}

func (s *connStats) String() string {
	return fmt.Sprintf("in_wire=%d in_payload=%d out_wire=%d out_payload=%d msgs=%d",
		s.inWire.Load(), s.inPayload.Load(), s.outWire.Load(), s.outPayload.Load(), s.msgs.Load())
}

// countConn counts the bytes read and written through it.
type countConn struct {
	net.Conn
	st *connStats
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.st.inWire.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.st.outWire.Add(int64(n))
	return n, err
}
