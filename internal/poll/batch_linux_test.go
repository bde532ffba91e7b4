package poll

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Tests of the batched reads and sends (batch_linux.go). Every test of
// poll_test.go also runs on a Native without a ring ("native-noring"),
// the path of a kernel or a seccomp profile without io_uring.

func init() {
	pollerCases = append(pollerCases, pollerCase{"native-noring", func() (Poller, error) {
		e, err := NewNative()
		if err == nil {
			e.batch.failed = true
		}
		return e, err
	}})
}

// ringCases runs f on a Native with a ring and on one without. With a
// ring, it fails the test if f's batches did not set one up, unless this
// kernel refuses io_uring, which it logs, or if Close leaves it open.
func ringCases(t *testing.T, f func(t *testing.T, e *Native, ring bool)) {
	t.Run("ring", func(t *testing.T) {
		e := testNative(t)
		f(t, e, true)
		if e.batch.ring == nil {
			if r, err := newUring(); err != nil {
				t.Logf("no io_uring here (%v): batches made one by one", err)
				return
			} else {
				r.close()
			}
			t.Fatal("no batch set up the ring")
		}
		ring := fmt.Sprintf("/proc/self/fd/%d", e.batch.ring.fd)
		e.Close()
		if l, _ := os.Readlink(ring); l == "anon_inode:[io_uring]" {
			t.Fatal("Close left the ring open")
		}
	})
	t.Run("noring", func(t *testing.T) {
		e := testNative(t)
		e.batch.failed = true
		f(t, e, false)
	})
}

// batchSock is one socket of a batch test: the Native's end, its handler,
// and the peer.
type batchSock struct {
	c    *nativeConn
	h    *recorder
	peer *net.TCPConn
	want []byte
}

