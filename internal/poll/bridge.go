package poll

import (
	"net"
	"time"
)

// Bridge is the net.Conn to put under a client's *tls.Conn so that an
// Native can own the socket once the handshake is done: the *tls.Conn then
// costs the loop no goroutine and no read buffer of its own while idle,
// like a plain TCP connection.
//
// Until a Poller takes it over, a Bridge passes every call to the
// connection it wraps, blocking as that one does: the TLS handshake and
// the HTTP upgrade run over it unchanged, off the loop. When Native.Add is
// given a *tls.Conn whose NetConn is an unpinned Bridge around a
// *net.TCPConn, it takes the socket as it takes a plain one, and the Bridge
// becomes the loop's record pump (see tlsSock): its Read hands crypto/tls
// the ciphertext the loop has just read from the socket and then says "no
// more for now" with an error that crypto/tls treats as temporary, and its
// Write queues ciphertext for the loop to send without blocking, so that
// crypto/tls never sees a write fail for want of room (it would make that
// failure permanent). Any other Poller (Portable, or a Native that is given
// a pinned Bridge) uses the *tls.Conn as an ordinary net.Conn, and the
// Bridge just passes through.
type Bridge struct {
	nc     net.Conn // the wrapped connection; nil once a Native owns the socket
	pinned bool
	// rec follows the record framing of every byte crypto/tls reads, from
	// the first, so that the loop can feed it one record at a time.
	rec recordCursor
	// s is the socket's state once a Native owns it. It is set on the
	// loop's goroutine by Native.Add, after the dialing goroutine's last
	// use of nc (the dial result reaches the loop through its task queue,
	// which orders the two).
	s *tlsSock
}

// NewBridge returns a Bridge over c, which should be the *net.TCPConn the
// *tls.Conn is to run over: a Native takes over no other kind.
func NewBridge(c net.Conn) *Bridge { return &Bridge{nc: c} }

// Pin keeps the connection in passthrough mode for good: every Poller then
// serves it with goroutines. It is for a connection that may need to block
// inside crypto/tls's Read, which the loop cannot do: a TLS 1.2 connection
// whose configuration allows renegotiation runs a whole handshake within
// Read when the server asks for one. Pin must be called before the
// connection is added to a Poller.
func (b *Bridge) Pin() { b.pinned = true }

// Read implements net.Conn.
func (b *Bridge) Read(p []byte) (int, error) {
	if s := b.s; s != nil {
		return s.read(p, &b.rec)
	}
	n, err := b.nc.Read(p)
	for off := 0; off < n; {
		off += b.rec.take(p[off:n])
	}
	return n, err
}

// Write implements net.Conn.
func (b *Bridge) Write(p []byte) (int, error) {
	if s := b.s; s != nil {
		return s.write(p)
	}
	return b.nc.Write(p)
}

// Close implements net.Conn. Once a Native owns the socket, closing it is
// the Native's business (the Conn's Close), and this does nothing.
func (b *Bridge) Close() error {
	if b.s != nil {
		return nil
	}
	return b.nc.Close()
}

// LocalAddr implements net.Conn.
func (b *Bridge) LocalAddr() net.Addr {
	if s := b.s; s != nil {
		return s.laddr
	}
	return b.nc.LocalAddr()
}

// RemoteAddr implements net.Conn. crypto/tls asks for it after the
// handshake too: it keys the client session cache with it when the
// configuration has no ServerName.
func (b *Bridge) RemoteAddr() net.Addr {
	if s := b.s; s != nil {
		return s.raddr
	}
	return b.nc.RemoteAddr()
}

// SetDeadline implements net.Conn. Deadlines mean nothing once the socket
// is the loop's, whose reads and writes never block; crypto/tls sets a
// write deadline around its close_notify, which is then ignored.
func (b *Bridge) SetDeadline(t time.Time) error {
	if b.s != nil {
		return nil
	}
	return b.nc.SetDeadline(t)
}

// SetReadDeadline implements net.Conn; see SetDeadline.
func (b *Bridge) SetReadDeadline(t time.Time) error {
	if b.s != nil {
		return nil
	}
	return b.nc.SetReadDeadline(t)
}

// SetWriteDeadline implements net.Conn; see SetDeadline.
func (b *Bridge) SetWriteDeadline(t time.Time) error {
	if b.s != nil {
		return nil
	}
	return b.nc.SetWriteDeadline(t)
}

// errWouldBlock is what a taken-over Bridge's Read returns once the loop's
// ciphertext is used up. crypto/tls's readRecordOrCCS records an error of
// the underlying Read as the connection's permanent read error unless it is
// a net.Error whose Temporary() is true; this one is, so tls.Conn.Read just
// returns it and resumes where it stopped on the next call, a partial record
// kept in its own buffer.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "poll: no more input for now" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// recordCursor follows TLS record framing (RFC 8446, Section 5.1; the same
// 5-byte header in every version: type, version, 16-bit length) over a
// byte stream.
//
// A taken-over Bridge gives crypto/tls at most the rest of one record per
// Read. tls.Conn assembles records in a bytes.Buffer (rawInput) that never
// shrinks, so its capacity is a cost of every idle connection. Handed
// everything at once, it holds a partial record behind a consumed one
// whenever a socket read ends mid-record, and bytes.Buffer then grows
// rather than slides (it compacts only within half its capacity): 40 KiB
// after a bulk transfer, as on the goroutine path. Fed a record at a time,
// it always starts a record at the front of an empty buffer, which stays
// at one full record plus bytes.MinRead, 18 KiB, when the records are
// full-size from the start, and at 32 KiB when they grow a little at a
// time as Go's dynamic record sizing makes them, bytes.Buffer doubling
// its capacity (TestEpollTLSIdleBuffers). The cursor only chooses where a
// Read stops: were it ever wrong, crypto/tls would still read on until it
// has the bytes it needs.
type recordCursor struct {
	left int  // body bytes of the current record still to come
	hdr  int  // header bytes of the next record seen, 0 to 4
	hi   byte // the high byte of that header's length
}

// take moves the cursor over b up to the end of the current record, and
// returns how many bytes that is: all of b if the record does not end in
// it.
func (r *recordCursor) take(b []byte) int {
	n := 0
	for n < len(b) {
		if r.left > 0 {
			k := min(r.left, len(b)-n)
			r.left -= k
			n += k
			if r.left == 0 {
				return n
			}
			continue
		}
		switch r.hdr {
		case 3:
			r.hi = b[n]
		case 4:
			r.left = int(r.hi)<<8 | int(b[n])
		}
		n++
		if r.hdr++; r.hdr == recordHeaderLen {
			r.hdr = 0
			if r.left == 0 {
				return n
			}
		}
	}
	return n
}

// recordHeaderLen is the length of a TLS record header.
const recordHeaderLen = 5
