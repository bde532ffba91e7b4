package poll

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	pollerCases = append(pollerCases,
		pollerCase{"epoll", func() (Poller, error) { return NewEpoll() }},
		// Wait's fallback for when the runtime does not take the epoll
		// descriptor: blocking in epoll_wait.
		pollerCase{"epoll-blocking", func() (Poller, error) {
			e, err := NewEpoll()
			if err == nil {
				e.park = nil
			}
			return e, err
		}},
	)
}

func newEpoll(t testing.TB) *Epoll {
	t.Helper()
	e, err := NewEpoll()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestNewPicksEpoll(t *testing.T) {
	t.Setenv("WSLOOP_POLLER", "")
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, ok := p.(*Epoll); !ok {
		t.Fatalf("New() = %T, want *Epoll", p)
	}
	t.Setenv("WSLOOP_POLLER", "portable")
	p2, _ := New()
	defer p2.Close()
	if _, ok := p2.(*Portable); !ok {
		t.Fatalf("with WSLOOP_POLLER=portable, New() = %T, want *Portable", p2)
	}
}

func TestEpollConnSize(t *testing.T) {
	size := unsafe.Sizeof(epollConn{})
	t.Logf("epollConn: %d bytes; Epoll: %d bytes", size, unsafe.Sizeof(Epoll{}))
	if size > 64 {
		t.Errorf("epollConn is %d bytes: an idle connection should cost less", size)
	}
}

// TestEpollOwnsTheSocket checks what Add does to a TCP connection: the
// net.Conn is closed (its descriptor is gone) and the socket lives on in a
// non-blocking, close-on-exec descriptor of the Epoll's.
func TestEpollOwnsTheSocket(t *testing.T) {
	e := newEpoll(t)
	client, _ := tcpPair(t)
	var orig int
	rc, _ := client.SyscallConn()
	rc.Control(func(fd uintptr) { orig = int(fd) })
	c, err := e.Add(client, newRecorder(t))
	if err != nil {
		t.Fatal(err)
	}
	ec, ok := c.(*epollConn)
	if !ok {
		t.Fatalf("Add(*net.TCPConn) = %T, want *epollConn", c)
	}
	if _, err := client.Write([]byte("x")); err == nil {
		t.Error("the net.Conn still works after Add")
	}
	if int(ec.fd) == orig {
		t.Error("the Epoll kept the runtime's descriptor")
	}
	fl, err := unix.FcntlInt(uintptr(ec.fd), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("F_GETFL = %#x, %v: want O_NONBLOCK", fl, err)
	}
	fd, err := unix.FcntlInt(uintptr(ec.fd), unix.F_GETFD, 0)
	if err != nil || fd&unix.FD_CLOEXEC == 0 {
		t.Errorf("F_GETFD = %#x, %v: want FD_CLOEXEC", fd, err)
	}
	c.Close()
	if _, err := unix.FcntlInt(uintptr(ec.fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("descriptor still open after Close: %v", err)
	}
}

func TestEpollFallback(t *testing.T) {
	e := newEpoll(t)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c, err := e.Add(a, newRecorder(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*portableConn); !ok {
		t.Fatalf("Add(net.Pipe) = %T, want the goroutine fallback", c)
	}
	c.Close()
	client, _ := tlsPair(t)
	c, err = e.Add(client, newRecorder(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*portableConn); !ok {
		t.Fatalf("Add(*tls.Conn) = %T, want the goroutine fallback", c)
	}
	c.Close()
}

// TestEpollWakeCoalesces: Wakes between two Waits write the eventfd once.
func TestEpollWakeCoalesces(t *testing.T) {
	e := newEpoll(t)
	ready := make(chan struct{})
	for range 4 {
		go func() {
			for range 1000 {
				e.Wake()
			}
			ready <- struct{}{}
		}()
	}
	for range 4 {
		<-ready
	}
	var b [8]byte
	if n, err := unix.Read(e.efd, b[:]); n != 8 || err != nil {
		t.Fatalf("eventfd read %d, %v", n, err)
	}
	if v := binary.NativeEndian.Uint64(b[:]); v != 1 {
		t.Fatalf("4000 Wakes wrote the eventfd %d times", v)
	}
	unix.Write(e.efd, b[:]) // put it back for Wait
	if err := e.Wait(-1); err != nil {
		t.Fatal(err)
	}
	if e.woken.Load() {
		t.Fatal("Wait left the wake flag set")
	}
}

// TestEpollCloseDrains closes a connection with unread input: the peer
// must see our last bytes and EOF, not a reset.
func TestEpollCloseDrains(t *testing.T) {
	e := newEpoll(t)
	client, server := tcpPair(t)
	h := newRecorder(t)
	c, err := e.Add(client, h)
	if err != nil {
		t.Fatal(err)
	}
	ec := c.(*epollConn)
	// All of it fits in the receive buffer: input still arriving after
	// Close draws a reset whatever Close does.
	const unread = 100 << 10
	if _, err := server.Write(randomBytes(unread, 6)); err != nil {
		t.Fatal(err)
	}
	// Wait until the kernel holds all of it, without reading.
	deadline := time.Now().Add(bound)
	for {
		n, err := unix.IoctlGetInt(int(ec.fd), unix.SIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if n == unread {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d bytes queued", n)
		}
		runtime.Gosched()
	}
	if _, err := c.Write([]byte("goodbye")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	h.closed = true
	server.SetReadDeadline(time.Now().Add(bound))
	b, err := io.ReadAll(server)
	if err != nil || string(b) != "goodbye" {
		t.Fatalf("peer read %q, %v; want our last bytes, then EOF", b, err)
	}
	if h.reads != 0 {
		t.Fatal("the handler was called")
	}
}

// TestEpollHangupDeregisters: after OnHangup, a socket the handler keeps
// open is no longer watched, or HUP would be reported in every Wait.
func TestEpollHangupDeregisters(t *testing.T) {
	e := newEpoll(t)
	client, server := tcpPair(t)
	h := newRecorder(t)
	c, err := e.Add(client, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.CloseWrite()
	server.Close()
	waitFor(t, e, "OnHangup", func() bool { return h.hangups > 0 })
	ec := c.(*epollConn)
	ec.mu.Lock()
	mask := ec.mask
	ec.mu.Unlock()
	if mask != 0 {
		t.Fatalf("interest %#x after hangup", mask)
	}
}

// TestEpollManyConns: 2000 connections on one Epoll cost no goroutine, and
// each gets its own data in both directions.
func TestEpollManyConns(t *testing.T) {
	const conns = 2000
	e := newEpoll(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	base := runtime.NumGoroutine()
	servers := make([]net.Conn, conns)
	cs := make([]Conn, conns)
	got := make([]uint64, conns)
	received := 0
	for i := range conns {
		client, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer server.Close()
		servers[i] = server
		h := newRecorder(t)
		h.onRead = func(p []byte) {
			if len(h.data) == 8 {
				got[i] = binary.BigEndian.Uint64(h.data)
				received++
			}
		}
		if cs[i], err = e.Add(client, h); err != nil {
			t.Fatal(err)
		}
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		t.Fatalf("%d goroutines for %d connections, %d before", n, conns, base)
	}
	var b [8]byte
	for i, s := range servers {
		binary.BigEndian.PutUint64(b[:], uint64(i)*7919)
		if _, err := s.Write(b[:]); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, e, "every connection's data", func() bool { return received == conns })
	for i, v := range got {
		if v != uint64(i)*7919 {
			t.Fatalf("connection %d got %d", i, v)
		}
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		t.Fatalf("%d goroutines for %d connections, %d before", n, conns, base)
	}
	for i, c := range cs {
		binary.BigEndian.PutUint64(b[:], uint64(i))
		if n, err := c.Write(b[:]); n != 8 || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	for i, s := range servers {
		s.SetReadDeadline(time.Now().Add(bound))
		if _, err := io.ReadFull(s, b[:]); err != nil || binary.BigEndian.Uint64(b[:]) != uint64(i) {
			t.Fatalf("server %d read %x, %v", i, b, err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		if _, err := s.Read(b[:]); err != io.EOF {
			t.Fatalf("server read after Epoll.Close: %v, want EOF", err)
		}
	}
}

// TestEpollStaleEvent replaces a connection by another with the same
// descriptor number while an event for the first is pending: the second
// must not get it.
func TestEpollStaleEvent(t *testing.T) {
	e := newEpoll(t)
	c1, s1 := tcpPair(t)
	c2, s2 := tcpPair(t)
	h1, h2 := newRecorder(t), newRecorder(t)
	a, err := e.Add(c1, h1)
	if err != nil {
		t.Fatal(err)
	}
	fd := a.(*epollConn).fd
	s1.Write([]byte("for the first"))
	n, errno := epollWait(e.epfd, e.events[:], int(bound/time.Millisecond))
	if errno != 0 || n != 1 || e.events[0].Fd != fd {
		t.Fatalf("epoll_wait: %d, %v", n, errno)
	}
	stale := e.events[0]
	a.Close()
	h1.closed = true
	b, err := e.Add(c2, h2)
	if err != nil {
		t.Fatal(err)
	}
	if b.(*epollConn).fd != fd {
		t.Skipf("the second connection got descriptor %d, not %d", b.(*epollConn).fd, fd)
	}
	// Feed the stale event through Wait's resolution by hand.
	e.mu.Lock()
	c := e.conns[stale.Fd]
	e.mu.Unlock()
	if c != nil && int32(c.gen) == stale.Pad {
		t.Fatal("a stale event resolves to the new connection")
	}
	s2.Write([]byte("for the second"))
	waitFor(t, e, "the second's data", func() bool { return string(h2.data) == "for the second" })
}

func TestEpollWriteAfterReset(t *testing.T) {
	e := newEpoll(t)
	client, server := tcpPair(t)
	h := newRecorder(t)
	c, err := e.Add(client, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	server.SetLinger(0)
	server.Close()
	waitFor(t, e, "OnHangup", func() bool { return h.hangups > 0 })
	_, err = c.Write([]byte("x"))
	if err == nil {
		t.Fatal("Write to a reset connection succeeded")
	}
	if !errors.Is(err, unix.ECONNRESET) && !errors.Is(err, unix.EPIPE) {
		t.Fatalf("Write to a reset connection: %v, want ECONNRESET or EPIPE", err)
	}
}
