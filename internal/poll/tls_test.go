package poll

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testCert is a self-signed certificate for 127.0.0.1, made once per test
// binary, and the pool that trusts it.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "poll test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, roots
})

func serverConfig() *tls.Config {
	cert, _ := testCert()
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

func clientConfig() *tls.Config {
	_, roots := testCert()
	return &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
}

// tlsPair returns both ends of a loopback TLS connection, handshake done,
// the client straight over TCP: a Poller serves it with goroutines.
func tlsPair(t *testing.T) (client, server *tls.Conn) {
	t.Helper()
	tc, ts := tcpPair(t)
	return handshake(t, tls.Client(tc, clientConfig()), tls.Server(ts, serverConfig()))
}

func handshake(t testing.TB, client, server *tls.Conn) (*tls.Conn, *tls.Conn) {
	t.Helper()
	errs := make(chan error, 1)
	go func() { errs <- server.Handshake() }()
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return client, server
}

// pairOptions adjusts bridgePair.
type pairOptions struct {
	client, server func(*tls.Config)
	// wrap is put between the server's tls.Conn and its TCP connection.
	wrap func(*net.TCPConn) net.Conn
	// early: return once the client's handshake is done; the server's
	// goes on in the background.
	early bool
}

// bridgePair is tlsPair with the client over a Bridge, as dial makes it:
// a Native takes its socket over.
func bridgePair(t testing.TB, o pairOptions) (client, server *tls.Conn) {
	t.Helper()
	tc, ts := tcpPair(t)
	ccfg, scfg := clientConfig(), serverConfig()
	if o.client != nil {
		o.client(ccfg)
	}
	if o.server != nil {
		o.server(scfg)
	}
	var sc net.Conn = ts
	if o.wrap != nil {
		sc = o.wrap(ts)
	}
	client, server = tls.Client(NewBridge(tc), ccfg), tls.Server(sc, scfg)
	if o.early {
		go server.Handshake()
		if err := client.Handshake(); err != nil {
			t.Fatal(err)
		}
		return client, server
	}
	return handshake(t, client, server)
}

// tlsVersions runs f with TLS 1.3, the default, and with TLS 1.2.
func tlsVersions(t *testing.T, f func(t *testing.T, o pairOptions)) {
	t.Run("tls13", func(t *testing.T) { f(t, pairOptions{}) })
	t.Run("tls12", func(t *testing.T) {
		f(t, pairOptions{server: func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }})
	})
}

// recv returns a channel that gets the value f returns, run on its own
// goroutine; the test's goroutine runs Wait meanwhile.
func recv[T any](f func() T) <-chan T {
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return ch
}

// await runs Wait until ch delivers.
func await[T any](t *testing.T, p Poller, what string, ch <-chan T) T {
	t.Helper()
	var v T
	waitFor(t, p, what, func() bool {
		select {
		case v = <-ch:
			return true
		default:
			return false
		}
	})
	return v
}

func TestTLS(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := tlsPair(t)
		base := runtime.NumGoroutine()
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		want := randomBytes(200<<10, 5)
		go server.Write(want)
		waitFor(t, p, "the data", func() bool { return len(h.data) >= len(want) })
		if string(h.data) != string(want) {
			t.Fatal("read other bytes than the peer wrote")
		}
		got := recv(func() string {
			buf := make([]byte, 5)
			n, _ := io.ReadFull(server, buf)
			return string(buf[:n])
		})
		writeAll(t, p, c, h, []byte("hello"))
		if s := await(t, p, "the peer's read", got); s != "hello" {
			t.Fatalf("peer read %q", s)
		}
		c.Close()
		h.closed = true
		settle(t, p)
		waitGoroutines(t, base)
	})
}

// TestTLSBridge: round trips over a bridged tls.Conn, for every Poller and
// both TLS versions, and the Bridge keeps the addresses.
func TestTLSBridge(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		tlsVersions(t, func(t *testing.T, o pairOptions) {
			client, server := bridgePair(t, o)
			laddr, raddr := client.LocalAddr().String(), client.RemoteAddr().String()
			h := newRecorder(t)
			c, err := p.Add(client, h)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go echo(server)
			for i, size := range []int{1, 100, 16 << 10, 16<<10 + 1, 100 << 10} {
				msg := randomBytes(size, uint64(i))
				h.data = h.data[:0]
				writeAll(t, p, c, h, msg)
				waitFor(t, p, "the echo", func() bool { return len(h.data) >= size })
				if !bytes.Equal(h.data, msg) {
					t.Fatalf("size %d: the echo differs", size)
				}
			}
			if client.LocalAddr().String() != laddr || client.RemoteAddr().String() != raddr {
				t.Fatalf("addresses %v %v after Add, were %s %s", client.LocalAddr(), client.RemoteAddr(), laddr, raddr)
			}
		})
	})
}

