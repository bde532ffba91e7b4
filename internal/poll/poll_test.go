package poll

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// pollerCase is one Poller implementation under test; every test here runs
// against each of them.
type pollerCase struct {
	name string
	new  func() (Poller, error)
}

// pollerCases lists the Pollers of this platform; the Linux test file adds
// Native.
var pollerCases = []pollerCase{
	{"portable", func() (Poller, error) { return NewPortable(), nil }},
}

// bound is how long a test waits for something that should happen at once
// before it fails.
const bound = 10 * time.Second

func forEachPoller(t *testing.T, f func(t *testing.T, p Poller)) {
	for _, pc := range pollerCases {
		t.Run(pc.name, func(t *testing.T) {
			p, err := pc.new()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			f(t, p)
		})
	}
}

// recorder is a Handler that keeps what it is told. The poller calls it on
// the goroutine that runs Wait, which in these tests is the test's own, so
// its fields need no lock; the hooks let a test react inside a call.
type recorder struct {
	t         *testing.T
	data      []byte
	reads     int
	writables int
	hangups   int
	hangErr   error
	// closed is set by the test once it has closed the Conn: any call
	// after that breaks the contract.
	closed bool

	onRead     func(p []byte)
	onWritable func()
	onHangup   func(err error)
	keep       bool // append reads to data
}

func newRecorder(t *testing.T) *recorder { return &recorder{t: t, keep: true} }

func (r *recorder) OnRead(p []byte) {
	r.check("OnRead")
	if len(p) == 0 {
		r.t.Error("OnRead with no bytes")
	}
	if r.hangups > 0 {
		r.t.Error("OnRead after OnHangup")
	}
	r.reads++
	if r.keep {
		r.data = append(r.data, p...)
	}
	if r.onRead != nil {
		r.onRead(p)
	}
}

func (r *recorder) OnWritable() {
	r.check("OnWritable")
	r.writables++
	if r.onWritable != nil {
		r.onWritable()
	}
}

func (r *recorder) OnHangup(err error) {
	r.check("OnHangup")
	r.hangups++
	r.hangErr = err
	if r.onHangup != nil {
		r.onHangup(err)
	}
}

func (r *recorder) check(call string) {
	if r.closed {
		r.t.Errorf("%s after Close", call)
	}
}

// waitFor runs p's Wait on the calling goroutine until cond holds.
func waitFor(t *testing.T, p Poller, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		if err := p.Wait(50 * time.Millisecond); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	return dialPair(t, net.Dialer{})
}

// dialPair is tcpPair with the client end dialed by d.
func dialPair(t testing.TB, d net.Dialer) (client, server *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeAll writes data to c with Wait running on the calling goroutine,
// waiting for OnWritable after each short Write; it returns how many
// Writes were short.
func writeAll(t *testing.T, p Poller, c Conn, h *recorder, data []byte) int {
	t.Helper()
	shorts := 0
	for len(data) > 0 {
		n, err := c.Write(data)
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		data = data[n:]
		if len(data) > 0 {
			shorts++
			w := h.writables
			waitFor(t, p, "OnWritable", func() bool { return h.writables > w })
		}
	}
	return shorts
}

// settle runs Wait a few times so that a call that should not come has its
// chance to.
func settle(t *testing.T, p Poller) {
	t.Helper()
	for range 3 {
		if err := p.Wait(10 * time.Millisecond); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
}

// waitGoroutines polls, boundedly, until the number of goroutines is back
// to at most n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRead(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		want := append([]byte("first"), randomBytes(300<<10, 1)...)
		go func() {
			server.Write(want[:5])
			server.Write(want[5:])
		}()
		waitFor(t, p, "all the data", func() bool { return len(h.data) >= len(want) })
		if !bytes.Equal(h.data, want) {
			t.Fatal("data read differs from data written")
		}
		if h.hangups != 0 || h.writables != 0 {
			t.Fatalf("hangups %d, writables %d", h.hangups, h.writables)
		}
	})
}

