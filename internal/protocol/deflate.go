package protocol

import (
	"errors"
	"io"
	"math"
	"sync"

	"github.com/gobwas/ws"
	"github.com/klauspost/compress/flate"

	"github.com/wsloop/websocket/internal/bufpool"
)

// Deflate is permessage-deflate (RFC 7692) as the handshake negotiated it,
// in the RFC's terms of server and client whichever end the Conn is: the
// peer's settings say how its messages are inflated, the Conn's own how
// far back its compressed messages may refer. A Conn compresses each
// message on its own in either role, which is always allowed.
type Deflate struct {
	// ServerNoContextTakeover: the server compresses each message on its
	// own, so a client-role Conn keeps no window of the server's between
	// messages.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client compresses each message on its
	// own, so a server-role Conn keeps no window of the client's between
	// messages.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is the window the server compresses with, 8 to
	// 15; 0 means 15. With context takeover, a client-role Conn keeps up
	// to that much of the server's last output between messages; a
	// server-role Conn's messages refer back at most 2^bits bytes.
	ServerMaxWindowBits int
	// ClientMaxWindowBits is the window the client compresses with, 8 to
	// 15; 0 means 15. A client-role Conn's messages refer back at most
	// 2^bits bytes; with context takeover, a server-role Conn keeps up to
	// that much of the client's last output between messages.
	ClientMaxWindowBits int
	// Threshold: messages shorter than this go uncompressed. Zero means
	// every message is compressed when that makes it smaller.
	Threshold int
	// Pool holds the compressors and decompressors, shared by every
	// connection of a loop; nil means a pool of this Deflate's own.
	Pool *FlatePool

	once sync.Once
	idle *deflateState // the state of every connection between messages
}

// deflateState is a connection's share of permessage-deflate: its window
// with context takeover, the message being received compressed or not,
// the compressed messages queued. Between messages a connection holds the
// Deflate's idle state, shared by every connection that negotiated the
// same Deflate, and makes a state of its own only while it has something
// to keep: so an idle connection with compression negotiated costs no
// more than one without (but for the window that context takeover
// keeps). Compressors and decompressors are borrowed from the pool for
// one message at a time.
type deflateState struct {
	cfg    *Deflate // its window sizes resolved (15 for 0)
	window []byte   // the peer's last output, up to its window; nil until its first compressed message
	msgZ   bool     // the message being received is compressed
	zlens  []int    // the message sizes of the compressed frames queued, oldest first (BufferedPayload)
}

// idleState is d's shared state between messages, made once.
func (d *Deflate) idleState() *deflateState {
	d.once.Do(func() {
		if d.ServerMaxWindowBits == 0 {
			d.ServerMaxWindowBits = 15
		}
		if d.ClientMaxWindowBits == 0 {
			d.ClientMaxWindowBits = 15
		}
		if d.Pool == nil {
			d.Pool = new(FlatePool)
		}
		d.idle = &deflateState{cfg: d}
	})
	return d.idle
}

// zOwn is the connection's own deflate state, made from the shared idle
// one when it holds that: the idle state is never written.
func (c *Conn) zOwn() *deflateState {
	if c.z == c.z.cfg.idle {
		c.z = &deflateState{cfg: c.z.cfg}
	}
	return c.z
}

// zRelease goes back to the shared idle state once the connection's own
// holds nothing: no window to keep, no message in progress or queued.
func (c *Conn) zRelease() {
	z := c.z
	if z != z.cfg.idle && !z.msgZ && len(z.zlens) == 0 && z.window == nil {
		c.z = z.cfg.idle
	}
}

// FlatePool lends compressors and decompressors to the connections of a
// loop: a message is compressed or inflated in one call, so a loop needs as
// many as it has messages in flight at once, usually one. It is safe from
// any goroutine (sends compress on the sender's).
type FlatePool struct {
	mu      sync.Mutex
	readers []io.ReadCloser
	// writers by the sender's window bits: BestSpeed at 15, a window of
	// 2^bits under it.
	writers [16][]*flate.Writer
}

// flateTail ends a message's compressed bytes for the inflater: the
// empty stored block the sender stripped (RFC 7692 7.2.2), then a final
// empty stored block, so that the inflater ends with io.EOF.
var flateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflate decompresses a whole message's payload from the peer of a Conn
// in the given role. With the peer's context takeover, the message may
// refer back to the window kept of the peer's earlier ones, and the window
// its next may refer to is kept in turn. It fails with 1009 as soon as the
// output passes limit, and with 1002 (Chromium's code) when the data is
// not deflate. The result is a bufpool buffer.
func (d *deflateState) inflate(in []byte, limit int64, server bool) ([]byte, *Error) {
	bits, noTakeover := d.cfg.peerWindow(server)
	if noTakeover {
		return inflateWith(d.cfg.Pool, in, nil, limit)
	}
	out, e := inflateWith(d.cfg.Pool, in, d.window, limit)
	if e == nil {
		d.keepWindow(out, bits)
	}
	return out, e
}

// inflateWith decompresses in, which may refer back to dict, as inflate
// does.
func inflateWith(pool *FlatePool, in, dict []byte, limit int64) ([]byte, *Error) {
	src := &tailReader{b: in}
	r := pool.reader(src, dict)
	defer pool.putReader(r)
	out := bufpool.Get(min(max(2*len(in), 512), int(min(limit, 1<<20))))[:0]
	for {
		if len(out) == cap(out) {
			if int64(len(out)) > limit {
				bufpool.Put(out)
				return nil, newError(codeTooBig, reasonTooBig)
			}
			next := bufpool.Get(int(min(int64(2*cap(out)), limit+1)))[:len(out)]
			copy(next, out)
			bufpool.Put(out)
			out = next
		}
		n, err := r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			bufpool.Put(out)
			return nil, newError(codeProtocolError, reasonInflate) // as Chromium fails it
		}
	}
	if int64(len(out)) > limit {
		bufpool.Put(out)
		return nil, newError(codeTooBig, reasonTooBig)
	}
	return out, nil
}

