//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// eventBatch is how many ready sockets one Wait takes from the kernel.
	// More ready sockets are not lost: level-triggered readiness is
	// reported again by the next Wait, and the kernel rotates its ready
	// list, so a busy loop still serves everyone.
	eventBatch = 128
	// readSize is the one read buffer of a Wait, shared by every socket it
	// serves. A read takes at most this much, so a socket that has more
	// waits for the next turn while the others are served (one alone in
	// its Wait reads on: see aloneReads).
	readSize = 64 << 10
	// heartbeatEvery is how often a Wait's poll goes through the runtime's
	// system-call bookkeeping although it cannot block (see heartbeat).
	heartbeatEvery = 10 * time.Millisecond
	// aloneReads bounds the buffers a socket alone in a Wait's events
	// reads in one turn (see nativeConn.read): 256 KiB, so that timers and
	// posted tasks still get their turn within a few hundred microseconds.
	aloneReads = 4
	// drainChunk and drainReads bound what Close throws away from the
	// receive queue (see nativeConn.Close).
	drainChunk = 4 << 20
	drainReads = 4
	// rdEvents is the read interest. Level-triggered on purpose: Wait
	// reads once per socket and leaves the rest in the kernel, and LT
	// readiness brings the socket back in the next Wait with no ready list
	// of our own and no epoll_ctl per read. Edge-triggered would need that
	// list (a socket read only in part gets no new edge) for the same
	// syscalls: a read that drains the socket costs exactly one read in
	// both modes, and the loopback round trip benchmark measures no
	// difference between them. evRdHup tells Wait that the peer's FIN is
	// queued, so it reads the EOF in the same turn as the last data.
	rdEvents = evIn | evRdHup
	// wrEvents is armed only between a short Write and the OnWritable that
	// follows it: a socket that can take data is writable nearly always,
	// and keeping write interest registered (or edge-triggered, which
	// fires on every ACK that frees space) would wake the loop for nothing.
	wrEvents = evOut
	// endEvents are the readiness bits that may mean the end of input:
	// epoll reports HUP and ERR whatever was asked for.
	endEvents = evRdHup | evHup | evErr
)

// readBufs holds the read buffers of Natives: a Native takes one at its
// first read and keeps it until it is closed, one buffer per loop however
// many sockets it serves. (Taking it for each Wait and giving it back
// cost a pool round trip a Wait, and under the race detector, which makes
// sync.Pool drop a quarter of what it is given, a fresh 64 KiB buffer
// every few Waits.)
var readBufs = sync.Pool{New: func() any { return new([readSize]byte) }}