// TestBigWrite writes 32 MiB from another goroutine to a peer that starts
// reading, a little at a time, only once the writer is pushed back.
func TestBigWrite(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		data := randomBytes(32<<20, 2)
		writable := make(chan struct{}, 1)
		h := newRecorder(t)
		h.keep = false
		h.onWritable = func() {
			select {
			case writable <- struct{}{}:
			default:
			}
		}
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()

		pushedBack := make(chan struct{})
		type result struct {
			shorts int
			err    error
		}
		wrote := make(chan result, 1)
		go func() {
			shorts := 0
			for off := 0; off < len(data); {
				n, err := c.Write(data[off:])
				if err != nil {
					wrote <- result{shorts, err}
					return
				}
				off += n
				if off == len(data) {
					break
				}
				shorts++
				if shorts == 1 {
					close(pushedBack)
				}
				select {
				case <-writable:
				case <-time.After(bound):
					wrote <- result{shorts, errors.New("no OnWritable after a short Write")}
					return
				}
			}
			wrote <- result{shorts, nil}
		}()
		sums := make(chan [32]byte, 1)
		go func() {
			<-pushedBack
			s := sha256.New()
			buf := make([]byte, 4<<10)
			for got := 0; got < len(data); {
				n, err := server.Read(buf)
				s.Write(buf[:n])
				got += n
				if err != nil {
					break
				}
			}
			var sum [32]byte
			s.Sum(sum[:0])
			sums <- sum
		}()

		var res *result
		var sum *[32]byte
		waitFor(t, p, "the writer and the reader", func() bool {
			select {
			case r := <-wrote:
				res = &r
			case s := <-sums:
				sum = &s
			default:
			}
			return res != nil && sum != nil
		})
		if res.err != nil {
			t.Fatal(res.err)
		}
		if res.shorts == 0 || h.writables == 0 {
			t.Fatalf("%d short writes, %d OnWritable: the peer never pushed back", res.shorts, h.writables)
		}
		if *sum != sha256.Sum256(data) {
			t.Fatal("the peer received other bytes than were written")
		}
		t.Logf("%d short writes, %d OnWritable", res.shorts, h.writables)
	})
}

func TestWake(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		done := make(chan error, 1)
		go func() { done <- p.Wait(-1) }()
		p.Wake()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(bound):
			t.Fatal("Wake did not end Wait(-1)")
		}

		// Many Wakes before a Wait end that one Wait and no other.
		ready := make(chan struct{})
		for range 8 {
			go func() {
				for range 1000 {
					p.Wake()
				}
				ready <- struct{}{}
			}()
		}
		for range 8 {
			<-ready
		}
		go func() { done <- p.Wait(-1) }()
		select {
		case <-done:
		case <-time.After(bound):
			t.Fatal("Wait(-1) after Wakes did not return")
		}
		start := time.Now()
		p.Wait(20 * time.Millisecond)
		if d := time.Since(start); d < 20*time.Millisecond {
			t.Fatalf("Wait after coalesced Wakes returned after %v: a Wake was left over", d)
		}
	})
}

func TestWaitTimeout(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		for _, d := range []time.Duration{0, 300 * time.Microsecond, 30 * time.Millisecond} {
			start := time.Now()
			if err := p.Wait(d); err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			if took < d || took > d+2*time.Second {
				t.Errorf("Wait(%v) took %v", d, took)
			}
		}
	})
}

func TestHangupOnEOF(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		server.Write([]byte("last words"))
		server.Close()
		waitFor(t, p, "OnHangup", func() bool { return h.hangups > 0 })
		if h.hangErr != nil {
			t.Fatalf("OnHangup(%v), want nil", h.hangErr)
		}
		if string(h.data) != "last words" {
			t.Fatalf("read %q", h.data)
		}
		// The end of input is reported once, and the poller does not spin
		// on it while the handler keeps the connection open: over 50 ms,
		// Wait(5ms) returns about ten times (a wake-up left over from the
		// hangup may end one early); spinning, it would return thousands of
		// times. A slow machine only lowers the count.
		waits := 0
		for start := time.Now(); time.Since(start) < 50*time.Millisecond; waits++ {
			if err := p.Wait(5 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		if waits > 30 {
			t.Errorf("Wait(5ms) returned %d times in 50ms after the hangup", waits)
		}
		if h.hangups != 1 {
			t.Fatalf("%d OnHangup calls", h.hangups)
		}
		// Writing is still allowed after the peer's FIN.
		if _, err := c.Write([]byte("x")); err != nil {
			t.Logf("Write after hangup: %v", err)
		}
	})
}