// TestTLSBigTransfer moves 16 MiB each way at once through a bridged
// tls.Conn. The peer starts reading only once the client's writes come
// back short, so writes are pushed back and OnWritable drives them.
func TestTLSBigTransfer(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		const size = 16 << 20
		client, server := bridgePair(t, pairOptions{})
		up, down := randomBytes(size, 10), randomBytes(size, 11)
		h := newRecorder(t)
		h.keep = false
		sum := sha256.New()
		got := 0
		h.onRead = func(p []byte) { sum.Write(p); got += len(p) }
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()

		pushedBack := make(chan struct{})
		sent := recv(func() error { _, err := server.Write(down); return err })
		received := recv(func() [32]byte {
			<-pushedBack
			s := sha256.New()
			io.CopyN(s, server, size)
			var d [32]byte
			s.Sum(d[:0])
			return d
		})
		shorts := 0
		for off := 0; off < size; {
			n, err := c.Write(up[off:])
			if err != nil {
				t.Fatal(err)
			}
			off += n
			if off < size {
				if shorts++; shorts == 1 {
					close(pushedBack)
				}
				w := h.writables
				waitFor(t, p, "OnWritable", func() bool { return h.writables > w })
			}
		}
		if shorts == 0 {
			close(pushedBack)
		}
		if d := await(t, p, "the peer's read", received); d != sha256.Sum256(up) {
			t.Fatal("the peer received other bytes than were written")
		}
		if err := await(t, p, "the peer's write", sent); err != nil {
			t.Fatal(err)
		}
		waitFor(t, p, "all the data", func() bool { return got >= size })
		if got != size || [32]byte(sum.Sum(nil)) != sha256.Sum256(down) {
			t.Fatalf("read %d bytes, other than the peer wrote", got)
		}
		if shorts == 0 || h.writables == 0 {
			t.Fatalf("%d short writes, %d OnWritable: the peer never pushed back", shorts, h.writables)
		}
		t.Logf("%d short writes, %d OnWritable, %d reads", shorts, h.writables, h.reads)
	})
}

// serverConn sits between a test server's tls.Conn and its socket, to
// shape what the client's socket receives.
type serverConn struct {
	*net.TCPConn
	// mode: 0 passes writes through; modeBytes writes byte by byte,
	// calling step after each; modeBatch holds writes until flush.
	mode  atomic.Int32
	step  func()
	held  []byte
	count atomic.Int32 // writes seen
	gate  chan struct{}
	gated int32 // the write from which on Write waits for gate
}

const (
	modeBytes = 1
	modeBatch = 2
)

func (s *serverConn) Write(p []byte) (int, error) {
	if n := s.count.Add(1); s.gate != nil && n >= s.gated {
		<-s.gate
	}
	switch s.mode.Load() {
	case modeBytes:
		for i := range p {
			if _, err := s.TCPConn.Write(p[i : i+1]); err != nil {
				return i, err
			}
			if s.step != nil {
				s.step()
			}
		}
		return len(p), nil
	case modeBatch:
		s.held = append(s.held, p...)
		return len(p), nil
	}
	return s.TCPConn.Write(p)
}

func (s *serverConn) flush() error {
	_, err := s.TCPConn.Write(s.held)
	s.held = nil
	return err
}

// TestTLSRecordSplit: the server's records reach the client a byte at a
// time (on Native, one socket read per byte: see epoll_tls_linux_test.go),
// and then many records in one segment.
func TestTLSRecordSplit(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		testRecordSplit(t, p, nil)
	})
}

func testRecordSplit(t *testing.T, p Poller, step func(sc *serverConn, c Conn)) {
	var sc *serverConn
	client, server := bridgePair(t, pairOptions{wrap: func(c *net.TCPConn) net.Conn {
		sc = &serverConn{TCPConn: c}
		return sc
	}})
	h := newRecorder(t)
	c, err := p.Add(client, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if step != nil {
		sc.step = func() { step(sc, c) }
	}
	sc.mode.Store(modeBytes)
	want := []byte("split")
	want = append(want, randomBytes(300, 12)...)
	done := recv(func() error {
		if _, err := server.Write(want[:5]); err != nil {
			return err
		}
		_, err := server.Write(want[5:])
		return err
	})
	if err := await(t, p, "the byte-by-byte writes", done); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "the split records", func() bool { return len(h.data) >= len(want) })
	if !bytes.Equal(h.data, want) {
		t.Fatalf("read %q, want %q", h.data, want)
	}

	// 200 records in one write of the server's socket.
	sc.mode.Store(modeBatch)
	var more []byte
	for i := range 200 {
		m := randomBytes(1+i%50, uint64(100+i))
		more = append(more, m...)
		if _, err := server.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	reads := h.reads
	h.data = h.data[:0]
	if err := sc.flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "the batched records", func() bool { return len(h.data) >= len(more) })
	if !bytes.Equal(h.data, more) {
		t.Fatal("the batched records read differ from those written")
	}
	t.Logf("200 records in %d OnRead calls", h.reads-reads)
}