// Native is the Poller over the system's readiness API: epoll on Linux
// (epoll_linux.go), kqueue on macOS and the BSDs (kqueue_bsd.go). A TCP
// connection is taken away from the Go runtime and owned by the Native's
// own epoll or kqueue instance, so that an idle socket costs no goroutine
// and no buffer, only a small record; the loop's goroutine waits on that
// instance and reads every ready socket into one shared buffer. A
// *tls.Conn over a Bridge is taken over the same way once its handshake is
// done, crypto/tls running on the loop (see native_tls.go). Other
// connections (pipes, a *tls.Conn straight over TCP or over a pinned
// Bridge) are served by goroutines as in Portable, within the same Wait.
//
// Add, Wake and the connections' Write are safe from any goroutine; Wait,
// Close and the connections' Close and CloseWrite belong to the goroutine
// that calls Wait (or to any goroutine while no Wait runs), as the event
// loop uses them.
type Native struct {
	// sys is the epoll or kqueue instance, its wake-up descriptor and the
	// events of the last wait; its events belong to the loop goroutine.
	sys sysPoller

	// file is the instance's descriptor handed to the Go runtime's
	// netpoller, so that a Wait with nothing to do parks its goroutine
	// instead of blocking its thread in the kernel (see Wait). It owns the
	// descriptor: closing it closes that. park is nil when the runtime
	// could not take the descriptor, and always for kqueue (see canPark);
	// Wait then blocks in the kernel.
	file       *os.File
	park       syscall.RawConn
	pollFn     func(uintptr) bool // e.poll, made once: a method value allocates
	deadline   bool               // file has a read deadline set
	deadlineAt time.Time          // which, when deadline is set
	polled     int                // what poll found
	pollErr    unix.Errno

	// woken is set by the Wake that signals the wake-up descriptor and
	// cleared by the Wait that drains it: Wakes in between write nothing.
	woken atomic.Bool
	// shut is set by Close; Wakes then go to late, since the descriptors
	// are gone but a loop may still wait for its timers.
	shut   atomic.Bool
	wakeMu sync.Mutex // orders a wake-up write before the descriptor's close
	late   sleeper

	mu     sync.Mutex // guards conns, gen and closed
	conns  []*nativeConn
	gen    uint32
	closed bool

	// Loop goroutine only.
	ready   [eventBatch]readyConn
	buf     *[readSize]byte     // from readBufs, kept until Close
	plain   *[tlsPlainSize]byte // from plainBufs, for TLS, kept until Close
	waiting bool                // a Wait is running: Close leaves the buffers to it
	beat    bool                // this Wait's next poll is booked (see heartbeat)
	beatAt  time.Time           // when a poll was last booked
	lastN   int                 // events this Wait's poll found: 1, a socket alone may read on (read); few, the next Wait may nap (nap.go)
	epoch   uint8               // counts hotEpochs, wrapping (see nap.go)
	epochAt time.Time           // when this epoch began
	hotNow  int                 // sockets served in this epoch
	hotLast int                 // sockets served in the last one
	naps    int                 // naps taken, for the tests
	scrap   [8]byte             // what the wake-up descriptor held

	// kicks are TLS connections just taken over, whose tls.Conn may hold
	// input already (guarded by mu): the next woken Wait drains them.
	kicks []*nativeConn

	batch batch // reads and sends made together (batch_linux.go)

	hub hub
}

// NewNative returns the Poller over epoll (Linux) or kqueue (macOS, the
// BSDs).
func NewNative() (*Native, error) {
	e := &Native{late: newSleeper()}
	if err := e.sys.open(); err != nil {
		return nil, err
	}
	e.batch.init()
	e.hub.init(e.Wake)
	// An epoll descriptor is itself pollable: it is readable while it has
	// events to report, and nested in the runtime's own epoll it wakes
	// that one when it gets one. Non-blocking, os.NewFile registers it
	// there. A kqueue descriptor cannot be (see canPark).
	if !canPark {
		return e, nil
	}
	if err := unix.SetNonblock(e.sys.fd(), true); err == nil {
		e.file = os.NewFile(uintptr(e.sys.fd()), "poller")
		if e.file.SetReadDeadline(time.Time{}) == nil {
			e.park, _ = e.file.SyscallConn()
		}
		e.pollFn = e.poll
	}
	return e, nil
}

// Add implements Poller. A *net.TCPConn is detached from the Go runtime
// (see detach) and polled by the Native, and so is the socket under a
// *tls.Conn whose NetConn is a Bridge that is not pinned, once the
// handshake is done. Any other net.Conn is served by goroutines. Other
// types with a SyscallConn are not taken over: a wrapper may buffer or
// transform bytes that reading the socket would bypass.
func (e *Native) Add(nc net.Conn, h Handler) (Conn, error) {
	var b *Bridge
	tcp, ok := nc.(*net.TCPConn)
	if tc, isTLS := nc.(*tls.Conn); isTLS {
		if b, tcp = ownedBridge(tc); b != nil {
			ok = true
		} else if br, _ := tc.NetConn().(*Bridge); br != nil && br.s != nil {
			return nil, errors.New("poll: TLS connection added twice")
		}
	}
	if !ok {
		c, err := e.hub.add(nc, h)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, net.ErrClosed
	}
	var s *tlsSock
	if b != nil {
		s = &tlsSock{tc: nc.(*tls.Conn), laddr: tcp.LocalAddr(), raddr: tcp.RemoteAddr()}
	}
	fd, err := detach(tcp)
	if err != nil {
		return nil, err
	}
	c := &nativeConn{e: e, h: h, fd: int32(fd), reading: true, t: s}
	if s != nil {
		// From here on the tls.Conn runs on the Native's socket; should the
		// registration fail, it is dead, and closing it does nothing more.
		s.c = c
		b.s, b.nc = s, nil
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		c.abandon()
		return nil, net.ErrClosed
	}
	e.gen++
	if e.gen == 0 {
		e.gen = 1
	}
	c.gen = e.gen
	if fd >= len(e.conns) {
		grown := make([]*nativeConn, max(fd+1, 2*len(e.conns), 64))
		copy(grown, e.conns)
		e.conns = grown
	}
	c.mu.Lock()
	err = c.rearmLocked()
	c.mu.Unlock()
	if err != nil {
		e.mu.Unlock()
		c.abandon()
		return nil, err
	}
	e.conns[fd] = c
	if s != nil {
		e.kicks = append(e.kicks, c)
	}
	e.mu.Unlock()
	if s != nil {
		e.Wake()
	}
	return c, nil
}

