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
// epoll reports one event with a mask; sysPoller.event folds a kevent into
// the mask Native works with. Without EV_CLEAR a kqueue filter is
// level-triggered, as Native's epoll registration is, so Native's reading
// once per socket per Wait holds here too.
//
// What differs from epoll, and how the mask hides it:
//   - EVFILT_READ sets EV_EOF once the peer's FIN (or a reset) is queued,
//     with the socket's error in fflags: that is evRdHup, and evErr with
//     an error, as EPOLLRDHUP and EPOLLERR.
//   - EVFILT_WRITE sets EV_EOF as soon as the socket can send no more,
//     which our own CloseWrite also causes. EPOLLHUP means both directions
//     are gone, so a write-side EOF is reported as writable only (with
//     evErr for an error): Native must not read it as the end of input.
//   - kqueue reports nothing for a descriptor with no filter, so a socket
//     without interest needs no special case.
//   - Events carry no generation (kqueue's udata is a pointer on most of
//     these systems, and a number there would mislead the collector), so
//     event returns 0 and Native resolves by descriptor alone. Deleting a
//     filter, which Native does before every close, also removes its
//     pending events from the queue, which is what the generation guards
//     against on Linux.
const (
	evIn    = 1 << 0
	evOut   = 1 << 1
	evRdHup = 1 << 2
	evHup   = 1 << 3 // never reported: see above
	evErr   = 1 << 4
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

// sysPoller is a kqueue and the pipe that wakes it.
type sysPoller struct {
	kq     int
	wakeR  int
	wakeW  int
	events [eventBatch]unix.Kevent_t
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
	if err := unix.SetNonblock(p.wakeR, true); err != nil {
		p.closeAll()
		return os.NewSyscallError("fcntl", err)
	}
	if err := unix.SetNonblock(p.wakeW, true); err != nil {
		p.closeAll()
		return os.NewSyscallError("fcntl", err)
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
	unix.Close(p.wakeR)
	unix.Close(p.wakeW)
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

// wait collects up to eventBatch events, for up to msec milliseconds (-1:
// no limit).
func (p *sysPoller) wait(msec int) (int, unix.Errno) {
	var ts *unix.Timespec
	var t unix.Timespec
	if msec >= 0 {
		t = unix.NsecToTimespec(int64(msec) * int64(time.Millisecond))
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, p.events[:], ts)
	if err != nil {
		return 0, errnoOf(err)
	}
	return n, 0
}

// event is the i-th event of the last wait as Native sees it: the
// descriptor, the generation (0: kqueue keeps none), the readiness mask,
// and whether it is the wake-up.
func (p *sysPoller) event(i int) (fd int32, gen uint32, mask uint32, wake bool) {
	ev := &p.events[i]
	fd = int32(ev.Ident)
	switch int(ev.Filter) {
	case unix.EVFILT_READ:
		if int(ev.Ident) == p.wakeR {
			return fd, 0, 0, true
		}
		mask = evIn
		if ev.Flags&unix.EV_EOF != 0 {
			mask |= evRdHup
		}
	case unix.EVFILT_WRITE:
		mask = evOut
	}
	if ev.Flags&unix.EV_EOF != 0 && ev.Fflags != 0 {
		mask |= evErr
	}
	return fd, 0, mask, false
}

// ctl changes the interest of fd from old to want, both made of rdEvents
// and wrEvents. It runs on any goroutine (a short Write arms evOut), so
// its change list is its own.
func (p *sysPoller) ctl(fd int32, _ uint32, old, want uint32) error {
	var changes [2]unix.Kevent_t
	k := 0
	if (old^want)&evIn != 0 {
		unix.SetKevent(&changes[k], int(fd), unix.EVFILT_READ, addOrDelete(want&evIn != 0))
		k++
	}
	if (old^want)&evOut != 0 {
		unix.SetKevent(&changes[k], int(fd), unix.EVFILT_WRITE, addOrDelete(want&evOut != 0))
		k++
	}
	if k == 0 {
		return nil
	}
	for {
		_, err := unix.Kevent(p.kq, changes[:k], nil, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("kevent", err)
		}
		return nil
	}
}

func addOrDelete(add bool) int {
	if add {
		return unix.EV_ADD
	}
	return unix.EV_DELETE
}
