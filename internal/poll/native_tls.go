//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// TLS on the loop.
//
// A *tls.Conn over a Bridge is served like a TCP socket: the Native owns the
// descriptor, the loop reads it into the Wait's shared buffer, and the
// record layer runs on the loop inside tls.Conn.Read and tls.Conn.Write,
// which the Bridge feeds and drains without blocking. What this relies on
// in crypto/tls (Go 1.26, src/crypto/tls/conn.go):
//
//   - readRecordOrCCS (conn.go:609) stores an error of the underlying Read
//     in c.in.err, which every later Read returns, unless it is a net.Error
//     whose Temporary() is true (conn.go:626-636 for the header, 677-681
//     for the body; setErrorLocked, conn.go:196, would make even that one
//     permanent). errWouldBlock is such an error, so it goes back to our
//     caller and nothing sticks. The bytes read before it stay in
//     c.rawInput (readFromUntil, conn.go:828-838, fills it through
//     bytes.Buffer.ReadFrom, which keeps what a Read returned with an
//     error, bytes/buffer.go:234), so a record split across any number of
//     socket reads is assembled by crypto/tls itself: the Bridge keeps no
//     inbound buffer. Each turn feeds one socket read and calls Read until
//     errWouldBlock, which the Bridge returns only once that input is all
//     in c.rawInput.
//   - Post-handshake handshake messages (TLS 1.3 NewSessionTicket and
//     KeyUpdate) are handled inside Read (conn.go:1392-1401,
//     handlePostHandshakeMessage, conn.go:1305). A message split across
//     records waits in c.hand, and the errWouldBlock of readHandshakeBytes
//     (conn.go:1079) is returned as is, not stored: the next Read carries
//     on. handleNewSessionTicket (handshake_client_tls13.go:832) does no I/O
//     but to ask RemoteAddr for the session cache key, which the Bridge
//     keeps. A KeyUpdate that requests ours writes a record
//     (handleKeyUpdate, conn.go:1345-1363): the Bridge queues it.
//   - Read may return bytes and an error at once: after a record, it reads
//     a close_notify already in c.rawInput (conn.go:1412-1417). The bytes
//     are delivered, then the error handled.
//   - Write: writeRecordLocked (conn.go:980, 1035) hands each record to the
//     underlying Write, and Write (conn.go:1255) stores any error it returns
//     in c.out.err for good. The Bridge's Write therefore only appends to
//     the connection's output queue and never fails for want of room; the
//     loop sends the queue and reports a real socket error the next time.
//   - Renegotiation (TLS 1.2 only) would run a blocking handshake inside
//     Read (handleRenegotiation, conn.go:1259). With the default
//     RenegotiateNever it only sends an alert and fails the Read, which is
//     fine here; a configuration that allows it must Pin its Bridge.
//   - EOF: a close_notify alert makes Read return io.EOF (conn.go:720-721);
//     so does the socket's EOF at a record boundary (conn.go:627-632), while
//     one inside a record is io.ErrUnexpectedEOF: the Native reports them as
//     the goroutine path does (OnHangup(nil) for io.EOF).
//   - Locking: Read holds c.in and, for alerts and KeyUpdate, c.out; Write
//     holds c.out. Every call into the tls.Conn is made with the nativeConn's
//     mu held, never across a Handler call, so the Bridge's state needs no
//     lock of its own and the order is always nativeConn.mu, then crypto/tls's.
//   - What crypto/tls read during the handshake and the HTTP upgrade, past
//     what they used, is in c.input and c.rawInput, and the socket will not
//     become readable for it: Add queues a kick, which drains the tls.Conn
//     in the next Wait (see kick).
//
// What crypto/tls keeps per connection is its own: c.rawInput keeps the
// capacity of the largest record it has assembled (bytes.Buffer never
// shrinks; the Bridge's recordCursor keeps that low), c.hand that of the
// largest handshake message. Nothing exported releases them.

const (
	// tlsWriteChunk is how much plaintext one tls.Conn.Write gets: at most
	// one full record, which is also the most that Write accepts beyond
	// what the kernel takes, so BufferedAmount stays honest.
	tlsWriteChunk = 16 << 10
	// tlsPlainSize is the loop's plaintext buffer: tls.Conn.Read returns at
	// most one record's payload, 16 KiB at most.
	tlsPlainSize = 16 << 10
	// outBufSize is the capacity of a pooled output queue: one chunk's
	// records with their headers and tags, and room for an alert.
	outBufSize = tlsWriteChunk + 2<<10
)

// plainBufs lends a Wait its plaintext buffer, as readBufs its read buffer.
var plainBufs = sync.Pool{New: func() any { return new([tlsPlainSize]byte) }}

// outBufs holds output queues: a connection has one only while the kernel
// has not taken all of its ciphertext.
var outBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, outBufSize)
	return &b
}}

