//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poll

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The kqueue backend of Native, for macOS and the BSDs.
//
// kqueue reports each filter of a descriptor as an event of its own, where
// epoll reports one event with a mask; merge folds a wait's kevents into
// one mask per socket (foldKevent, in kqueue_fold.go, tested everywhere). Without EV_CLEAR a kqueue filter is
// level-triggered, as Native's epoll registration is, so Native's reading
// once per socket per Wait holds here too.
//
// What differs from epoll, and how the mask hides it:
//   - EVFILT_READ sets EV_EOF once the peer's FIN (or a reset) is queued,
//     with the socket's error in fflags: that is evRdHup, and evErr with
//     an error, as EPOLLRDHUP and EPOLLERR.
//   - EVFILT_WRITE sets EV_EOF as soon as the socket can send no more,
//     which our own CloseWrite also causes. EPOLLHUP means both directions
//     are gone, so a write-side EOF is reported as writable only, error
//     or not: Native must not read it as the end of input, and the read
//     filter reports the error.
//   - kqueue reports nothing for a descriptor with no filter, so a socket
//     without interest needs no special case.
//   - A socket's read and write filters fire as two kevents, which merge
//     folds into one entry, as epoll would report them.
//   - Events carry no generation (kqueue's udata is a pointer on most of
//     these systems, and a number there would mislead the collector), so
//     event returns 0 and Native resolves by descriptor alone. Deleting a
//     filter, which Native does before every close, also removes its
//     pending events from the queue, which is what the generation guards
//     against on Linux.
const (
	evIn    = kqIn
	evOut   = kqOut
	evRdHup = kqRdHup
	evHup   = kqHup // never reported: see above
	evErr   = kqErr
)

// canPark is false: Wait blocks its thread in kevent instead of parking
// on the runtime's netpoller. A kqueue descriptor takes only EVFILT_READ,
// and the runtime registers every descriptor for EVFILT_READ and
// EVFILT_WRITE in one kevent call (runtime/netpoll_kqueue.go), which then
// fails with EINVAL after adding the read filter: os.NewFile would fall
// back to a blocking file and leave that filter behind in the runtime's
// kqueue. Blocking costs a thread per waiting loop, and on Linux about
// twice the round trip time (BenchmarkRoundTrip's native-blocking case),
// since sysmon takes 20 µs or more to hand the loop's P to another thread.
const canPark = false

// waitCall names the wait in its errors.
const waitCall = "kevent"

// canNap is false: the naps of a busy loop (nap.go) were measured on
// Linux only.
const canNap = false

// sysPoller is a kqueue and the pipe that wakes it.
type sysPoller struct {
	kq     int
	wakeR  int
	wakeW  int
	events [eventBatch]unix.Kevent_t
	ready  [eventBatch]readyEntry // events, one entry per socket (merge)
}

func (p *sysPoller) open() error {
	// kqueue and pipe have no close-on-exec flag of their own on every one
	// of these systems: ForkLock keeps a fork from seeing them before
	// CloseOnExec, as the os package does.
	syscall.ForkLock.RLock()
	kq, err := unix.Kqueue()
	if err == nil {
		unix.CloseOnExec(kq)
	}
	var fds [2]int
	var perr error
	if err == nil {
		if perr = unix.Pipe(fds[:]); perr == nil {
			unix.CloseOnExec(fds[0])
			unix.CloseOnExec(fds[1])
		}
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return os.NewSyscallError("kqueue", err)
	}
	if perr != nil {
		unix.Close(kq)
		return os.NewSyscallError("pipe", perr)
	}
	p.kq, p.wakeR, p.wakeW = kq, fds[0], fds[1]
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			p.closeAll()
			return os.NewSyscallError("fcntl", err)
		}
	}
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], p.wakeR, unix.EVFILT_READ, unix.EV_ADD)
	if _, err := unix.Kevent(p.kq, ch[:], nil, nil); err != nil {
		p.closeAll()
		return os.NewSyscallError("kevent", err)
	}
	return nil
}

func (p *sysPoller) closeAll() {
	p.closeWake()
	unix.Close(p.kq)
}