func addSocks(t *testing.T, e *Native, n int) []*batchSock {
	t.Helper()
	socks := make([]*batchSock, n)
	for i := range socks {
		client, server := tcpPair(t)
		h := newRecorder(t)
		c, err := e.Add(client, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		socks[i] = &batchSock{c: c.(*nativeConn), h: h, peer: server}
	}
	return socks
}

// TestBatchedReads: 40 ready sockets (three batches: 16, 16 and 8) get
// one read each in one Wait, in buffers of 8 KiB, 8 KiB and 16 KiB (64
// KiB each without a ring), and every byte in order over the Waits that
// follow; sockets whose peer finished or reset hang up after their data,
// each with its own error.
func TestBatchedReads(t *testing.T) {
	ringCases(t, func(t *testing.T, e *Native, ring bool) {
		const n = 40
		socks := addSocks(t, e, n)
		for i, s := range socks {
			s.want = randomBytes(1000+i*1500, uint64(i)) // 1 000 to 59 500 bytes
			if _, err := s.peer.Write(s.want); err != nil {
				t.Fatal(err)
			}
			switch i % 10 {
			case 3:
				s.peer.CloseWrite()
			case 7:
				s.peer.SetLinger(0)
				s.peer.Close()
			}
		}
		for _, s := range socks {
			awaitQueued(t, s.c.fd, len(s.want))
		}
		if err := e.Wait(0); err != nil {
			t.Fatal(err)
		}
		for i, s := range socks {
			slot := readSize // one by one
			switch {
			case ring && i < 32:
				slot = 8 << 10
			case ring:
				slot = 16 << 10
			}
			if s.h.reads != 1 || len(s.h.data) != min(len(s.want), slot) {
				t.Fatalf("socket %d: %d reads, %d bytes in the first Wait; want 1 and %d", i, s.h.reads, len(s.h.data), min(len(s.want), slot))
			}
		}
		waitFor(t, e, "every byte and hang-up", func() bool {
			for i, s := range socks {
				if len(s.h.data) < len(s.want) || (i%10 == 3 || i%10 == 7) && s.h.hangups == 0 {
					return false
				}
			}
			return true
		})
		for i, s := range socks {
			if !bytes.Equal(s.h.data, s.want) {
				t.Fatalf("socket %d: got %d bytes, not the %d sent", i, len(s.h.data), len(s.want))
			}
			switch i % 10 {
			case 3:
				if s.h.hangErr != nil {
					t.Fatalf("socket %d: hang-up %v, want a clean EOF", i, s.h.hangErr)
				}
			case 7:
				if !errors.Is(s.h.hangErr, unix.ECONNRESET) {
					t.Fatalf("socket %d: hang-up %v, want ECONNRESET", i, s.h.hangErr)
				}
			default:
				if s.h.hangups != 0 {
					t.Fatalf("socket %d hung up: %v", i, s.h.hangErr)
				}
			}
		}
	})
}

// TestBatchedReadHandlers: what a handler does to another socket of the
// same batch, read already, holds: closed, it hears nothing more; paused,
// it still gets the bytes read for it (without a ring, none were), and no
// more until resumed.
func TestBatchedReadHandlers(t *testing.T) {
	ringCases(t, func(t *testing.T, e *Native, ring bool) {
		socks := addSocks(t, e, 4)
		first := -1
		for i, s := range socks {
			s.h.onRead = func([]byte) {
				if first >= 0 {
					return
				}
				first = i
				// The next two in the Wait's order, whichever they are.
				close, pause := socks[(i+1)%4], socks[(i+2)%4]
				close.c.Close()
				close.h.closed = true
				pause.c.SetPaused(true)
			}
		}
		writeEach(t, e, socks, "first")
		paused := socks[(first+2)%4]
		want := fmt.Sprintf("first %d", (first+2)%4)
		if !ring {
			want = ""
		}
		if got := string(paused.h.data); got != want {
			t.Fatalf("the paused socket got %q, want %q", got, want)
		}
		paused.peer.Write([]byte(" second"))
		settle(t, e)
		if string(paused.h.data) != want {
			t.Fatalf("a paused socket read %q", paused.h.data)
		}
		paused.c.SetPaused(false)
		want = fmt.Sprintf("first %d second", (first+2)%4)
		waitFor(t, e, "the reads after resuming", func() bool { return string(paused.h.data) == want })
	})
}

// TestBatchedSends: the results of a batch are Write's: all taken, some
// taken (OnWritable follows), or the error; and what cannot be batched is
// refused, to be written one by one.
func TestBatchedSends(t *testing.T) {
	ringCases(t, func(t *testing.T, e *Native, ring bool) {
		socks := addSocks(t, e, 4)
		// Socket 1's peer reads nothing, so its send buffer fills.
		full, big := socks[1], randomBytes(8<<20, 9)
		for {
			n, err := full.c.Write(big)
			if err != nil {
				t.Fatal(err)
			}
			if n < len(big) {
				break
			}
		}
		full.h.writables = 0
		// Socket 2's peer is gone: a send meets the reset.
		socks[2].peer.SetLinger(0)
		socks[2].peer.Close()
		waitFor(t, e, "the reset", func() bool { return socks[2].h.hangups > 0 })

		msgs := make([][]byte, len(socks))
		for i, s := range socks {
			msgs[i] = []byte(fmt.Sprintf("message %d", i))
			if !e.QueueWrite(s.c, msgs[i]) {
				t.Fatalf("socket %d not queued", i)
			}
		}
		e.WriteQueued()
		for i, s := range socks {
			n, err := e.Written(i)
			switch i {
			case 1:
				if err != nil || n >= len(msgs[i]) {
					t.Fatalf("full socket: %d, %v; want a short write", n, err)
				}
			case 2:
				if !errors.Is(err, unix.EPIPE) && !errors.Is(err, unix.ECONNRESET) {
					t.Fatalf("reset socket: %d, %v; want EPIPE or ECONNRESET", n, err)
				}
			default:
				if n != len(msgs[i]) || err != nil {
					t.Fatalf("socket %d: %d, %v", i, n, err)
				}
				buf := make([]byte, 64)
				s.peer.SetReadDeadline(time.Now().Add(bound))
				k, err := s.peer.Read(buf)
				if err != nil || string(buf[:k]) != string(msgs[i]) {
					t.Fatalf("socket %d's peer read %q, %v", i, buf[:k], err)
				}
			}
		}
		go func() {
			buf := make([]byte, 1<<20)
			for {
				if _, err := full.peer.Read(buf); err != nil {
					return
				}
			}
		}()
		waitFor(t, e, "OnWritable after the short batched send", func() bool { return full.h.writables > 0 })

		// Refused: a closed socket, a half-closed one, no bytes, a
		// connection the Native does not own, more bytes than a batch
		// takes.
		socks[3].c.Close()
		socks[3].h.closed = true
		socks[0].c.CloseWrite()
		other := testNative(t)
		oc, _ := tcpPair(t)
		foreign, err := other.Add(oc, newRecorder(t))
		if err != nil {
			t.Fatal(err)
		}
		for name, ok := range map[string]bool{
			"closed":      e.QueueWrite(socks[3].c, msgs[3]),
			"half-closed": e.QueueWrite(socks[0].c, msgs[0]),
			"empty":       e.QueueWrite(full.c, nil),
			"foreign":     e.QueueWrite(foreign, msgs[0]),
			"too large":   e.QueueWrite(full.c, make([]byte, batchSendMax+1)),
		} {
			if ok {
				t.Fatalf("%s socket queued", name)
			}
		}
		e.WriteQueued()

		// A batch larger than one system call takes: 2×ringEntries+1
		// sends, the last three of 100 KB, so that the bytes too split it.
		extra := addSocks(t, e, 2*ringEntries+1)
		sends := make([][]byte, len(extra))
		for i, s := range extra {
			sends[i] = randomBytes(100+i, uint64(i))
			if i >= len(extra)-3 {
				sends[i] = randomBytes(100_000, uint64(i))
			}
			if !e.QueueWrite(s.c, sends[i]) {
				t.Fatalf("send %d of a large batch refused", i)
			}
		}
		e.WriteQueued()
		for i, s := range extra {
			if n, err := e.Written(i); n != len(sends[i]) || err != nil {
				t.Fatalf("send %d of a large batch: %d, %v", i, n, err)
			}
			got := make([]byte, len(sends[i]))
			s.peer.SetReadDeadline(time.Now().Add(bound))
			if _, err := io.ReadFull(s.peer, got); err != nil || !bytes.Equal(got, sends[i]) {
				t.Fatalf("send %d of a large batch: the peer read %d bytes (%v), not what was sent", i, len(got), err)
			}
		}
	})
}

// TestUringLayout: the ABI's structures have the kernel's sizes on this
// architecture; a 32-bit one aligns 64-bit fields differently.
func TestUringLayout(t *testing.T) {
	for name, got := range map[string]uintptr{
		"io_uring_sqe":    unsafe.Sizeof(uringSQE{}),
		"io_uring_cqe":    unsafe.Sizeof(uringCQE{}),
		"io_uring_params": unsafe.Sizeof(uringParams{}),
	} {
		want := map[string]uintptr{"io_uring_sqe": 64, "io_uring_cqe": 16, "io_uring_params": 120}[name]
		if got != want {
			t.Errorf("%s is %d bytes, want %d", name, got, want)
		}
	}
}

// TestBatchWithoutRing: when the kernel refuses the ring, here for want of
// a descriptor (the open-file limit reached), the batch's reads and sends
// are made one by one, and the Native does not try again.
func TestBatchWithoutRing(t *testing.T) {
	e := testNative(t)
	socks := addSocks(t, e, 2)
	// Every descriptor below the highest open one in use, and the limit
	// just above it: the ring's io_uring_setup gets EMFILE.
	top := 0
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	for _, d := range entries {
		var fd int
		if _, err := fmt.Sscan(d.Name(), &fd); err == nil {
			top = max(top, fd)
		}
	}
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if int(f.Fd()) >= top {
			break
		}
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = uint64(top + 2) // the /dev/null above top is the last one
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	if f, err := os.Open(os.DevNull); err == nil {
		f.Close()
		t.Fatal("a descriptor is still free")
	}

	readAndAnswer(t, e, socks)
	if e.batch.ring != nil || !e.batch.failed {
		t.Fatalf("ring %v, failed %v: want no ring, and no more tries", e.batch.ring, e.batch.failed)
	}
}

// TestBatchRingFails: a ring whose io_uring_enter fails (here its
// descriptor is not one; a seccomp filter that allows io_uring_setup but
// not io_uring_enter does the same) took none of the batch's reads and
// sends, so they are made one by one, and the ring is not used again.
func TestBatchRingFails(t *testing.T) {
	e := testNative(t)
	r := e.ringReady()
	if r == nil {
		t.Skip("no io_uring here")
	}
	fd := r.fd
	r.fd = -1
	defer unix.Close(fd)
	socks := addSocks(t, e, 3)
	readAndAnswer(t, e, socks)
	if !r.broken {
		t.Fatal("the ring's failure went unnoticed")
	}
}

// readAndAnswer has each socket's peer write to it, reads them all in one
// Wait, and answers each in one batch of sends, checking every byte and
// result.
func readAndAnswer(t *testing.T, e *Native, socks []*batchSock) {
	t.Helper()
	writeEach(t, e, socks, "to")
	for i, s := range socks {
		if got := string(s.h.data); got != fmt.Sprintf("to %d", i) || s.h.hangups != 0 {
			t.Fatalf("socket %d read %q, %d hang-ups (%v)", i, got, s.h.hangups, s.h.hangErr)
		}
		if !e.QueueWrite(s.c, []byte("back")) {
			t.Fatalf("socket %d's send not queued", i)
		}
	}
	e.WriteQueued()
	for i, s := range socks {
		if n, err := e.Written(i); n != 4 || err != nil {
			t.Fatalf("socket %d's send: %d, %v", i, n, err)
		}
		buf := make([]byte, 4)
		s.peer.SetReadDeadline(time.Now().Add(bound))
		if _, err := io.ReadFull(s.peer, buf); err != nil || string(buf) != "back" {
			t.Fatalf("socket %d's peer read %q, %v", i, buf, err)
		}
	}
}

// TestBatchTurnedOff: with WSLOOP_IOURING=0 a new Native makes its batches
// one by one without setting up a ring; other values leave it on.
func TestBatchTurnedOff(t *testing.T) {
	t.Setenv("WSLOOP_IOURING", "0")
	e := testNative(t)
	readAndAnswer(t, e, addSocks(t, e, 2))
	if e.batch.ring != nil || !e.batch.failed {
		t.Fatalf("WSLOOP_IOURING=0: ring %v, failed %v; want neither tried", e.batch.ring, e.batch.failed)
	}
	t.Setenv("WSLOOP_IOURING", "1")
	if e := testNative(t); e.batch.failed {
		t.Fatal("WSLOOP_IOURING=1 turned batching off")
	}
}

// TestBatchedReadsShuffled: 48 sockets whose peers write 1 byte to 96 KB
// each, some then finishing and some resetting, while handlers close and
// pause other sockets at random, several times over. Whatever the batches
// read, each socket's handler gets a prefix of what its peer wrote, in
// order, nothing after its hang-up or its Close; a socket left open gets
// all of it, and the end its peer made.
func TestBatchedReadsShuffled(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ringCases(t, func(t *testing.T, e *Native, _ bool) {
				shuffledReads(t, e, seed)
			})
		})
	}
}