// tlsSock is a taken-over Bridge: the part of an nativeConn that only TLS
// connections have, 128 bytes. in and inErr belong to the loop's
// goroutine; the rest is used with the nativeConn's mu held, by the
// nativeConn's methods or by the Bridge's Read and Write, which run inside
// the tls.Conn calls those methods make.
type tlsSock struct {
	c            *nativeConn
	tc           *tls.Conn
	laddr, raddr net.Addr
	// in is the ciphertext of this turn's socket read, a view of the
	// Wait's shared buffer; it is empty between turns.
	in []byte
	// inErr ends the input: io.EOF or the socket's error, once read.
	inErr error
	// out is the ciphertext not yet taken by the kernel, from sent on; nil
	// when there is none.
	out  *[]byte
	sent int
	// werr is the socket's write error: the Bridge's Write returns it, and
	// crypto/tls then keeps it.
	werr error
	// shutAfter: CloseWrite is waiting for out to drain to shut down the
	// socket's sending side.
	shutAfter bool
	// dead: the socket is no longer ours (Close, or a failed Add).
	dead bool
	// synced: a Read has returned errWouldBlock since the takeover, so
	// crypto/tls holds no more than one partial record (see drainTLS).
	synced bool
}

// ownedBridge returns the Bridge under tc if a Native may take its socket:
// an unpinned Bridge, not taken yet, around a TCP connection, the
// handshake done.
func ownedBridge(tc *tls.Conn) (*Bridge, *net.TCPConn) {
	b, ok := tc.NetConn().(*Bridge)
	if !ok || b.pinned || b.s != nil {
		return nil, nil
	}
	tcp, ok := b.nc.(*net.TCPConn)
	if !ok || !tc.ConnectionState().HandshakeComplete {
		return nil, nil
	}
	return b, tcp
}

// read is the Bridge's Read: this turn's ciphertext, no further than the
// end of the record under way (see recordCursor), then errWouldBlock, or
// the end of the input once the socket has reported it.
func (s *tlsSock) read(p []byte, rec *recordCursor) (int, error) {
	if len(s.in) == 0 {
		if s.inErr != nil {
			return 0, s.inErr
		}
		if s.dead {
			return 0, net.ErrClosed
		}
		return 0, errWouldBlock
	}
	n := copy(p, s.in[:rec.take(s.in[:min(len(p), len(s.in))])])
	s.in = s.in[n:]
	return n, nil
}

// write is the Bridge's Write: it queues p for flushLocked, which the
// caller of the tls.Conn method runs once that returns.
func (s *tlsSock) write(p []byte) (int, error) {
	if s.werr != nil {
		return 0, s.werr
	}
	if s.dead {
		return 0, net.ErrClosed
	}
	if s.out == nil {
		s.out = outBufs.Get().(*[]byte)
	}
	*s.out = append(*s.out, p...)
	return len(p), nil
}

// pending is how much ciphertext the kernel has yet to take.
func (s *tlsSock) pending() int {
	if s.out == nil {
		return 0
	}
	return len(*s.out) - s.sent
}

// flushLocked sends the queued ciphertext as far as the kernel takes it,
// and shuts the sending side down once it is all sent if CloseWrite asked
// for that. On a write error the queue is dropped and the error kept for
// the next Write.
func (s *tlsSock) flushLocked() {
	for s.out != nil && s.sent < len(*s.out) {
		n, errno := sysSend(s.c.fd, (*s.out)[s.sent:])
		if errno == unix.EAGAIN {
			return
		}
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			s.werr = os.NewSyscallError("write", errno)
			s.shutAfter = false
			break
		}
		s.sent += n
	}
	if s.out != nil {
		s.releaseOut()
	}
	if s.shutAfter {
		s.shutAfter = false
		unix.Shutdown(int(s.c.fd), unix.SHUT_WR)
	}
}

func (s *tlsSock) releaseOut() {
	putOut(s.out)
	s.out, s.sent = nil, 0
}

func putOut(b *[]byte) {
	if cap(*b) <= 2*outBufSize {
		*b = (*b)[:0]
		outBufs.Put(b)
	}
}

// plainBuf is the Wait's plaintext buffer, borrowed on its first use.
func (e *Native) plainBuf() []byte {
	if e.plain == nil {
		e.plain = plainBufs.Get().(*[tlsPlainSize]byte)
	}
	return e.plain[:]
}

// readTLS is read for a TLS connection: one socket read, whose ciphertext
// goes through crypto/tls to the handler, as many records as it holds.
func (c *nativeConn) readTLS(ev uint32) {
	s := c.t
	buf := c.e.readBuf()
	for {
		n, errno := sysRead(c.fd, buf)
		switch {
		case n > 0:
			s.in = buf[:n]
		case errno == 0:
			s.inErr = io.EOF
		case errno == unix.EAGAIN || errno == unix.EINTR:
			if ev&(evHup|evErr) == 0 {
				return
			}
			// Not expected, but HUP would be reported again and again.
			if s.inErr = sockError(c.fd); s.inErr == nil {
				s.inErr = io.EOF
			}
		default:
			s.inErr = os.NewSyscallError("read", errno)
		}
		if !c.drainTLS() {
			return
		}
		// As for TCP: when the peer has finished and this read did not
		// fill the buffer, take the end now rather than one Wait later.
		if n == 0 || ev&endEvents == 0 || n == len(buf) {
			return
		}
	}
}