// fd is the kqueue descriptor.
func (p *sysPoller) fd() int { return p.kq }

// closeWake closes the wake-up pipe.
func (p *sysPoller) closeWake() error {
	err := unix.Close(p.wakeW)
	if err2 := unix.Close(p.wakeR); err == nil {
		err = err2
	}
	if err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

var wakeByte = [1]byte{1}

// wake makes the kqueue readable. EAGAIN means the pipe is full, so it is
// readable already.
func (p *sysPoller) wake() { unix.Write(p.wakeW, wakeByte[:]) }

// drainWake empties the pipe, so that the next wake makes it readable
// again.
func (p *sysPoller) drainWake(scrap []byte) {
	for {
		if n, err := unix.Read(p.wakeR, scrap); err != nil || n < len(scrap) {
			return
		}
	}
}

// wait collects up to eventBatch kevents, for up to msec milliseconds (-1:
// no limit), and folds them into one entry per socket (see merge).
func (p *sysPoller) wait(msec int) (int, unix.Errno) {
	var ts *unix.Timespec
	var t unix.Timespec
	if msec >= 0 {
		// Darwin refuses long timeouts with EINVAL; the Go runtime clamps
		// its own kevent waits the same way.
		t = unix.NsecToTimespec(min(int64(msec)*int64(time.Millisecond), maxWait))
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, p.events[:], ts)
	if err != nil {
		return 0, errnoOf(err)
	}
	return p.merge(n), 0
}

// waitBooked is wait(0): kevent goes through the runtime's system-call
// bookkeeping anyway (see Native.heartbeat).
func (p *sysPoller) waitBooked() (int, unix.Errno) { return p.wait(0) }

// maxWait bounds one kevent wait, 10^6 s as the runtime's (a loop with
// nothing due for longer just waits again).
const maxWait = int64(1e6 * time.Second)

// merge turns the n kevents of a wait into entries of one socket each, in
// p.ready (see foldKevent), and returns how many there are.
func (p *sysPoller) merge(n int) int {
	m := 0
	for i := range n {
		ev := &p.events[i]
		switch int(ev.Filter) {
		case unix.EVFILT_READ:
			eof := ev.Flags&unix.EV_EOF != 0
			m = foldKevent(p.ready[:], m, int32(ev.Ident), false, eof, eof && ev.Fflags != 0, int(ev.Ident) == p.wakeR)
		case unix.EVFILT_WRITE:
			m = foldKevent(p.ready[:], m, int32(ev.Ident), true, false, false, false)
		}
	}
	return m
}

// event is the i-th entry of the last wait as Native sees it: the
// descriptor, the generation (0: kqueue keeps none), the readiness mask,
// and whether it is the wake-up.
func (p *sysPoller) event(i int) (fd int32, gen uint32, mask uint32, wake bool) {
	r := &p.ready[i]
	return r.fd, 0, r.mask, r.wake
}

// ctl changes the interest of fd from old to want, both made of rdEvents
// and wrEvents, and returns the interest now registered. Each filter is
// changed by a kevent call of its own: with no event list, a kevent call
// stops at its first failing change and leaves the later ones undone, and
// the caller must know which took. Deleting a filter that is not there
// (ENOENT) counts as done. It runs on any goroutine (a short Write arms
// evOut), so its change list is its own.
func (p *sysPoller) ctl(fd int32, _ uint32, old, want uint32) (uint32, error) {
	got := old
	for _, f := range [2]struct {
		bits   uint32
		filter int
	}{{evIn | evRdHup, unix.EVFILT_READ}, {evOut, unix.EVFILT_WRITE}} {
		if (old^want)&f.bits == 0 {
			continue
		}
		add := want&f.bits != 0
		flags := unix.EV_DELETE
		if add {
			flags = unix.EV_ADD
		}
		var ch [1]unix.Kevent_t
		unix.SetKevent(&ch[0], int(fd), f.filter, flags)
		if _, err := unix.Kevent(p.kq, ch[:], nil, nil); err != nil && (add || err != unix.ENOENT) {
			return got, os.NewSyscallError("kevent", err)
		}
		got = got&^f.bits | want&f.bits
	}
	return got, nil
}
