package poll

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"reflect"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() { verifyDrain = true }

// TestEpollTakesTLS: a bridged tls.Conn gets the Native's own socket and no
// goroutine; a pinned Bridge, a Bridge over something else than TCP and a
// tls.Conn straight over TCP get the goroutine fallback.
func TestEpollTakesTLS(t *testing.T) {
	e := testNative(t)
	client, server := bridgePair(t, pairOptions{})
	go echo(server)
	tcp := client.NetConn().(*Bridge).nc.(*net.TCPConn)
	base := runtime.NumGoroutine()
	h := newRecorder(t)
	c, err := e.Add(client, h)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ec, ok := c.(*nativeConn)
	if !ok || ec.t == nil {
		t.Fatalf("Add(bridged *tls.Conn) = %T, want a TLS *nativeConn", c)
	}
	if _, err := tcp.Write([]byte("x")); err == nil {
		t.Error("the TCP connection still works after Add")
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines after Add, %d before", n, base)
	}
	if _, err := e.Add(client, newRecorder(t)); err == nil {
		t.Error("a second Add of the same tls.Conn succeeded")
	}
	writeAll(t, e, c, h, []byte("ping"))
	waitFor(t, e, "the echo", func() bool { return string(h.data) == "ping" })
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines after a round trip, %d before", n, base)
	}

	pinned, _ := bridgePair(t, pairOptions{})
	pinned.NetConn().(*Bridge).Pin()
	a, _ := net.Pipe()
	overPipe := tls.Client(NewBridge(a), clientConfig())
	for _, nc := range []net.Conn{pinned, overPipe} {
		c, err := e.Add(nc, newRecorder(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(*portableConn); !ok {
			t.Errorf("Add = %T, want the goroutine fallback", c)
		}
		c.Close()
	}
}

// TestTLSSockSize logs what a TLS connection costs the Native beyond a
// TCP one: the Bridge and its socket state (crypto/tls's own aside).
func TestTLSSockSize(t *testing.T) {
	t.Logf("nativeConn %d, tlsSock %d, Bridge %d bytes", unsafe.Sizeof(nativeConn{}), unsafe.Sizeof(tlsSock{}), unsafe.Sizeof(Bridge{}))
	if size := unsafe.Sizeof(tlsSock{}) + unsafe.Sizeof(Bridge{}); size > 256 {
		t.Errorf("tlsSock and Bridge are %d bytes", size)
	}
}

// TestEpollTLSManyConns: 500 wss connections on one Native cost no
// goroutine of the client's, and each gets its own echo.
func TestEpollTLSManyConns(t *testing.T) {
	conns := 500
	if testing.Short() {
		conns = 100
	}
	e := testNative(t)
	clients := make([]*tls.Conn, conns)
	for i := range clients {
		client, server := bridgePair(t, pairOptions{})
		go echo(server)
		clients[i] = client
	}
	base := runtime.NumGoroutine()
	cs := make([]Conn, conns)
	got := make([]uint64, conns)
	received := 0
	for i, client := range clients {
		h := newRecorder(t)
		h.onRead = func([]byte) {
			if len(h.data) == 8 {
				got[i] = binary.BigEndian.Uint64(h.data)
				received++
			}
		}
		var err error
		if cs[i], err = e.Add(client, h); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, e) // the kicks
	if n := runtime.NumGoroutine(); n > base+2 {
		t.Fatalf("%d goroutines for %d wss connections, %d before", n, conns, base)
	}
	var b [8]byte
	for i, c := range cs {
		binary.BigEndian.PutUint64(b[:], uint64(i)*7919)
		if n, err := c.Write(b[:]); n != 8 || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	waitFor(t, e, "every echo", func() bool { return received == conns })
	for i, v := range got {
		if v != uint64(i)*7919 {
			t.Fatalf("connection %d got %d", i, v)
		}
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		t.Fatalf("%d goroutines for %d wss connections after round trips, %d before", n, conns, base)
	}
	for _, c := range cs {
		ec := c.(*nativeConn)
		if ec.t.out != nil || ec.t.in != nil {
			t.Fatal("an idle connection holds a buffer")
		}
	}
	// The Native keeps one read buffer and one plaintext buffer for all
	// of them, until it is closed.
	e.Close()
	if e.buf != nil || e.plain != nil {
		t.Fatal("the closed Native holds a buffer")
	}
}

// TestEpollTLSRecordSplit: each byte of the server's records reaches the
// client's socket only once the client has read the one before, so every
// record is assembled from one socket read per byte.
func TestEpollTLSRecordSplit(t *testing.T) {
	e := testNative(t)
	testRecordSplit(t, e, func(sc *serverConn, c Conn) {
		fd := int(c.(*nativeConn).fd)
		rc, err := sc.SyscallConn()
		if err != nil {
			panic(err)
		}
		deadline := time.Now().Add(bound)
		for {
			// Sent and acknowledged, so in the client's queue or read;
			// then not in the queue any more.
			var outq int
			rc.Control(func(s uintptr) { outq, _ = unix.IoctlGetInt(int(s), unix.SIOCOUTQ) })
			inq, _ := unix.IoctlGetInt(fd, unix.SIOCINQ)
			if outq == 0 && inq == 0 {
				return
			}
			if time.Now().After(deadline) {
				panic("the client does not read")
			}
			unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
			runtime.Gosched()
		}
	})
}

// TestEpollTLSCloseLinger closes a connection whose queue the kernel has
// not taken: a goroutine writes it out once the peer reads, then closes;
// the peer gets every accepted byte, then close_notify.
func TestEpollTLSCloseLinger(t *testing.T) {
	e := testNative(t)
	client, server := bridgePair(t, pairOptions{})
	base := runtime.NumGoroutine()
	h := newRecorder(t)
	c, err := e.Add(client, h)
	if err != nil {
		t.Fatal(err)
	}
	ec := c.(*nativeConn)
	data := randomBytes(32<<20, 15)
	// One Write: it takes what the kernel takes, and a chunk more.
	accepted, err := c.Write(data)
	if err != nil || accepted == len(data) {
		t.Fatalf("Write: %d, %v; want a short write", accepted, err)
	}
	ec.mu.Lock()
	queued := ec.t.pending()
	ec.mu.Unlock()
	if queued == 0 {
		t.Fatal("nothing queued after a short write")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	h.closed = true
	server.SetReadDeadline(time.Now().Add(bound))
	b, err := io.ReadAll(server)
	if err != nil || len(b) != accepted || string(b) != string(data[:accepted]) {
		t.Fatalf("peer read %d bytes, %v; want the %d accepted, then close_notify", len(b), err, accepted)
	}
	t.Logf("%d bytes accepted, %d of them queued at Close", accepted, queued)
	settle(t, e)
	waitGoroutines(t, base)
}

// TestEpollTLSHangupDeregisters: after OnHangup, with nothing to send, a
// TLS socket is no longer watched.
func TestEpollTLSHangupDeregisters(t *testing.T) {
	e := testNative(t)
	client, server := bridgePair(t, pairOptions{})
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

// rawInputCap is the capacity crypto/tls keeps for assembling records
// (tls.Conn.rawInput, a bytes.Buffer), read by reflection, or -1 if
// crypto/tls has changed.
func rawInputCap(tc *tls.Conn) int {
	f := reflect.ValueOf(tc).Elem().FieldByName("rawInput")
	if !f.IsValid() || f.Kind() != reflect.Struct {
		return -1
	}
	if b := f.FieldByName("buf"); b.IsValid() && b.Kind() == reflect.Slice {
		return b.Cap()
	}
	return -1
}

// TestEpollTLSIdleBuffers checks what an idle TLS connection keeps after
// small messages and after large ones: nothing of the Native's, and
// crypto/tls's record buffer, whose growth the Bridge's record cursor
// bounds (see recordCursor).
func TestEpollTLSIdleBuffers(t *testing.T) {
	for _, c := range []struct {
		name string
		full bool // full-size records from the first
		most int  // rawInput's capacity at most after 4 MiB
	}{
		{"ramp", false, 32 << 10},
		{"full", true, 18 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := testNative(t)
			client, server := bridgePair(t, pairOptions{server: func(cfg *tls.Config) {
				cfg.DynamicRecordSizingDisabled = c.full
			}})
			if rawInputCap(client) < 0 {
				t.Skip("crypto/tls has no rawInput buffer any more")
			}
			t.Logf("after the handshake: rawInput cap %d", rawInputCap(client))
			h := newRecorder(t)
			h.keep = false
			n := 0
			h.onRead = func(p []byte) { n += len(p) }
			conn, err := e.Add(client, h)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ec := conn.(*nativeConn)
			total := 0
			for _, size := range []int{64, 4 << 20} {
				total += size
				go server.Write(randomBytes(size, 16))
				waitFor(t, e, "the data", func() bool { return n >= total })
				if ec.t.out != nil || ec.t.in != nil {
					t.Fatal("an idle connection holds a buffer")
				}
				t.Logf("after %d bytes: rawInput cap %d", size, rawInputCap(client))
			}
			if got := rawInputCap(client); got > c.most {
				t.Errorf("rawInput cap %d after a bulk transfer, want at most %d", got, c.most)
			}
		})
	}
}
