package poll

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Batched reads and sends: when a Wait finds several sockets ready, or a
// loop's flush has output for several, their reads or sends go to the
// kernel in one io_uring_enter (uring_linux.go) instead of one system call
// each. Nothing else changes: each socket still gets one read a turn, in
// the order epoll reported them, and each send's result is the one
// send(2) would have given.

var _ Batcher = (*Native)(nil)

// aheadMax is the most sockets read ahead together. Their reads share a
// buffer of aheadSize: two sockets get readSize each, as a read of their
// own would, and 16 get 8 KiB each. A socket with more left is reported
// again by the next Wait, as after any read that fills its buffer. Like
// the read buffer, the Native keeps it until it is closed, which is why it
// is no larger: at 10 000 idle sockets on a loop it is 13 bytes a socket.
const (
	aheadMax  = 16
	aheadSize = 2 * readSize
)

// aheadBufs holds the buffers of reads made ahead; like the read buffer, a
// Native takes one at its first batch and keeps it until it is closed.
var aheadBufs = sync.Pool{New: func() any { return new([aheadSize]byte) }}

// batchSendMax bounds the bytes of one batch of sends: the batch is one
// raw system call (see rawSendMax), which should take microseconds.
const batchSendMax = 256 << 10

// batch is a Native's batching state. All of it belongs to the goroutine
// that runs Wait.
type batch struct {
	ring   *uring
	failed bool             // no ring could be set up, or WSLOOP_IOURING=0 (or a test) said not to: everything one by one
	ahead  *[aheadSize]byte // the buffer of reads made ahead, from aheadBufs
	sendTo []*nativeConn    // the queued sends' connections, locked
	bufs   [][]byte         // and their bytes
	sent   int              // how many of them are made
	bytes  int              // the bytes of those not made yet
	sendN  []int            // each send's result, once made
	sendE  []error
}

// init turns batching off when the environment says so
// (WSLOOP_IOURING=0, see the package documentation).
func (b *batch) init() {
	b.failed = os.Getenv("WSLOOP_IOURING") == "0"
}

// ringReady returns the Native's ring, setting it up first if need be; nil
// when there is none.
func (e *Native) ringReady() *uring {
	b := &e.batch
	if b.ring != nil && !b.ring.broken {
		return b.ring
	}
	if b.ring != nil || b.failed || e.shut.Load() {
		return nil
	}
	r, err := newUring()
	if err != nil {
		b.failed = true
		return nil
	}
	b.ring = r
	return r
}

// readAhead reads, in one system call, the sockets among ready[start:end]
// that are due a plain read, and returns end; end is at most aheadMax
// past start. With fewer than two such sockets it reads none and leaves
// them to handle.
func (e *Native) readAhead(start, n int) int {
	if n-start < 2 {
		return n
	}
	end := min(n, start+aheadMax)
	due := 0
	for i := start; i < end; i++ {
		if e.ready[i].c.dueRead(e.ready[i].mask) {
			due++
		}
	}
	if due < 2 {
		return end
	}
	r := e.ringReady()
	if r == nil {
		return end
	}
	if e.batch.ahead == nil {
		e.batch.ahead = aheadBufs.Get().(*[aheadSize]byte)
	}
	size := min(readSize, aheadSize/due)
	j := 0
	for i := start; i < end; i++ {
		rc := &e.ready[i]
		if !rc.c.dueRead(rc.mask) {
			continue
		}
		rc.slot = e.batch.ahead[j*size : (j+1)*size : (j+1)*size]
		r.queue(uringOpRecv, rc.c.fd, rc.slot)
		j++
	}
	r.submit()
	// The j-th socket with a slot is the ring's j-th operation.
	j = 0
	for i := start; i < end; i++ {
		rc := &e.ready[i]
		if rc.slot == nil {
			continue
		}
		if res := r.res[j]; res == resUnmade {
			rc.slot = nil // handle reads it
		} else {
			rc.ahead, rc.res = true, res
		}
		j++
	}
	return end
}

// dueRead reports whether handle would read c, a plain TCP socket, for ev.
func (c *nativeConn) dueRead(ev uint32) bool {
	return c != nil && c.t == nil && !c.closed && c.reading && !c.paused && ev&(evIn|endEvents) != 0
}

// QueueWrite implements Batcher. A batch takes any number of sends: each
// ringEntries of them, or batchSendMax bytes, are made in a system call of
// their own, as the batch fills.
func (e *Native) QueueWrite(conn Conn, p []byte) bool {
	c, ok := conn.(*nativeConn)
	if !ok || c.e != e || c.t != nil || len(p) == 0 || len(p) > batchSendMax {
		return false
	}
	c.mu.Lock()
	if c.closed || c.wshut {
		c.mu.Unlock()
		return false
	}
	b := &e.batch
	if len(b.sendTo) == 0 {
		b.sendN, b.sendE = b.sendN[:0], b.sendE[:0] // a new batch
	}
	if len(b.sendTo)-b.sent == ringEntries || b.bytes+len(p) > batchSendMax {
		e.sendChunk()
	}
	// Held until WriteQueued, as Write holds it for its send.
	b.sendTo = append(b.sendTo, c)
	b.bufs = append(b.bufs, p)
	b.bytes += len(p)
	return true
}

// WriteQueued implements Batcher.
func (e *Native) WriteQueued() {
	e.sendChunk()
	b := &e.batch
	for _, c := range b.sendTo {
		c.mu.Unlock()
	}
	clear(b.sendTo)
	clear(b.bufs)
	b.sendTo, b.bufs, b.sent = b.sendTo[:0], b.bufs[:0], 0
}

// sendChunk makes the queued sends not made yet: in one system call when
// there are two or more and a ring, one by one otherwise.
func (e *Native) sendChunk() {
	b := &e.batch
	chunk, bufs := b.sendTo[b.sent:], b.bufs[b.sent:]
	var r *uring
	if len(chunk) >= 2 {
		r = e.ringReady()
	}
	if r != nil {
		for i, c := range chunk {
			r.queue(uringOpSend, c.fd, bufs[i])
		}
		r.submit()
	}
	for i, c := range chunk {
		p := bufs[i]
		var n int
		var errno unix.Errno
		if r != nil && r.res[i] != resUnmade {
			n, errno = result(r.res[i])
		} else {
			n, errno = sysSend(c.fd, p)
			for errno == unix.EINTR {
				n, errno = sysSend(c.fd, p)
			}
		}
		n, err := c.sentLocked(p, n, errno)
		b.sendN = append(b.sendN, n)
		b.sendE = append(b.sendE, err)
	}
	b.sent, b.bytes = len(b.sendTo), 0
}

// Written implements Batcher.
func (e *Native) Written(i int) (int, error) {
	return e.batch.sendN[i], e.batch.sendE[i]
}

// releaseAhead gives the buffer of reads made ahead back to its pool.
func (e *Native) releaseAhead() {
	if e.batch.ahead != nil {
		aheadBufs.Put(e.batch.ahead)
		e.batch.ahead = nil
	}
}

// closeRing closes the ring, once the Native is closed: the sockets it
// served are closed, so no batch can follow.
func (e *Native) closeRing() {
	if e.batch.ring != nil {
		e.batch.ring.close()
		e.batch.ring = nil
	}
	e.batch.failed = true
}