// abandon closes the descriptor of a connection that Add failed to
// register.
func (c *nativeConn) abandon() {
	if c.t != nil {
		c.t.dead = true
	}
	unix.Close(int(c.fd))
}

// detach makes the socket of tc ours alone. A duplicate descriptor is
// made with F_DUPFD_CLOEXEC inside RawConn.Control (so tc cannot be closed
// under us meanwhile), then tc is closed: the runtime deregisters its own
// descriptor from its netpoller (internal/poll's FD.destroy calls
// runtime_pollClose, which does EPOLL_CTL_DEL, before close), and the
// socket, still referenced by the duplicate, stays open with no runtime
// state left. Nothing of tc is retained: no netFD, no pollDesc, no
// finalizer. O_NONBLOCK belongs to the open file description and so is
// already set by the runtime; setting it again costs one fcntl per
// connection and does not depend on that. TCPConn.File would do the dup
// too, but it allocates an *os.File with a finalizer that we would have to
// keep or defuse.
func detach(tc *net.TCPConn) (int, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	err = rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, os.NewSyscallError("fcntl", dupErr)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("fcntl", err)
	}
	tc.Close()
	return fd, nil
}

// Wake implements Poller.
func (e *Native) Wake() {
	if e.shut.Load() {
		e.late.interrupt()
		return
	}
	// Loading first keeps the common already-woken case from writing to
	// the flag's cache line.
	if e.woken.Load() || !e.woken.CompareAndSwap(false, true) {
		return
	}
	e.wakeMu.Lock()
	if e.shut.Load() {
		e.late.interrupt()
	} else {
		e.sys.wake()
	}
	e.wakeMu.Unlock()
}