func shuffledReads(t *testing.T, e *Native, seed uint64) {
	const n = 48
	rng := rand.New(rand.NewPCG(seed, 7))
	socks := addSocks(t, e, n)
	ends := make([]int, n) // 0: stays open, 1: FIN after the data, 2: RST after it
	closed := make([]bool, n)
	paused := make([]bool, n)
	for i, s := range socks {
		s.want = randomBytes(1+rng.IntN(96_000), seed*100+uint64(i))
		ends[i] = [...]int{0, 0, 0, 1, 2}[rng.IntN(5)]
		s.h.onRead = func([]byte) {
			if rng.IntN(8) != 0 {
				return
			}
			j := rng.IntN(n)
			switch {
			case j == i || closed[j]:
			case rng.IntN(4) == 0:
				socks[j].c.Close()
				socks[j].h.closed = true
				closed[j] = true
			default:
				paused[j] = !paused[j]
				socks[j].c.SetPaused(paused[j])
			}
		}
		go func(s *batchSock, end int) {
			s.peer.Write(s.want)
			switch end {
			case 1:
				s.peer.CloseWrite()
			case 2:
				s.peer.SetLinger(0)
				s.peer.Close()
			}
		}(s, ends[i])
	}
	done := func() bool {
		for i, s := range socks {
			if closed[i] {
				continue
			}
			if paused[i] {
				paused[i] = false
				s.c.SetPaused(false)
			}
			if ends[i] == 0 && len(s.h.data) < len(s.want) || ends[i] != 0 && s.h.hangups == 0 {
				return false
			}
		}
		return true
	}
	waitFor(t, e, "every socket's bytes and end", done)
	for i, s := range socks {
		if !bytes.HasPrefix(s.want, s.h.data) {
			t.Fatalf("socket %d: %d bytes that are not the start of the %d written", i, len(s.h.data), len(s.want))
		}
		if closed[i] || ends[i] == 2 {
			continue // a reset may drop what its peer had not sent
		}
		if len(s.h.data) != len(s.want) {
			t.Fatalf("socket %d: %d bytes of %d", i, len(s.h.data), len(s.want))
		}
		if ends[i] == 1 && s.h.hangErr != nil {
			t.Fatalf("socket %d: hang-up %v after a FIN", i, s.h.hangErr)
		}
	}
}

// writeEach has the peer of socket i write "word i", waits until every
// socket holds its bytes, and runs one Wait, which finds them all ready.
func writeEach(t *testing.T, e *Native, socks []*batchSock, word string) {
	t.Helper()
	for i, s := range socks {
		s.peer.Write([]byte(fmt.Sprintf("%s %d", word, i)))
	}
	for _, s := range socks {
		awaitQueued(t, s.c.fd, len(word)+2)
	}
	if err := e.Wait(0); err != nil {
		t.Fatal(err)
	}
}