// TestHangupOnReset: a reset ends the input with OnHangup(err), err being
// ECONNRESET, for both pollers.
func TestHangupOnReset(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		server.SetLinger(0)
		server.Close()
		waitFor(t, p, "OnHangup", func() bool { return h.hangups > 0 })
		if !errors.Is(h.hangErr, syscall.ECONNRESET) {
			t.Fatalf("OnHangup(%v), want ECONNRESET", h.hangErr)
		}
		settle(t, p)
		if h.hangups != 1 {
			t.Fatalf("%d OnHangup calls", h.hangups)
		}
		// Writing to a reset connection fails, now or once the writer
		// finds out.
		waitFor(t, p, "a failing Write", func() bool {
			_, err := c.Write([]byte("x"))
			return err != nil
		})
	})
}

func TestCloseWrite(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		data := randomBytes(8<<20, 3)
		got := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(server)
			got <- b
			server.Write([]byte("answer"))
			server.Close()
		}()
		writeAll(t, p, c, h, data)
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("late")); err == nil {
			t.Error("Write after CloseWrite succeeded")
		}
		var b []byte
		waitFor(t, p, "the peer's EOF", func() bool {
			select {
			case b = <-got:
				return true
			default:
				return false
			}
		})
		if !bytes.Equal(b, data) {
			t.Fatalf("peer read %d bytes before EOF, want the %d written", len(b), len(data))
		}
		waitFor(t, p, "the answer and OnHangup", func() bool { return h.hangups > 0 })
		if string(h.data) != "answer" || h.hangErr != nil {
			t.Fatalf("read %q, OnHangup(%v)", h.data, h.hangErr)
		}
	})
}

func TestClose(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		base := runtime.NumGoroutine()
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		server.Write([]byte("hello"))
		waitFor(t, p, "a read", func() bool { return h.reads > 0 })
		if _, err := c.Write([]byte("bye")); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		h.closed = true
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := c.Write([]byte("x")); err == nil {
			t.Error("Write after Close succeeded")
		}
		server.SetReadDeadline(time.Now().Add(bound))
		b, err := io.ReadAll(server)
		if err != nil || string(b) != "bye" {
			t.Fatalf("peer read %q, %v; want what was written, then EOF", b, err)
		}
		server.Write([]byte("anyone there?"))
		server.Close()
		settle(t, p)
		waitGoroutines(t, base)
	})
}

// TestCloseInHandler closes the connection from its OnRead while more
// input is queued: nothing may follow.
func TestCloseInHandler(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		h := newRecorder(t)
		var c Conn
		h.onRead = func([]byte) {
			c.Close()
			h.closed = true
		}
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			server.Write(randomBytes(1<<20, 4))
			server.Close()
		}()
		waitFor(t, p, "a read", func() bool { return h.reads > 0 })
		settle(t, p)
		if h.reads != 1 || h.hangups != 0 {
			t.Fatalf("%d reads, %d hangups after Close", h.reads, h.hangups)
		}
	})
}

