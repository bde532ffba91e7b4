package poll

import (
	"os"

	"golang.org/x/sys/unix"
)

// The epoll backend of Native, on Linux. An event's mask is epoll's own,
// so Native's readiness bits are epoll's bits and nothing is translated.
const (
	evIn    = unix.EPOLLIN
	evOut   = unix.EPOLLOUT
	evRdHup = unix.EPOLLRDHUP
	evHup   = unix.EPOLLHUP
	evErr   = unix.EPOLLERR
)

// canPark: the runtime's netpoller can watch an epoll descriptor, so Wait
// parks its goroutine there.
const canPark = true

// waitCall names the wait in its errors.
const waitCall = "epoll_wait"

// canNap: a busy loop may nap before its poll (nap.go). Measured on
// Linux only.
const canNap = true

// wakeBytes is the 8-byte counter increment an eventfd write must carry;
// any non-zero value will do, so byte order does not matter.
var wakeBytes = [8]byte{1}

// sysPoller is an epoll instance and the eventfd that wakes it.
type sysPoller struct {
	epfd   int
	efd    int
	events [eventBatch]unix.EpollEvent
}

func (p *sysPoller) open() error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return os.NewSyscallError("eventfd", err)
	}
	// A socket's key carries a generation that is never 0 (see ctl), so
	// the eventfd's key cannot be mistaken for a socket that got its
	// number.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(efd)
		unix.Close(epfd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	p.epfd, p.efd = epfd, efd
	return nil
}

// fd is the descriptor Wait parks on.
func (p *sysPoller) fd() int { return p.epfd }

// closeWake closes the eventfd.
func (p *sysPoller) closeWake() error {
	if err := unix.Close(p.efd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// wake makes the epoll readable. EAGAIN comes only when the counter is
// full: it is set anyway.
func (p *sysPoller) wake() { sysWrite(int32(p.efd), wakeBytes[:]) }

// drainWake resets the eventfd's counter.
func (p *sysPoller) drainWake(scrap []byte) { sysRead(int32(p.efd), scrap[:8]) }

// wait collects up to eventBatch events, for up to msec milliseconds (-1:
// no limit).
func (p *sysPoller) wait(msec int) (int, unix.Errno) {
	return epollWait(p.epfd, p.events[:], msec, false)
}

// waitBooked is wait(0) through the runtime's system-call bookkeeping
// (see Native.heartbeat).
func (p *sysPoller) waitBooked() (int, unix.Errno) {
	return epollWait(p.epfd, p.events[:], 0, true)
}

// event is the i-th event of the last wait as Native sees it: the
// descriptor, the generation Add gave it, the readiness mask, and whether
// it is the wake-up.
func (p *sysPoller) event(i int) (fd int32, gen uint32, mask uint32, wake bool) {
	ev := &p.events[i]
	if ev.Fd == int32(p.efd) && ev.Pad == 0 {
		return ev.Fd, 0, 0, true
	}
	return ev.Fd, uint32(ev.Pad), ev.Events, false
}

// ctl changes the interest of fd from old to want, registering it when
// old is 0 and deregistering it when want is 0, and returns the interest
// now registered: want, or old when epoll_ctl fails. gen goes into the
// event's key beside fd.
func (p *sysPoller) ctl(fd int32, gen uint32, old, want uint32) (uint32, error) {
	op := unix.EPOLL_CTL_MOD
	switch {
	case old == 0:
		op = unix.EPOLL_CTL_ADD
	case want == 0:
		op = unix.EPOLL_CTL_DEL
	}
	ev := unix.EpollEvent{Events: want, Fd: fd, Pad: int32(gen)}
	if err := unix.EpollCtl(p.epfd, op, int(fd), &ev); err != nil {
		return old, os.NewSyscallError("epoll_ctl", err)
	}
	return want, nil
}
