package chaos

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echoServer is the upstream of the tests: it echoes what each connection
// sends, counts what it received, and reports how each connection ended.
type echoServer struct {
	ln       net.Listener
	wg       sync.WaitGroup
	received atomic.Int64
	ends     chan error // each connection's end: nil for EOF, or the read error

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// startEcho starts an echo server on loopback, closed at t's cleanup.
func startEcho(t testing.TB) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{ln: ln, ends: make(chan error, 64), conns: make(map[net.Conn]struct{})}
	s.wg.Go(s.accept)
	t.Cleanup(s.Close)
	return s
}

func (s *echoServer) Addr() string { return s.ln.Addr().String() }

func (s *echoServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() { s.echo(c) })
	}
}

func (s *echoServer) echo(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		s.received.Add(int64(n))
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			select {
			case s.ends <- err:
			default: // nobody is counting (the cycle test)
			}
			return
		}
	}
}

// Close stops the server and waits for its goroutines, its connections
// closed.
func (s *echoServer) Close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// end waits for the next connection of s to end and returns how.
func (s *echoServer) end(t testing.TB) error {
	t.Helper()
	select {
	case err := <-s.ends:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no upstream connection ended within 10s")
		return nil
	}
}

// startProxy starts a proxy in front of s, closed at t's cleanup.
func startProxy(t testing.TB, s *echoServer) *Proxy {
	t.Helper()
	p, err := Listen(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// dial connects to p, and closes the connection at t's cleanup.
func dial(t testing.TB, p *Proxy) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

// timeout bounds what must happen, generously: machines are noisy.
const timeout = 10 * time.Second

// quiet is how long a test watches for what must not happen.
const quiet = 200 * time.Millisecond

// roundTrip sends msg on c and checks that it comes back.
func roundTrip(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	expect(t, c, msg)
}

// expect reads len(want) bytes from c and checks them.
func expect(t testing.TB, c net.Conn, want string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read %q: %v after %q", want, err, got)
	}
	if string(got) != want {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// silent checks that nothing arrives on c, neither bytes nor an end,
// for quiet.
func silent(t testing.TB, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(quiet))
	defer c.SetReadDeadline(time.Time{})
	var b [1]byte
	n, err := c.Read(b[:])
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes, %v; want a timeout: the connection must be open and silent", n, err)
	}
}

// readEnd reads c until it ends and returns the error that ended it, with
// the bytes read before.
func readEnd(t testing.TB, c net.Conn) ([]byte, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var got bytes.Buffer
	_, err := got.ReadFrom(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the connection did not end within %v", timeout)
	}
	if err == nil {
		err = io.EOF // ReadFrom swallows it
	}
	return got.Bytes(), err
}

// refused connects to p and returns how the connection ended, with no byte
// read: the proxy resets it so soon that the connect itself may see the
// RST, as a client connecting to a host with no server does.
func refused(t testing.TB, p *Proxy) error {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	got, err := readEnd(t, c)
	if len(got) != 0 {
		t.Errorf("a refused connection read %q", got)
	}
	return err
}

// ctx is a context ended by the test's end or by timeout.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return c
}
