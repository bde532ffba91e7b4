//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

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

// The tests of Native that hold for epoll and kqueue alike; the Linux
// ones that look into epoll are in native_linux_test.go. Every test of
// poll_test.go runs on Native too (pollerCases).

func init() {
	pollerCases = append(pollerCases,
		pollerCase{"native", func() (Poller, error) { return NewNative() }},
		// Wait's fallback for when the runtime does not take the epoll or
		// kqueue descriptor: blocking in the kernel.
		pollerCase{"native-blocking", func() (Poller, error) {
			e, err := NewNative()
			if err == nil {
				e.park = nil
			}
			return e, err
		}},
	)
}

func testNative(t testing.TB) *Native {
	t.Helper()
	e, err := NewNative()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestNewPicksNative(t *testing.T) {
	t.Setenv("WSLOOP_POLLER", "")
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, ok := p.(*Native); !ok {
		t.Fatalf("New() = %T, want *Native", p)
	}
	t.Setenv("WSLOOP_POLLER", "portable")
	p2, _ := New()
	defer p2.Close()
	if _, ok := p2.(*Portable); !ok {
		t.Fatalf("with WSLOOP_POLLER=portable, New() = %T, want *Portable", p2)
	}
}

func TestNativeConnSize(t *testing.T) {
	size := unsafe.Sizeof(nativeConn{})
	t.Logf("nativeConn: %d bytes; Native: %d bytes", size, unsafe.Sizeof(Native{}))
	if size > 64 {
		t.Errorf("nativeConn is %d bytes: an idle connection should cost less", size)
	}
}

// TestNativeOwnsTheSocket checks what Add does to a TCP connection: the
// net.Conn is closed (its descriptor is gone) and the socket lives on in a
// non-blocking, close-on-exec descriptor of the Native's.
func TestNativeOwnsTheSocket(t *testing.T) {
	e := testNative(t)
	client, _ := tcpPair(t)
	var orig int
	rc, _ := client.SyscallConn()
	rc.Control(func(fd uintptr) { orig = int(fd) })
	c, err := e.Add(client, newRecorder(t))
	if err != nil {
		t.Fatal(err)
	}
	ec, ok := c.(*nativeConn)
	if !ok {
		t.Fatalf("Add(*net.TCPConn) = %T, want *nativeConn", c)
	}
	if _, err := client.Write([]byte("x")); err == nil {
		t.Error("the net.Conn still works after Add")
	}
	if int(ec.fd) == orig {
		t.Error("the Native kept the runtime's descriptor")
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

func TestNativeFallback(t *testing.T) {
	e := testNative(t)
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

// TestNativeWakeCoalesces: Wakes between two Waits write the eventfd once.
// TestNativeCloseDrains closes a connection with unread input: the peer
// must see our last bytes and EOF, not a reset.
// TestNativeHangupDeregisters: after OnHangup, a socket the handler keeps
// open is no longer watched, or HUP would be reported in every Wait.
func TestNativeHangupDeregisters(t *testing.T) {
	e := testNative(t)
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
	ec := c.(*nativeConn)
	ec.mu.Lock()
	mask := ec.mask
	ec.mu.Unlock()
	if mask != 0 {
		t.Fatalf("interest %#x after hangup", mask)
	}
}

// TestNativeManyConns: 2000 connections on one Native cost no goroutine, and
// each gets its own data in both directions.
func TestNativeManyConns(t *testing.T) {
	const conns = 2000
	e := testNative(t)
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
			t.Fatalf("server read after Native.Close: %v, want EOF", err)
		}
	}
}

// TestNativeStaleEvent replaces a connection by another with the same
// descriptor number while an event for the first is pending: the second
// must not get it.
func TestNativeWriteAfterReset(t *testing.T) {
	e := testNative(t)
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

// TestNativeHeartbeat: a Wait books its poll (see Native.heartbeat) when
// heartbeatEvery has passed since the last booked one, and the poll takes
// the beat, so that the next Wait polls raw.
func TestNativeHeartbeat(t *testing.T) {
	e := testNative(t)
	if err := e.Wait(0); err != nil {
		t.Fatal(err)
	}
	if e.beat {
		t.Fatal("the Wait's poll left its beat")
	}
	at := e.beatAt
	if at.IsZero() {
		t.Fatal("the first Wait booked no poll")
	}
	if e.heartbeat(at.Add(heartbeatEvery - time.Millisecond)) {
		t.Fatal("a beat within heartbeatEvery of the last")
	}
	if !e.heartbeat(at.Add(heartbeatEvery)) {
		t.Fatal("no beat heartbeatEvery after the last")
	}
	if !e.beatAt.Equal(at.Add(heartbeatEvery)) {
		t.Fatal("the beat's time was not kept")
	}
}