// TestTLSBuffered: data that crypto/tls read along with the handshake, or
// with the application's own reads before Add, is delivered without the
// socket becoming readable again: the server sends nothing after it.
func TestTLSBuffered(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		tlsVersions(t, func(t *testing.T, o pairOptions) {
			var sc *serverConn
			o.wrap = func(c *net.TCPConn) net.Conn {
				sc = &serverConn{TCPConn: c}
				return sc
			}
			client, server := bridgePair(t, o)
			// Several records in one segment, then silence.
			sc.mode.Store(modeBatch)
			var want []byte
			for i := range 20 {
				m := randomBytes(100+i, uint64(200+i))
				want = append(want, m...)
				if _, err := server.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := sc.flush(); err != nil {
				t.Fatal(err)
			}
			// Read a little before Add, as the HTTP upgrade does: the rest
			// of that record and the records read with it stay in the
			// tls.Conn.
			first := make([]byte, 7)
			if _, err := io.ReadFull(client, first); err != nil {
				t.Fatal(err)
			}
			h := newRecorder(t)
			h.data = append(h.data, first...)
			c, err := p.Add(client, h)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			waitFor(t, p, "the buffered data", func() bool { return len(h.data) >= len(want) })
			if !bytes.Equal(h.data, want) {
				t.Fatal("read other bytes than the peer wrote")
			}
		})
	})
}

// TestTLSSessionTicket: TLS 1.3 session tickets that arrive after Add are
// consumed on the way (the client's session cache gets them) and the data
// after them flows. The server asks for a client certificate, which makes
// it send its tickets only after the client's Finished; its socket holds
// them back until the client is added.
func TestTLSSessionTicket(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		cache := tls.NewLRUClientSessionCache(4)
		var sc *serverConn
		gate := make(chan struct{})
		client, server := bridgePair(t, pairOptions{
			early:  true,
			client: func(c *tls.Config) { c.ClientSessionCache = cache },
			server: func(c *tls.Config) { c.ClientAuth = tls.RequestClientCert },
			wrap: func(c *net.TCPConn) net.Conn {
				// The server's first flight is one write; its tickets
				// are the second.
				sc = &serverConn{TCPConn: c, gate: gate, gated: 2}
				return sc
			},
		})
		if _, ok := cache.Get("127.0.0.1"); ok {
			t.Fatal("the session cache has a ticket before the server sent one")
		}
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		close(gate)
		go echo(server)
		writeAll(t, p, c, h, []byte("after the tickets"))
		waitFor(t, p, "the echo", func() bool { return string(h.data) == "after the tickets" })
		if _, ok := cache.Get("127.0.0.1"); !ok {
			t.Fatal("no session ticket in the client's cache")
		}
		if sc.count.Load() < 3 {
			t.Fatalf("%d server writes: tickets and echo expected", sc.count.Load())
		}
	})
}

// TestTLSCloseNotify: the server's close_notify, with or without data
// ahead of it and with the TCP connection still open, ends the input with
// OnHangup(nil); the client can still write.
func TestTLSCloseNotify(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := bridgePair(t, pairOptions{})
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		server.Write([]byte("last words"))
		if err := server.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, p, "OnHangup", func() bool { return h.hangups > 0 })
		if h.hangErr != nil || string(h.data) != "last words" {
			t.Fatalf("read %q, OnHangup(%v); want the last words and nil", h.data, h.hangErr)
		}
		got := recv(func() string {
			b := make([]byte, 5)
			n, _ := io.ReadFull(server, b)
			return string(b[:n])
		})
		writeAll(t, p, c, h, []byte("still"))
		if s := await(t, p, "the server's read", got); s != "still" {
			t.Fatalf("server read %q after its close_notify", s)
		}
		settle(t, p)
		if h.hangups != 1 {
			t.Fatalf("%d OnHangup calls", h.hangups)
		}
	})
}

// TestTLSTruncated: the peer's TCP EOF in the middle of a record is an
// error, io.ErrUnexpectedEOF, as crypto/tls reports it.
func TestTLSTruncated(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		var sc *serverConn
		client, server := bridgePair(t, pairOptions{wrap: func(c *net.TCPConn) net.Conn {
			sc = &serverConn{TCPConn: c}
			return sc
		}})
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sc.mode.Store(modeBatch)
		server.Write([]byte("cut short"))
		sc.TCPConn.Write(sc.held[:len(sc.held)-3])
		sc.TCPConn.Close()
		waitFor(t, p, "OnHangup", func() bool { return h.hangups > 0 })
		if !errors.Is(h.hangErr, io.ErrUnexpectedEOF) || len(h.data) != 0 {
			t.Fatalf("read %q, OnHangup(%v); want nothing and io.ErrUnexpectedEOF", h.data, h.hangErr)
		}
	})
}