func TestPollerClose(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		var servers []*net.TCPConn
		var hs []*recorder
		for range 3 {
			client, server := tcpPair(t)
			h := newRecorder(t)
			if _, err := p.Add(client, h); err != nil {
				t.Fatal(err)
			}
			servers = append(servers, server)
			hs = append(hs, h)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			h.closed = true
		}
		for _, s := range servers {
			s.SetReadDeadline(time.Now().Add(bound))
			if n, err := s.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("peer read %d, %v; want EOF", n, err)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		client, _ := tcpPair(t)
		if _, err := p.Add(client, newRecorder(t)); err == nil {
			t.Fatal("Add after Close succeeded")
		}
		// A loop may still wait for its timers and be woken.
		start := time.Now()
		if err := p.Wait(5 * time.Millisecond); err != nil {
			t.Fatalf("Wait after Close: %v", err)
		}
		if time.Since(start) < 5*time.Millisecond {
			t.Fatal("Wait after Close did not wait")
		}
		done := make(chan error, 1)
		go func() { done <- p.Wait(-1) }()
		p.Wake()
		select {
		case <-done:
		case <-time.After(bound):
			t.Fatal("Wake after Close did not end Wait(-1)")
		}
	})
}

// TestPipe runs a connection that is no socket: both pollers serve it with
// goroutines, which must all end with the connection.
func TestPipe(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		base := runtime.NumGoroutine()
		a, b := net.Pipe()
		defer b.Close()
		h := newRecorder(t)
		c, err := p.Add(a, h)
		if err != nil {
			t.Fatal(err)
		}
		go b.Write([]byte("ping"))
		waitFor(t, p, "ping", func() bool { return string(h.data) == "ping" })
		got := make(chan string, 1)
		go func() {
			buf := make([]byte, 4)
			n, _ := io.ReadFull(b, buf)
			got <- string(buf[:n])
		}()
		if n, err := c.Write([]byte("pong")); n != 4 || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
		select {
		case s := <-got:
			if s != "pong" {
				t.Fatalf("peer read %q", s)
			}
		case <-time.After(bound):
			t.Fatal("the peer did not get the write")
		}
		c.Close()
		h.closed = true
		b.Close()
		settle(t, p)
		waitGoroutines(t, base)
	})
}

// A paused connection is not read, not even for its end, until it is
// resumed; then everything arrives, in order, and the hangup after it.
func TestSetPaused(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		h := newRecorder(t)
		var c Conn
		paused := false
		h.onRead = func([]byte) {
			if !paused {
				paused = true
				c.SetPaused(true)
			}
		}
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// More than one read takes; a pattern of a prime length, cheaper
		// to make than random bytes and still out of step with any read.
		want := bytes.Repeat(randomBytes(4099, 2), 256)
		go func() {
			server.Write(want)
			server.Close()
		}()
		waitFor(t, p, "the first read", func() bool { return h.reads > 0 })
		reads := h.reads
		settle(t, p)
		if h.reads != reads || h.hangups != 0 {
			t.Fatalf("paused after read %d: %d reads and %d hangups followed", reads, h.reads-reads, h.hangups)
		}
		c.SetPaused(false)
		waitFor(t, p, "the rest and the hangup", func() bool { return h.hangups > 0 })
		if !bytes.Equal(h.data, want) {
			t.Fatalf("read %d bytes, not the %d written", len(h.data), len(want))
		}
	})
}

// Unsent counts what the peer has not taken yet: past what its receive
// buffer holds, the bytes wait on our side; once it reads them all, none.
func TestUnsent(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tcpPair(t)
		server.SetReadBuffer(16 << 10)
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if n := c.Unsent(); n == -1 {
			t.Skip("the system does not tell")
		} else if n != 0 {
			t.Fatalf("Unsent of a new connection = %d", n)
		}
		data := bytes.Repeat([]byte("unsent!"), 1<<20)
		n, err := c.Write(data)
		if err != nil {
			t.Fatal(err)
		}
		// The portable poller may count its writer's buffer twice, in
		// its hands and in the kernel's, while it is being handed over.
		if q := c.Unsent(); q <= 0 || q > 2*n {
			t.Fatalf("Unsent after %d bytes accepted and none read = %d", n, q)
		}
		got := make(chan int64)
		go func() {
			m, _ := io.CopyN(io.Discard, server, int64(n))
			got <- m
		}()
		if m := <-got; m != int64(n) {
			t.Fatalf("the peer read %d of %d bytes", m, n)
		}
		waitFor(t, p, "Unsent to fall to 0", func() bool { return c.Unsent() == 0 })
	})
}