// Wait implements Poller.
//
// Wait does not block its thread in the kernel when it can help it: a
// goroutine blocked in a system call keeps its P until sysmon takes it
// back, 20 µs to 10 ms later, so every other goroutine of a program whose
// loops hold all its Ps would wait that long for a turn, and the loop's
// own wake-up is a thread's, not a goroutine's. BenchmarkRoundTrip, 64
// bytes: blocking in epoll_wait takes 130 µs a round trip with
// GOMAXPROCS=1 and 44 µs with 2; parking takes 13 µs with either. So the
// epoll descriptor sits in the runtime's netpoller, and Wait polls it with
// a zero timeout and parks on it like any net.Conn read, with a read
// deadline for timeout; the runtime's spinning threads then pick the loop
// up as fast as any goroutine. A kqueue descriptor cannot sit there (see
// canPark): on kqueue, Wait blocks in kevent.
func (e *Native) Wait(timeout time.Duration) error {
	if e.shut.Load() {
		e.late.sleep(timeout)
		return nil
	}
	var n int
	var errno unix.Errno
	if e.napDue(timeout) {
		e.nap()
	}
	now := time.Now()
	e.tick(now)
	e.beat = e.heartbeat(now)
	if timeout != 0 && e.park != nil {
		if timeout > 0 {
			e.setDeadline(now, timeout)
		} else if e.deadline {
			e.file.SetReadDeadline(time.Time{})
			e.deadline = false
		}
		if err := e.park.Read(e.pollFn); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			if e.shut.Load() {
				return nil // closed under a parked Wait
			}
			return err
		}
		n, errno = e.polled, e.pollErr
		e.polled, e.pollErr = 0, 0
	} else {
		n, errno = e.waitBlocking(timeout)
	}
	if errno == unix.EINTR {
		n, errno = 0, 0 // only a zero timeout gets here: the caller polls again
	}
	if errno != 0 {
		return os.NewSyscallError(waitCall, errno)
	}
	e.waiting = true
	// Resolve every key under one lock, then call handlers with none held:
	// they may Add or Close connections.
	woke := false
	e.mu.Lock()
	for i := range n {
		fd, gen, mask, wake := e.sys.event(i)
		var c *nativeConn
		if wake {
			woke = true
		} else if int(fd) < len(e.conns) {
			// The generation, where the backend keeps one, guards against
			// a socket closed and replaced by a new one with the same
			// number since the kernel returned the event.
			if c = e.conns[fd]; c != nil && gen != 0 && c.gen != gen {
				c = nil
			}
		}
		e.ready[i] = readyConn{c: c, mask: mask}
	}
	e.mu.Unlock()
	e.lastN = n
	for start := 0; start < n; {
		// Sockets read ahead in one system call (batch_linux.go) are
		// handled in the same order as the others.
		end := e.readAhead(start, n)
		for i := start; i < end; i++ {
			r := e.ready[i]
			if r.c == nil {
				continue
			}
			e.ready[i] = readyConn{}
			e.served(r.c)
			r.c.handle(r)
		}
		start = end
	}
	if woke && !e.shut.Load() {
		// Reset the eventfd before the flag: a Wake that finds the flag
		// still set is then one whose effect this Wait already covers.
		e.sys.drainWake(e.scrap[:])
		e.woken.Store(false)
		// Goroutine-served connections post, then Wake: their events are
		// queued by now. So does Add with its kicks.
		e.hub.dispatch(e.hub.take())
		e.kick()
	}
	e.waiting = false
	if e.shut.Load() {
		e.releaseBufs() // closed by a handler of this Wait
	}
	return nil
}

// releaseBufs gives the read buffers back to their pools, once the Native
// is closed and no Wait uses them.
func (e *Native) releaseBufs() {
	if e.buf != nil {
		readBufs.Put(e.buf)
		e.buf = nil
	}
	if e.plain != nil {
		plainBufs.Put(e.plain)
		e.plain = nil
	}
	e.releaseAhead()
}

// deadlineSlack is how much earlier than asked a deadline already set may
// fall and still be kept (see setDeadline).
const deadlineSlack = time.Millisecond

// setDeadline makes a parked Wait end timeout after now. A loop whose
// next timer stays put asks for the same instant Wait after Wait, and
// setting a deadline modifies a runtime timer each time, so a deadline
// still ahead that falls no later than asked, and at most deadlineSlack
// earlier, is kept: waking that little early only costs the loop a turn.
func (e *Native) setDeadline(now time.Time, timeout time.Duration) {
	at := now.Add(timeout)
	if e.deadline && e.deadlineAt.After(now) && !at.Before(e.deadlineAt) && at.Sub(e.deadlineAt) <= deadlineSlack {
		return
	}
	e.file.SetReadDeadline(at)
	e.deadline, e.deadlineAt = true, at
}

// kick drains the TLS connections added since the last kick.
func (e *Native) kick() {
	e.mu.Lock()
	kicks := e.kicks
	e.kicks = nil
	e.mu.Unlock()
	for _, c := range kicks {
		c.kick()
	}
}

// poll is the RawConn.Read callback of a parking Wait: it reports whether
// there is something to do, and parks the goroutine otherwise.
func (e *Native) poll(uintptr) bool {
	e.polled, e.pollErr = e.pollNow()
	return e.polled > 0 || (e.pollErr != 0 && e.pollErr != unix.EINTR)
}

// pollNow polls without blocking, through the runtime's system-call
// bookkeeping when a heartbeat is due.
func (e *Native) pollNow() (int, unix.Errno) {
	if e.beat {
		e.beat = false
		return e.sys.waitBooked()
	}
	return e.sys.wait(0)
}

