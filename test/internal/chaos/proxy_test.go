package chaos

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestResetAll(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	c := dial(t, p)
	roundTrip(t, c, "before")

	p.ResetAll()
	if got, err := readEnd(t, c); len(got) != 0 || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the client read %q, %v; want ECONNRESET", got, err)
	}
	if err := s.end(t); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the upstream connection ended with %v, want ECONNRESET", err)
	}
	if n := p.Open(); n != 0 {
		t.Errorf("Open() = %d after ResetAll, want 0", n)
	}
	roundTrip(t, dial(t, p), "after")
}

func TestCloseAll(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	c := dial(t, p)
	roundTrip(t, c, "before")

	// Bytes the proxy has not read when it closes would make a plain
	// Close send an RST: CloseAll must send a FIN all the same.
	p.SetFault(Stall)
	if _, err := c.Write([]byte("unread")); err != nil {
		t.Fatal(err)
	}
	silent(t, c)
	if n := unread(t, p); n != len("unread") {
		t.Fatalf("the proxy's socket holds %d unread bytes, want %d", n, len("unread"))
	}
	p.CloseAll()
	if got, err := readEnd(t, c); len(got) != 0 || err != io.EOF {
		t.Errorf("the client read %q, %v; want EOF alone", got, err)
	}
	if err := s.end(t); err != nil {
		t.Errorf("the upstream connection ended with %v, want EOF", err)
	}
	if n := p.Open(); n != 0 {
		t.Errorf("Open() = %d after CloseAll, want 0", n)
	}
	p.SetFault(Pass)
	roundTrip(t, dial(t, p), "after")
}

func TestUpstreamDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	p, err := Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := refused(t, p); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the client's connection ended with %v, want ECONNRESET", err)
	}
}

func TestWaitAccepted(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	// Dialled behind WaitAccepted's back, which must wake for each.
	dialed := make(chan net.Conn, 3)
	go func() {
		for range 3 {
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Error(err)
			}
			dialed <- c
		}
	}()
	if err := p.WaitAccepted(ctx(t), 3); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if c := <-dialed; c != nil {
			defer c.Close()
		}
	}
	if n := p.Accepted(); n != 3 {
		t.Errorf("Accepted() = %d, want 3", n)
	}

	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.WaitAccepted(short, 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitAccepted with no 4th connection: %v, want a context error", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitAccepted(ctx(t), 4); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WaitAccepted after Close: %v, want net.ErrClosed", err)
	}
}

func TestListenOnlyLoopback(t *testing.T) {
	for _, addr := range []string{"192.0.2.1:80", "example.com:80", "0.0.0.0:80", "nonsense"} {
		if p, err := Listen(addr); err == nil {
			_ = p.Close()
			t.Errorf("Listen(%q) succeeded; only loopback may be proxied", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1"} {
		p, err := Listen(addr)
		if err != nil {
			t.Errorf("Listen(%q): %v", addr, err)
			continue
		}
		_ = p.Close()
	}
}

func TestFaultString(t *testing.T) {
	for f, want := range map[Fault]string{
		Pass: "Pass", Stall: "Stall", Blackhole: "Blackhole", HalfOpen: "HalfOpen",
		Refuse: "Refuse", Delay(150 * time.Millisecond): "Delay(150ms)", {}: "Pass",
	} {
		if got := f.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

// unread is the number of bytes the kernel holds, received and not yet
// read, in the proxy's socket to the client of p's only connection.
func unread(t *testing.T, p *Proxy) int {
	t.Helper()
	p.mu.Lock()
	var c *net.TCPConn
	for l := range p.links {
		if c != nil {
			t.Fatal("the proxy has more than one connection")
		}
		c = l.client
	}
	p.mu.Unlock()
	if c == nil {
		t.Fatal("the proxy has no connection")
	}
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := raw.Control(func(fd uintptr) { n, err = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}