// drainTLS calls tls.Conn.Read until it has used up what it holds and what
// the socket gave this turn, handing each piece of plaintext to OnRead. It
// reports whether the connection is still open and reading.
func (c *nativeConn) drainTLS() bool {
	s := c.t
	plain := c.e.plainBuf()
	defer func() { s.in = nil }() // not left pointing into the shared buffer
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return false
		}
		n, err := s.tc.Read(plain)
		// Read may have queued an alert or a KeyUpdate.
		s.flushLocked()
		c.rearmLocked()
		c.mu.Unlock()
		if n > 0 {
			c.h.OnRead(plain[:n])
			if c.closed || !c.reading {
				return false
			}
		}
		switch {
		case err == nil:
			if s.synced && len(s.in) == 0 && s.inErr == nil {
				// Read would return errWouldBlock: skip it, and the
				// allocation crypto/tls makes for it (readFromUntil's
				// atLeastReader escapes). The Bridge hands crypto/tls no
				// byte past the record it is assembling, so once synced
				// c.rawInput holds at most that record, which this Read
				// has used up, and the 16 KiB plaintext buffer takes a
				// whole record, so c.input is empty too.
				if verifyDrain {
					c.verifyDrained()
				}
				return true
			}
		case err == errWouldBlock:
			s.synced = true
			return true
		default:
			// crypto/tls keeps this error: the connection's input is over.
			if errors.Is(err, io.EOF) {
				err = nil
			}
			c.hangup(err)
			return false
		}
	}
}

// verifyDrain makes drainTLS check, when it skips the last Read, that the
// Read would have returned errWouldBlock. The tests set it.
var verifyDrain = false

func (c *nativeConn) verifyDrained() {
	c.mu.Lock()
	n, err := c.t.tc.Read(c.e.plainBuf())
	c.mu.Unlock()
	if n != 0 || err != errWouldBlock {
		panic("poll: tls.Conn.Read after a drain returned " + strconv.Itoa(n) + " bytes and " + fmt.Sprint(err))
	}
}

// kick drains what crypto/tls already holds when the Native takes the
// socket over: records read along with the handshake or the HTTP response
// never make the socket readable again.
func (c *nativeConn) kick() {
	if c.closed || !c.reading {
		return
	}
	c.drainTLS()
}

// writeTLS is Write for a TLS connection, with c.mu held. It encrypts a
// chunk at a time and stops once the kernel leaves some ciphertext
// queued: what it accepts is what the kernel took plus at most one chunk.
func (c *nativeConn) writeTLS(p []byte) (int, error) {
	s := c.t
	if s.werr != nil {
		return 0, s.werr
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := 0
	for n < len(p) && s.pending() == 0 {
		m, err := s.tc.Write(p[n:min(len(p), n+tlsWriteChunk)])
		n += m
		if err == nil {
			s.flushLocked()
			err = s.werr
		}
		if err != nil {
			c.rearmLocked()
			return n, err
		}
	}
	if n < len(p) {
		c.wantOut = true
	}
	if err := c.rearmLocked(); err != nil {
		return n, err
	}
	return n, nil
}

// closeWriteTLS is CloseWrite for a TLS connection, with c.mu held: a
// close_notify, then the TCP FIN once the queue has drained.
func (c *nativeConn) closeWriteTLS() error {
	s := c.t
	err := s.tc.CloseWrite()
	s.shutAfter = s.werr == nil
	s.flushLocked()
	c.rearmLocked()
	return err
}

// closeTLS is the TLS part of Close, with c.mu held and the socket
// deregistered: a close_notify, as tls.Conn.Close sends, and a last try
// at sending the queue. What the kernel did not take is returned for
// lingerTLS.
func (c *nativeConn) closeTLS() (rest *[]byte, sent int) {
	s := c.t
	// There is no tls.Conn.Write in flight (they all run under c.mu), so
	// Close sends close_notify (conn.go:1423) and closes the Bridge, which
	// does nothing: the descriptor is Close's.
	s.tc.Close()
	s.shutAfter = false
	s.flushLocked()
	s.dead = true
	rest, sent = s.out, s.sent
	s.out, s.sent = nil, 0
	return rest, sent
}

// lingerTLS writes what Close left queued within lingerTimeout, then
// closes the socket, on a goroutine of its own while it lasts: the runtime's
// poller takes the descriptor for the wait.
func lingerTLS(fd int32, out *[]byte, sent int) {
	defer putOut(out)
	f := os.NewFile(uintptr(fd), "tls")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	f.SetWriteDeadline(time.Now().Add(lingerTimeout))
	rest := (*out)[sent:]
	rc.Write(func(fd uintptr) bool {
		for len(rest) > 0 {
			n, errno := sysSend(int32(fd), rest)
			switch errno {
			case 0:
				rest = rest[n:]
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				return true
			}
		}
		return true
	})
}