// heartbeat reports whether this Wait's poll should go through the
// runtime's system-call bookkeeping, which it does every heartbeatEvery.
// The loop's system calls skip that bookkeeping (sys_linux.go), and it is
// what wakes the runtime's sysmon from the deep sleep it falls into when
// every P is idle; nothing else does while loops run. Without sysmon,
// nothing sees to it that a thread polls the runtime's netpoller while the
// others run goroutines: with two loops on two Ps, one loop parked while the other stayed busy
// went unwoken for 40–500 ms with its events waiting (fan, 1000 sockets).
// A booked poll every 10 ms keeps sysmon up, and with it the netpoller's
// 10 ms backstop, at one booked call per loop per 10 ms.
func (e *Native) heartbeat(now time.Time) bool {
	if now.Sub(e.beatAt) < heartbeatEvery {
		return false
	}
	e.beatAt = now
	return true
}

// waitBlocking is Wait in the kernel, for a zero timeout, which does not
// block, and for when the runtime did not take the descriptor. timeout is
// rounded up to whole milliseconds, the unit of epoll_wait, so
// that a timer due in less than one is waited for instead of polled in a
// spin.
func (e *Native) waitBlocking(timeout time.Duration) (int, unix.Errno) {
	msec := toMsec(timeout)
	if msec == 0 {
		return e.pollNow()
	}
	var deadline time.Time
	if msec > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		n, errno := e.sys.wait(msec)
		if errno != unix.EINTR {
			return n, errno
		}
		if msec > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return 0, 0
			}
			msec = toMsec(left)
		}
	}
}

// readBuf is the Wait's read buffer, borrowed on its first read.
func (e *Native) readBuf() []byte {
	if e.buf == nil {
		e.buf = readBufs.Get().(*[readSize]byte)
	}
	return e.buf[:]
}

func (e *Native) forget(c *nativeConn) {
	e.mu.Lock()
	if fd := int(c.fd); fd < len(e.conns) && e.conns[fd] == c {
		e.conns[fd] = nil
	}
	e.mu.Unlock()
}

// Close implements Poller. It must not run while Wait does, except from a
// handler called by that Wait. A Wait after Close only sleeps, for up to
// its timeout or until Wake, so that a loop whose poller is gone can still
// run its timers and tasks.
func (e *Native) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	var open []*nativeConn
	for _, c := range e.conns {
		if c != nil {
			open = append(open, c)
		}
	}
	e.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
	e.hub.closeAll()

	e.wakeMu.Lock()
	e.shut.Store(true)
	if !e.waiting {
		e.releaseBufs()
	}
	pending := e.woken.Load()
	var err error
	err = e.sys.closeWake()
	e.wakeMu.Unlock()
	if pending {
		// A Wake no Wait has seen yet must still end the next one.
		e.late.interrupt()
	}
	e.closeRing()
	var err2 error
	if e.file != nil {
		err2 = e.file.Close()
	} else if cerr := unix.Close(e.sys.fd()); cerr != nil {
		err2 = os.NewSyscallError("close", cerr)
	}
	if err == nil {
		err = err2
	}
	return err
}

// readyConn is a connection a Wait found ready, with what it is ready for,
// and the read made for it ahead of its turn, if one was (readAhead).
type readyConn struct {
	c     *nativeConn
	mask  uint32
	ahead bool   // read already: res is the read's result, into slot
	res   int32  // bytes read, 0 at EOF, or a negative errno
	slot  []byte // the read's buffer, which stays its own until handled
}

// nativeConn is a socket owned by a Native; it is all an idle connection
// costs besides the kernel's socket.
type nativeConn struct {
	e   *Native
	h   Handler
	fd  int32
	gen uint32

	mu sync.Mutex // guards what follows; Write takes it on any goroutine
	// mask is the registered interest, 0 when not registered.
	mask uint32
	// reading is cleared once OnHangup has been called. Only the loop
	// changes it, which is why handle may read it without mu.
	reading bool
	// paused is set by SetPaused, on the loop, like reading.
	paused bool
	// wantOut: a Write was short and OnWritable is owed.
	wantOut bool
	wshut   bool
	// closed is set only by Close, on the loop goroutine, so handle reads
	// it without mu.
	closed bool
	// epoch is the Native's epoch in which the loop last served the
	// socket (nap.go). Loop only; it wraps, and a socket last served 256
	// epochs ago is then not counted once.
	epoch uint8
	// t is the TLS state of a socket taken over from a Bridge, nil for
	// plain TCP.
	t *tlsSock
}