// keepWindow keeps the end of the peer's output that its next message may
// refer to: at most its window of 2^bits bytes.
func (d *deflateState) keepWindow(out []byte, bits int) {
	// zlib, behind many peers, cannot compress with a 256-byte window and
	// uses 512 bytes when told 8 bits: keep that much.
	size := 1 << max(bits, 9)
	out = out[max(0, len(out)-size):]
	keep := max(0, len(d.window)+len(out)-size) // what of the old window falls out
	n := copy(d.window, d.window[keep:])
	if need := n + len(out); need > cap(d.window) {
		// The window grows with what the peer sent, up to its size: a
		// socket that got one short message keeps that much, not 32 KiB.
		w := make([]byte, n, min(size, max(need, 2*cap(d.window))))
		copy(w, d.window[:n])
		d.window = w
	}
	d.window = append(d.window[:n], out...)
}

// tailReader reads b, then flateTail.
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

// ReadByte lets the inflater read without a bufio.Reader of its own.
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

func (p *FlatePool) reader(src io.Reader, dict []byte) io.ReadCloser {
	p.mu.Lock()
	var r io.ReadCloser
	if n := len(p.readers); n > 0 {
		r = p.readers[n-1]
		p.readers = p.readers[:n-1]
	}
	p.mu.Unlock()
	if r == nil {
		return flate.NewReaderDict(src, dict)
	}
	r.(flate.Resetter).Reset(src, dict)
	return r
}

func (p *FlatePool) putReader(r io.ReadCloser) {
	// Let go of the message and the window it read.
	r.(flate.Resetter).Reset(&tailReader{tail: len(flateTail)}, nil)
	p.mu.Lock()
	p.readers = append(p.readers, r)
	p.mu.Unlock()
}

// errNoGain stops a compression whose output would not be smaller than
// its input: the message then goes uncompressed.
var errNoGain = errors.New("protocol: compression does not pay")

// boundedWriter collects compressed bytes up to its capacity.
type boundedWriter struct{ b []byte }

func (w *boundedWriter) Write(p []byte) (int, error) {
	if len(w.b)+len(p) > cap(w.b) {
		return 0, errNoGain
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

// compress deflates p as one message of a Conn in the given role (RFC
// 7692 7.2.1: flushed, the empty block's four bytes cut off), never
// referring to earlier messages: either end may always forgo its context
// takeover, and so keeps no compressor between messages. Its
// back-references reach no further than the sender's window (256 bytes at
// 8 bits, which an inflater that rounds 8 up to 9, as zlib does, also
// honours). It returns the compressed bytes in a bufpool buffer, or nil
// when they would not be smaller than p.
func (d *deflateState) compress(p []byte, server bool) []byte {
	bits := d.cfg.ownWindowBits(server)
	fw := d.cfg.Pool.writer(bits)
	out := &boundedWriter{b: bufpool.Get(len(p) + 4)[:0]}
	fw.Reset(out)
	_, err := fw.Write(p)
	if err == nil {
		err = fw.Flush()
	}
	d.cfg.Pool.putWriter(fw, bits)
	if err != nil || len(out.b) < 4 || len(out.b)-4 >= len(p) {
		bufpool.Put(out.b)
		return nil
	}
	return out.b[:len(out.b)-4] // the 00 00 ff ff that Flush ends with
}

func (p *FlatePool) writer(bits int) *flate.Writer {
	bits = min(max(bits, 8), 15)
	p.mu.Lock()
	list := &p.writers[bits]
	var w *flate.Writer
	if n := len(*list); n > 0 {
		w = (*list)[n-1]
		*list = (*list)[:n-1]
	}
	p.mu.Unlock()
	if w == nil {
		if bits == 15 {
			w, _ = flate.NewWriter(io.Discard, flate.BestSpeed)
		} else {
			w, _ = flate.NewWriterWindow(io.Discard, 1<<bits)
		}
	}
	return w
}

func (p *FlatePool) putWriter(w *flate.Writer, bits int) {
	bits = min(max(bits, 8), 15)
	w.Reset(io.Discard) // let go of the output
	p.mu.Lock()
	p.writers[bits] = append(p.writers[bits], w)
	p.mu.Unlock()
}

// inflateFrame decompresses one of the Conn's own compressed frames, with
// a header of h bytes (masked, when it has a key), which refers to no
// earlier message.
func (d *deflateState) inflateFrame(frame []byte, h int) ([]byte, bool) {
	p := append([]byte(nil), frame[h:]...)
	if frame[1]&bitMask != 0 {
		ws.Cipher(p, headerKey(frame[:h]), 0)
	}
	out, e := inflateWith(d.cfg.Pool, p, nil, math.MaxInt64-1)
	return out, e == nil
}

// SetDeflate sets the permessage-deflate of a connection whose state was
// made before its handshake (a reconnection's, holding the messages sent
// meanwhile, uncompressed): nil for none.
func (c *Conn) SetDeflate(d *Deflate) {
	c.z, c.allowedRsv = nil, 0
	if d != nil {
		c.z = d.idleState()
		c.allowedRsv = ws.Rsv(true, false, false)
	}
}
