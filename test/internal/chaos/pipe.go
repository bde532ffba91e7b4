package chaos

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
)

const (
	// chunkSize is the most the proxy reads at once.
	chunkSize = 32 << 10
	// queueLen is how many chunks a pipe holds between its reader and
	// its writer: what Delay keeps in flight, and what the proxy
	// buffers beyond the kernel's when a peer does not read.
	queueLen = 128
)

// pipe forwards one direction of a link. Its reader and its writer are
// two goroutines with a queue between them, so that reading goes on while
// the writer waits (Delay) and stops while the writer goes on (Stall on a
// chunk already read waits too).
type pipe struct {
	l            *link
	src, dst     *net.TCPConn
	fromUpstream bool // src is the upstream socket
	q            chan chunk
	count        *atomic.Int64 // bytes written to dst

	// The epoch of the fault under which the reader is reading, or the
	// writer writing, 0 when not: SetFault waits for older ones to end.
	// Guarded by the proxy's mu.
	reading, writing uint64
}

// chunk is what the reader read at one time: bytes, or the end of src.
type chunk struct {
	data []byte
	at   time.Time // when it was read, for Delay
	end  end
}

type end uint8

const (
	more     end = iota // data
	endEOF              // src sent a FIN: forward it
	endReset            // src failed (RST): reset the link
)

// read reads src into the queue until src ends or the link stops. Under
// Stall it does not read at all; elsewhere the fault is the writer's
// business. It closes the queue when it returns.
func (pp *pipe) read() {
	defer close(pp.q)
	buf := make([]byte, chunkSize)
	for {
		v := pp.l.view()
		if v.state == closed {
			return
		}
		if v.state == open && v.fault.kind == stall {
			select {
			case <-v.changed:
			case <-pp.l.done:
			}
			continue
		}
		if !pp.enter(&pp.reading, v.epoch) {
			continue
		}
		n, err := pp.src.Read(buf)
		pp.leave(&pp.reading)
		if n > 0 && v.state == open {
			pp.put(chunk{data: bytes.Clone(buf[:n]), at: time.Now()})
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// SetFault interrupted the read: clear the deadline
			// before looking at the fault again, so that a later
			// SetFault's deadline is never lost.
			_ = pp.src.SetReadDeadline(time.Time{})
			continue
		}
		// src ended. Draining or reset by the proxy, that is all; an
		// upstream socket that HalfOpen reset must not end the client's.
		if v = pp.l.view(); v.state != open || (v.orphan && pp.fromUpstream) {
			return
		}
		e := endReset
		if errors.Is(err, io.EOF) {
			e = endEOF
		}
		pp.put(chunk{at: time.Now(), end: e})
		return
	}
}

// put queues c, unless the link stops forwarding first.
func (pp *pipe) put(c chunk) {
	select {
	case pp.q <- c:
	case <-pp.l.done:
	}
}

// write delivers the queue's chunks to dst until the pipe or the link
// ends.
func (pp *pipe) write() {
	for {
		select {
		case c, ok := <-pp.q:
			if !ok || !pp.deliver(c) {
				return
			}
		case <-pp.l.done:
			return
		}
	}
}

// deliver writes c to dst, or drops or holds it, as the fault says, and
// reports whether the pipe goes on. The fault is looked at again whenever
// it changes, so that a chunk waiting for its Delay or held by Stall goes
// by the new one.
func (pp *pipe) deliver(c chunk) bool {
	for {
		v := pp.l.view()
		switch {
		case v.state != open:
			return false
		case v.orphan:
			return c.end == more // the client's side is silent for good
		case v.fault.kind == stall, v.fault.kind == blackhole && c.end != more:
			select {
			case <-v.changed:
				continue
			case <-pp.l.done:
				return false
			}
		case v.fault.kind == blackhole:
			return true
		case v.fault.kind == delay:
			if wait := time.Until(c.at.Add(v.fault.delay)); wait > 0 {
				if !pp.sleep(wait, v.changed) {
					return false
				}
				continue
			}
		}
		if !pp.enter(&pp.writing, v.epoch) {
			continue
		}
		switch c.end {
		case endEOF:
			_ = pp.dst.CloseWrite()
			pp.leave(&pp.writing)
			return false
		case endReset:
			pp.leave(&pp.writing)
			pp.l.p.abort(pp.l)
			return false
		}
		n, err := pp.dst.Write(c.data)
		pp.leave(&pp.writing)
		pp.count.Add(int64(n))
		c.data = c.data[n:]
		switch {
		case err == nil:
			return true
		case errors.Is(err, os.ErrDeadlineExceeded):
			// SetFault or CloseAll interrupted the write; the rest
			// of c goes by what they decided.
			_ = pp.dst.SetWriteDeadline(time.Time{})
			continue
		}
		// dst failed: closed by the proxy (HalfOpen, CloseAll,
		// ResetAll), which the next view tells, or by its peer, which
		// resets the link, as a write to a reset socket would.
		if v = pp.l.view(); v.state == open && !v.orphan {
			pp.l.p.abort(pp.l)
			return false
		}
	}
}

// enter records that the pipe starts I/O (*slot is reading or writing)
// under the fault of epoch, and reports false, recording nothing, when the
// fault has changed since: the caller looks at the new one first.
func (pp *pipe) enter(slot *uint64, epoch uint64) bool {
	p := pp.l.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.epoch != epoch {
		return false
	}
	*slot = epoch
	return true
}

// leave records that the I/O enter recorded has returned.
func (pp *pipe) leave(slot *uint64) {
	p := pp.l.p
	p.mu.Lock()
	defer p.mu.Unlock()
	*slot = 0
	p.ioDone.Broadcast()
}

// sleep waits d, or until the fault changes, and reports false when the
// link stopped forwarding meanwhile.
func (pp *pipe) sleep(d time.Duration, changed <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-changed:
	case <-pp.l.done:
		return false
	}
	return true
}
