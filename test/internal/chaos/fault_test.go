package chaos

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPass(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	c := dial(t, p)
	roundTrip(t, c, "hello")
	roundTrip(t, c, "world!")
	if n := p.Open(); n != 1 {
		t.Errorf("Open() = %d, want 1", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Exact once Close has returned.
	if up, down := p.ToUpstream(), p.ToClient(); up != 11 || down != 11 {
		t.Errorf("ToUpstream() = %d, ToClient() = %d, want 11 and 11", up, down)
	}
}

// stream is the bytes a test sends to check that they come back whole and
// in order: the same seed gives the same bytes to the writer and to the
// reader that checks them.
func stream() *rand.ChaCha8 { return rand.NewChaCha8([32]byte{'c', 'h', 'a', 'o', 's'}) }

// expectStream reads n bytes from c and checks that they are the first n
// of a new stream().
func expectStream(t *testing.T, c io.Reader, n int64) {
	t.Helper()
	want, got := stream(), make([]byte, 64<<10)
	exp := make([]byte, len(got))
	for read := int64(0); read < n; {
		k := min(int64(len(got)), n-read)
		if _, err := io.ReadFull(c, got[:k]); err != nil {
			t.Fatalf("after %d of %d bytes: %v", read, n, err)
		}
		_, _ = want.Read(exp[:k])
		if !bytes.Equal(got[:k], exp[:k]) {
			t.Fatalf("bytes %d to %d differ from what was sent", read, read+k)
		}
		read += k
	}
}

func TestStall(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	c := dial(t, p)
	// After a round trip both of the proxy's readers are blocked in
	// Read: SetFault must get them out, or they would forward what
	// comes next.
	roundTrip(t, c, "before")
	received, forwarded := s.received.Load(), p.ToUpstream()
	p.SetFault(Stall)

	if _, err := c.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	silent(t, c)
	// Not read and held by the proxy: left in the kernel.
	if n := unread(t, p); n != len("held") {
		t.Fatalf("the proxy's socket holds %d unread bytes, want %d", n, len("held"))
	}

	// The proxy reads nothing, so the kernel's buffers fill and the
	// client's writes block: write until one times out.
	src, piece := stream(), make([]byte, 256<<10)
	var sent int64
	for {
		_, _ = src.Read(piece)
		_ = c.SetWriteDeadline(time.Now().Add(quiet))
		n, err := c.Write(piece)
		sent += int64(n)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if sent > 256<<20 {
			t.Fatalf("%d bytes written and the writer never blocked", sent)
		}
	}
	_ = c.SetWriteDeadline(time.Time{})
	t.Logf("the client's writes blocked after %d bytes, with %d unread in the proxy's socket", sent, unread(t, p))

	if got := s.received.Load(); got != received {
		t.Errorf("the server received %d bytes during the stall", got-received)
	}
	if got := p.ToUpstream(); got != forwarded {
		t.Errorf("the proxy forwarded %d bytes during the stall", got-forwarded)
	}
	select {
	case err := <-s.ends:
		t.Fatalf("the upstream connection ended during the stall: %v", err)
	default:
	}
	if n := p.Open(); n != 1 {
		t.Errorf("Open() = %d during the stall, want 1", n)
	}

	// Everything that piled up is forwarded, in order.
	p.SetFault(Pass)
	expect(t, c, "held")
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	expectStream(t, c, sent)
	_ = c.SetReadDeadline(time.Time{})
	roundTrip(t, c, "after")
}

func TestBlackhole(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	c := dial(t, p)
	roundTrip(t, c, "before")
	received := s.received.Load()
	p.SetFault(Blackhole)

	// Twice what the kernel's buffers could hold if the proxy stopped
	// reading: it goes through only because the proxy keeps reading.
	_ = c.SetWriteDeadline(time.Now().Add(timeout))
	if n, err := c.Write(make([]byte, 2*buffered(t))); err != nil {
		t.Fatalf("the writer blocked after %d bytes: %v", n, err)
	}
	silent(t, c)
	if got := s.received.Load(); got != received {
		t.Errorf("the server received %d bytes through the blackhole", got-received)
	}

	// The connection's bytes are lost, and a connection made after the
	// path heals works.
	p.SetFault(Pass)
	roundTrip(t, dial(t, p), "after")
}

func TestDelay(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	c := dial(t, p)
	roundTrip(t, c, "before")

	const d = 100 * time.Millisecond
	p.SetFault(Delay(d))
	start := time.Now()
	roundTrip(t, c, "ping")
	if rtt := time.Since(start); rtt < 2*d {
		t.Errorf("a round trip took %v under Delay(%v), want at least %v", rtt, d, 2*d)
	}

	// A latency line, not a throughput cap: 4 MiB is at least 128 reads
	// of the proxy's, which would take 12.8 s each way if each waited
	// for the one before. Checked in order.
	const size = 4 << 20
	start = time.Now()
	werr := make(chan error, 1)
	go func() {
		src, piece := stream(), make([]byte, 64<<10)
		for sent := 0; sent < size; sent += len(piece) {
			_, _ = src.Read(piece)
			if _, err := c.Write(piece); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	expectStream(t, c, size)
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 2*d || el > 6*time.Second {
		t.Errorf("%d bytes took %v to come back under Delay(%v), want between %v and 6s", size, el, d, 2*d)
	}
}

func TestHalfOpen(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	c := dial(t, p)
	roundTrip(t, c, "before")

	p.SetFault(HalfOpen)
	if err := s.end(t); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the upstream connection ended with %v, want ECONNRESET", err)
	}
	// The client sees a live connection: its writes succeed, and no
	// byte, FIN or RST comes back.
	if _, err := c.Write([]byte("anyone?")); err != nil {
		t.Fatal(err)
	}
	silent(t, c)
	if n := p.Open(); n != 1 {
		t.Errorf("Open() = %d, want 1: the client's side stays open", n)
	}

	// A new connection gets the same.
	c2 := dial(t, p)
	if _, err := c2.Write([]byte("hello?")); err != nil {
		t.Fatal(err)
	}
	silent(t, c2)
	if err := s.end(t); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the new upstream connection ended with %v, want ECONNRESET", err)
	}

	// Healing the path does not bring the upstream back.
	p.SetFault(Pass)
	silent(t, c)
	// CloseAll ends the orphans with a FIN.
	p.CloseAll()
	for _, c := range []net.Conn{c, c2} {
		if got, err := readEnd(t, c); len(got) != 0 || err != io.EOF {
			t.Errorf("the orphan read %q, %v; want EOF alone", got, err)
		}
	}
}

func TestRefuse(t *testing.T) {
	t.Parallel()
	s := startEcho(t)
	p := startProxy(t, s)
	old := dial(t, p)
	roundTrip(t, old, "before")

	p.SetFault(Refuse)
	if err := refused(t, p); !errors.Is(err, syscall.ECONNRESET) && err != io.EOF {
		t.Errorf("a refused connection ended with %v, want ECONNRESET or EOF", err)
	}
	if err := p.WaitAccepted(ctx(t), 2); err != nil {
		t.Fatal(err)
	}
	if n := p.Open(); n != 1 {
		t.Errorf("Open() = %d, want 1: the refused connection is not open", n)
	}
	roundTrip(t, old, "untouched")

	p.SetFault(Pass)
	roundTrip(t, dial(t, p), "after")
}

// buffered is the most a sender's kernel and a receiver's that does not
// read can hold of one loopback connection: the sender's largest send
// buffer (tcp_wmem's third field), and the receiver's receive buffer,
// which grows only as it is read (its start, tcp_rmem's second field; a
// round trip's reading lets it grow a little, hence 1 MiB more).
func buffered(t *testing.T) int {
	t.Helper()
	field := func(name string, i int) int {
		b, err := os.ReadFile("/proc/sys/net/ipv4/" + name)
		if err != nil {
			return 32 << 20 // not Linux: guess big
		}
		f := strings.Fields(string(b))
		n, err := strconv.Atoi(f[i])
		if err != nil {
			t.Fatalf("%s: %q", name, b)
		}
		return n
	}
	return field("tcp_wmem", 2) + field("tcp_rmem", 1) + 1<<20
}
