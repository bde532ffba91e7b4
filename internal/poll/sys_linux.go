package poll

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// These wrappers return the bare errno instead of an error so that the hot
// path neither boxes nor compares interfaces; callers wrap an errno in an
// *os.SyscallError only when they hand it on.
//
// Reads and sends on our non-blocking sockets never sleep, so the common
// ones skip the scheduler's syscall bookkeeping (RawSyscall): with it, a
// send that spends a while in the kernel's loopback path lets sysmon take
// the loop's P and wake another thread to run nothing. On the bench rt
// scenario that made 2.3–2.7 context switches per round trip; raw, exactly
// 1 (the wait for the reply). A raw call cannot be preempted, and a
// stop-the-world waits for it, so it is kept to what takes microseconds:
// reads (at most readSize) and sends of up to rawSendMax bytes. Nor does a
// raw call wake sysmon from the deep sleep it falls into when every P is
// idle, so a Wait books one poll every 10 ms (Native.heartbeat).

// rawSendMax is the largest send made without the syscall bookkeeping: a
// 64 KiB message with the largest frame header (14 bytes), so that a
// 64 KiB message is not the one size to pay for it.
const rawSendMax = 64<<10 + 14

func sysRead(fd int32, p []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// sysWrite is the eventfd's write, which never sleeps either. Raw, it
// spares the goroutine that wakes a parked loop (a blocking call's send)
// the sysmon wake-up that the bookkeeping makes whenever the process was
// idle: wsloop-blocking rt CPU 89-102 -> 70-77 µs a round trip, burst
// 471-480 k -> 524-531 k messages/s.
func sysWrite(fd int32, p []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// sysSend is write(2) without SIGPIPE: a peer that has gone away must give
// the writer EPIPE, not a signal to a thread that may be running anything.
func sysSend(fd int32, p []byte) (int, unix.Errno) {
	// Direct calls both: the compiler keeps p alive through the call only
	// when uintptr(unsafe.Pointer(...)) is an argument of the syscall
	// function itself, not of a func value.
	var n uintptr
	var e unix.Errno
	if len(p) <= rawSendMax {
		n, _, e = unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
			unix.MSG_NOSIGNAL, 0, 0)
	} else {
		n, _, e = unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
			unix.MSG_NOSIGNAL, 0, 0)
	}
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// sysDiscard drops up to max queued bytes of a TCP socket without copying
// them: with MSG_TRUNC, TCP's recvmsg skips the copy to user space, so no
// buffer is needed (and the nil one would fault rather than corrupt memory
// should a kernel copy after all).
func sysDiscard(fd int32, max int) (int, unix.Errno) {
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), 0, uintptr(max), unix.MSG_TRUNC|unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// epollWait polls without the scheduler's syscall bookkeeping when it may
// not block and book is false: the loop calls Wait(0) whenever tasks are
// queued, so this is a hot path. book asks for the bookkeeping all the same
// (see Native.heartbeat).
func epollWait(epfd int, evs []unix.EpollEvent, msec int, book bool) (int, unix.Errno) {
	var n uintptr
	var e unix.Errno
	if msec == 0 && !book {
		n, _, e = unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(evs))),
			uintptr(len(evs)), 0, 0, 0)
	} else {
		n, _, e = unix.Syscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(unsafe.SliceData(evs))),
			uintptr(len(evs)), uintptr(msec), 0, 0)
	}
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// sysUnsent is how many bytes the kernel holds in fd's send queue, not yet
// acknowledged by the peer (SIOCOUTQ), or -1.
func sysUnsent(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
	if err != nil {
		return -1
	}
	return n
}

// sysYield and sysSleep are the nap's calls (nap.go), raw like the reads
// above, since the runtime's bookkeeping would wake sysmon for each. So
// the loop keeps its P through them, as it does through a busy turn: a
// goroutine that becomes ready meanwhile and needs that P (with
// GOMAXPROCS 1, any) waits for the sleep's end, or, when the yield let
// another thread run, for that thread to give the core back.
func sysYield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

func sysSleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
}
