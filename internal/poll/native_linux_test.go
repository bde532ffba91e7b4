package poll

import (
	"encoding/binary"
	"io"
	"runtime"
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
	n, errno := epollWait(e.sys.epfd, e.sys.events[:], int(bound/time.Millisecond))
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