// rearmLocked tells the kernel the interest that reading and wantOut call
// for. A socket with none is deregistered rather than left with an empty
// mask: epoll reports HUP and ERR whatever the mask, and level-triggered it
// would report them in every Wait.
func (c *nativeConn) rearmLocked() error {
	var want uint32
	if c.reading && !c.paused {
		want |= rdEvents
	}
	if c.wantOut || (c.t != nil && !c.closed && c.t.pending() > 0) {
		want |= wrEvents
	}
	if want == c.mask {
		return nil
	}
	var err error
	c.mask, err = c.e.sys.ctl(c.fd, c.gen, c.mask, want)
	return err
}

// handle reports the readiness of one socket to its handler. Bytes read
// ahead are delivered even if a handler paused the socket since: they
// are out of the kernel, and pausing stops the reads, not the delivery
// of what was read (as with a TLS record's rest).
func (c *nativeConn) handle(r readyConn) {
	ev := r.mask
	if c.closed {
		return
	}
	if r.ahead {
		if c.reading {
			n, errno := result(r.res)
			c.consume(r.slot, n, errno, ev, 1)
		}
		if c.closed {
			return
		}
	} else if c.reading && !c.paused && ev&(evIn|endEvents) != 0 {
		c.read(ev)
		if c.closed {
			return
		}
	}
	if ev&(evOut|evHup|evErr) != 0 {
		c.mu.Lock()
		owed := c.wantOut
		if c.t != nil {
			c.t.flushLocked()
			owed = owed && (c.t.pending() == 0 || c.t.werr != nil)
		}
		if owed {
			c.wantOut = false
		}
		c.rearmLocked()
		c.mu.Unlock()
		if owed {
			c.h.OnWritable()
		}
	}
}

// read reads once, for fairness: a socket with more to read is still
// readable, so level-triggered readiness returns it in the next Wait. A
// socket alone in its Wait's events reads on while it fills the buffer, up
// to aloneReads buffers: no other socket waits for its turn, and every
// further read made here saves the poll that would bring the socket back.
// When the peer has finished (or the socket failed) and a read did not
// fill the buffer, all that was queued is read, and the next read meets
// the end: that one is made now rather than one Wait later.
func (c *nativeConn) read(ev uint32) {
	if c.t != nil {
		c.readTLS(ev)
		return
	}
	buf := c.e.readBuf()
	turn := 1
	if c.e.lastN == 1 {
		turn = aloneReads
	}
	n, errno := sysRead(c.fd, buf)
	c.consume(buf, n, errno, ev, turn)
}

// consume hands the result of a read into buf (n bytes, or errno; n and
// errno both 0 at EOF) to the handler, and reads on into buf as read
// describes, up to turn reads in all.
func (c *nativeConn) consume(buf []byte, n int, errno unix.Errno, ev uint32, turn int) {
	endRead := false // this read is the one for the end
	for reads := 1; ; reads++ {
		if n > 0 {
			c.h.OnRead(buf[:n])
			if c.closed || !c.reading || c.paused || endRead {
				return
			}
			if n == len(buf) {
				if reads >= turn {
					return
				}
			} else if ev&endEvents == 0 {
				return
			} else {
				endRead = true
			}
			n, errno = sysRead(c.fd, buf)
			continue
		}
		if reads > 1 && !endRead && (errno == unix.EAGAIN || errno == unix.EINTR) {
			return // the buffers before took all there was
		}
		switch errno {
		case 0:
			c.hangup(nil)
		case unix.EAGAIN, unix.EINTR:
			if ev&(evHup|evErr) != 0 {
				// Not expected, but HUP would be reported again and again.
				c.hangup(sockError(c.fd))
			}
		default:
			c.hangup(os.NewSyscallError("read", errno))
		}
		return
	}
}

