package poll

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Tests of Native that look into epoll and the eventfd.

func TestEpollWakeCoalesces(t *testing.T) {
	e := testNative(t)
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
	if n, err := unix.Read(e.sys.efd, b[:]); n != 8 || err != nil {
		t.Fatalf("eventfd read %d, %v", n, err)
	}
	if v := binary.NativeEndian.Uint64(b[:]); v != 1 {
		t.Fatalf("4000 Wakes wrote the eventfd %d times", v)
	}
	unix.Write(e.sys.efd, b[:]) // put it back for Wait
	if err := e.Wait(-1); err != nil {
		t.Fatal(err)
	}
	if e.woken.Load() {
		t.Fatal("Wait left the wake flag set")
	}
}

func TestEpollCloseDrains(t *testing.T) {
	e := testNative(t)
	client, server := tcpPair(t)
	h := newRecorder(t)
	c, err := e.Add(client, h)
	if err != nil {
		t.Fatal(err)
	}
	ec := c.(*nativeConn)
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

func TestEpollStaleEvent(t *testing.T) {
	e := testNative(t)
	c1, s1 := tcpPair(t)
	c2, s2 := tcpPair(t)
	h1, h2 := newRecorder(t), newRecorder(t)
	a, err := e.Add(c1, h1)
	if err != nil {
		t.Fatal(err)
	}
	fd := a.(*nativeConn).fd
	s1.Write([]byte("for the first"))
	n, errno := epollWait(e.sys.epfd, e.sys.events[:], int(bound/time.Millisecond), false)
	if errno != 0 || n != 1 || e.sys.events[0].Fd != fd {
		t.Fatalf("epoll_wait: %d, %v", n, errno)
	}
	stale := e.sys.events[0]
	a.Close()
	h1.closed = true
	b, err := e.Add(c2, h2)
	if err != nil {
		t.Fatal(err)
	}
	if b.(*nativeConn).fd != fd {
		t.Skipf("the second connection got descriptor %d, not %d", b.(*nativeConn).fd, fd)
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

// bigWindowPair is tcpPair with a client receive buffer of 2 MiB, set
// before connecting so that the window scale allows it: the tests of a
// read's turn need more than four read buffers queued on one socket.
func bigWindowPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	return dialPair(t, net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 2<<20)
		})
		return errors.Join(err, serr)
	}})
}

// awaitQueued blocks until fd has at least n bytes to read: poll(2) with
// SO_RCVLOWAT set to n, which the kernel honours for POLLIN.
func awaitQueued(t *testing.T, fd int32, n int) {
	t.Helper()
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, n); err != nil {
		t.Fatal(err)
	}
	defer unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, 1)
	pfd := []unix.PollFd{{Fd: fd, Events: unix.POLLIN}}
	for {
		k, err := unix.Poll(pfd, int(bound/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			q, _ := unix.IoctlGetInt(int(fd), unix.SIOCINQ)
			t.Fatalf("%d bytes queued after %v, want %d (is net.core.rmem_max under 1 MiB?)", q, bound, n)
		}
		return
	}
}

// TestNativeReadTurn: a socket alone in a Wait's events reads on while
// it fills the buffer, up to aloneReads buffers; two ready sockets get one
// buffer each per Wait, so neither waits behind the other's backlog.
func TestNativeReadTurn(t *testing.T) {
	e := testNative(t)
	const queued = (aloneReads + 1) * readSize
	add := func() (*nativeConn, *recorder) {
		client, server := bigWindowPair(t)
		h := newRecorder(t)
		c, err := e.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		go server.Write(randomBytes(queued+100, 3))
		nc := c.(*nativeConn)
		awaitQueued(t, nc.fd, queued)
		return nc, h
	}

	_, alone := add()
	if err := e.Wait(0); err != nil {
		t.Fatal(err)
	}
	if alone.reads != aloneReads || len(alone.data) != aloneReads*readSize {
		t.Fatalf("alone: %d reads, %d bytes in one Wait; want %d and %d", alone.reads, len(alone.data), aloneReads, aloneReads*readSize)
	}
	// The rest comes in the next Wait: the turn ended, the data did not.
	waitFor(t, e, "the rest", func() bool { return len(alone.data) == queued+100 })

	_, a := add()
	_, b := add()
	if err := e.Wait(0); err != nil {
		t.Fatal(err)
	}
	for i, h := range []*recorder{a, b} {
		if h.reads != 1 || len(h.data) != readSize {
			t.Fatalf("socket %d of two: %d reads, %d bytes in one Wait; want 1 and %d", i, h.reads, len(h.data), readSize)
		}
	}
}