// TestTLSCloseWrite: CloseWrite sends close_notify after every accepted
// byte; the server reads them and EOF, and its answer still arrives.
func TestTLSCloseWrite(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := bridgePair(t, pairOptions{})
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		data := randomBytes(4<<20, 13)
		got := recv(func() []byte {
			b, err := io.ReadAll(server)
			if err != nil {
				t.Errorf("server ReadAll: %v", err)
			}
			server.Write([]byte("answer"))
			server.Close()
			return b
		})
		writeAll(t, p, c, h, data)
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("late")); err == nil {
			t.Error("Write after CloseWrite succeeded")
		}
		if b := await(t, p, "the server's EOF", got); !bytes.Equal(b, data) {
			t.Fatalf("server read %d bytes before EOF, want the %d written", len(b), len(data))
		}
		waitFor(t, p, "the answer and OnHangup", func() bool { return h.hangups > 0 })
		if string(h.data) != "answer" || h.hangErr != nil {
			t.Fatalf("read %q, OnHangup(%v)", h.data, h.hangErr)
		}
	})
}

// TestTLSClose: Close sends what was accepted and close_notify; no
// handler call follows, even with input queued; no goroutine is left.
func TestTLSClose(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := bridgePair(t, pairOptions{})
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
		server.Write([]byte("unread"))
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
			t.Fatalf("peer read %q, %v; want what was written, then close_notify", b, err)
		}
		settle(t, p)
		waitGoroutines(t, base)
	})
}

// TestTLSCloseInHandler closes from OnRead while more records are queued.
func TestTLSCloseInHandler(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		client, server := bridgePair(t, pairOptions{})
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
			for range 100 {
				if _, err := server.Write(randomBytes(1000, 14)); err != nil {
					return
				}
			}
			server.Close()
		}()
		waitFor(t, p, "a read", func() bool { return h.reads > 0 })
		settle(t, p)
		if h.reads != 1 || h.hangups != 0 {
			t.Fatalf("%d reads, %d hangups after Close", h.reads, h.hangups)
		}
	})
}

// TestTLSReset: a reset ends the input with an ECONNRESET error and makes
// writes fail.
func TestTLSReset(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		var sc *serverConn
		client, _ := bridgePair(t, pairOptions{wrap: func(c *net.TCPConn) net.Conn {
			sc = &serverConn{TCPConn: c}
			return sc
		}})
		h := newRecorder(t)
		c, err := p.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sc.SetLinger(0)
		sc.TCPConn.Close()
		waitFor(t, p, "OnHangup", func() bool { return h.hangups > 0 })
		if !errors.Is(h.hangErr, syscall.ECONNRESET) {
			t.Fatalf("OnHangup(%v), want ECONNRESET", h.hangErr)
		}
		waitFor(t, p, "a failing Write", func() bool {
			_, err := c.Write([]byte("x"))
			return err != nil
		})
	})
}

// TestTLSConcurrentWrite writes from another goroutine, as the event
// loop's users do, while the loop reads the echo: tls.Conn.Write and Read
// run at once.
func TestTLSConcurrentWrite(t *testing.T) {
	forEachPoller(t, func(t *testing.T, p Poller) {
		const size = 8 << 20
		client, server := bridgePair(t, pairOptions{})
		go echo(server)
		data := randomBytes(size, 17)
		writable := make(chan struct{}, 1)
		h := newRecorder(t)
		h.keep = false
		sum := sha256.New()
		got := 0
		h.onRead = func(p []byte) { sum.Write(p); got += len(p) }
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
		wrote := recv(func() error {
			for off, i := 0, 0; off < size; i++ {
				end := min(size, off+1+(i*7919)%100000)
				for off < end {
					n, err := c.Write(data[off:end])
					if err != nil {
						return err
					}
					off += n
					if off < end {
						select {
						case <-writable:
						case <-time.After(bound):
							return errors.New("no OnWritable after a short Write")
						}
					}
				}
			}
			return nil
		})
		if err := await(t, p, "the writer", wrote); err != nil {
			t.Fatal(err)
		}
		waitFor(t, p, "the echo", func() bool { return got >= size })
		if got != size || [32]byte(sum.Sum(nil)) != sha256.Sum256(data) {
			t.Fatalf("echo of %d bytes differs", got)
		}
	})
}