func sockError(fd int32) error {
	v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil || v == 0 {
		return nil
	}
	return os.NewSyscallError("read", unix.Errno(v))
}

func (c *nativeConn) hangup(err error) {
	c.mu.Lock()
	c.reading = false
	c.rearmLocked()
	c.mu.Unlock()
	c.h.OnHangup(err)
}

// SetPaused implements Conn: a paused socket is taken out of the read
// interest, so the kernel reports nothing until it is resumed.
func (c *nativeConn) SetPaused(paused bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.paused == paused {
		return
	}
	c.paused = paused
	c.rearmLocked()
}

// Unsent implements Conn.
func (c *nativeConn) Unsent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return -1
	}
	n := sysUnsent(int(c.fd))
	if n >= 0 && c.t != nil {
		n += c.t.pending()
	}
	return n
}

// Write implements Conn: the bytes go straight to the kernel's send buffer,
// so there is nothing of ours left to flush at CloseWrite or Close. A TLS
// connection's records may wait in its queue for a while (see writeTLS).
func (c *nativeConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.wshut {
		return 0, net.ErrClosed
	}
	if c.t != nil {
		return c.writeTLS(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, errno := sysSend(c.fd, p)
	for errno == unix.EINTR {
		n, errno = sysSend(c.fd, p)
	}
	return c.sentLocked(p, n, errno)
}

// sentLocked is what Write returns for a send of p that took n bytes or
// failed with errno (EAGAIN and EINTR: none taken); c.mu is held.
func (c *nativeConn) sentLocked(p []byte, n int, errno unix.Errno) (int, error) {
	if errno != 0 && errno != unix.EAGAIN && errno != unix.EINTR {
		return 0, os.NewSyscallError("write", errno)
	}
	if n < len(p) && !c.wantOut {
		c.wantOut = true
		if err := c.rearmLocked(); err != nil {
			c.wantOut = false
			return n, err
		}
	}
	return n, nil
}

// CloseWrite implements Conn. Every accepted byte is in the kernel
// already, which sends the FIN after them. A TLS connection sends its
// close_notify, and the FIN once its queue has drained.
func (c *nativeConn) CloseWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.wshut {
		return nil
	}
	c.wshut = true
	if c.t != nil {
		return c.closeWriteTLS()
	}
	if err := unix.Shutdown(int(c.fd), unix.SHUT_WR); err != nil {
		return os.NewSyscallError("shutdown", err)
	}
	return nil
}

// Close implements Conn. The kernel goes on sending what Write accepted
// after close(2), but it answers a close with unread input by a reset,
// which makes the peer drop whatever it has not read yet, possibly our
// closing frame. So Close first discards what is queued; input arriving
// later still draws a reset, as it would for any closed socket.
//
// A TLS connection sends its close_notify first, as tls.Conn.Close does.
// Should the kernel not take all of its queue at once, a goroutine waits to
// write the rest and close the socket, for lingerTimeout at most.
func (c *nativeConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.reading = false
	c.wantOut = false
	c.rearmLocked() // an explicit deregistration: lingerTLS keeps the descriptor open, and with epoll so may a forked child
	c.mu.Unlock()
	for range drainReads {
		if n, _ := sysDiscard(c.fd, drainChunk); n < drainChunk {
			break
		}
	}
	var rest *[]byte
	var sent int
	if c.t != nil {
		c.mu.Lock()
		rest, sent = c.closeTLS()
		c.mu.Unlock()
	}
	c.e.forget(c)
	if rest != nil {
		go lingerTLS(c.fd, rest, sent)
		return nil
	}
	if err := unix.Close(int(c.fd)); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// result splits a batched read's or send's result (batch_linux.go) into
// read(2)'s or send(2)'s two.
func result(res int32) (int, unix.Errno) {
	if res < 0 {
		return 0, unix.Errno(-res)
	}
	return int(res), 0
}

// toMsec converts a Wait timeout to the kernel's milliseconds, rounding up.
func toMsec(d time.Duration) int {
	const most = 1<<31 - 1
	switch {
	case d < 0:
		return -1
	case d == 0:
		return 0
	case d >= most*time.Millisecond:
		return most
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
