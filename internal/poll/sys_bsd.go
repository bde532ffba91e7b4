//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poll

import (
	"time"

	"golang.org/x/sys/unix"
)

// The system calls of Native on macOS and the BSDs. macOS supports system
// calls only through its C library, which x/sys/unix goes through, so
// these are its plain wrappers, with the scheduler's bookkeeping; the raw
// calls of sys_linux.go have no counterpart here.

func errnoOf(err error) unix.Errno {
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

func sysRead(fd int32, p []byte) (int, unix.Errno) {
	n, err := unix.Read(int(fd), p)
	if err != nil {
		return 0, errnoOf(err)
	}
	return n, 0
}

// sysSend is write(2). A peer that has gone away gives EPIPE here and a
// SIGPIPE, which the Go runtime ignores for descriptors other than
// standard output and error (see os/signal), as it does for the net
// package's own sockets, which make the same call on these systems.
func sysSend(fd int32, p []byte) (int, unix.Errno) {
	n, err := unix.Write(int(fd), p)
	if err != nil {
		return 0, errnoOf(err)
	}
	return n, 0
}

// sysDiscard drops up to max queued bytes of a socket. There is no
// MSG_TRUNC for TCP here, so the bytes are read, into a buffer borrowed
// from readBufs.
func sysDiscard(fd int32, max int) (int, unix.Errno) {
	buf := readBufs.Get().(*[readSize]byte)
	defer readBufs.Put(buf)
	total := 0
	for total < max {
		n, err := unix.Read(int(fd), buf[:min(len(buf), max-total)])
		if err != nil {
			if total > 0 {
				return total, 0
			}
			return 0, errnoOf(err)
		}
		total += n
		if n == 0 {
			break
		}
	}
	return total, 0
}

// sysUnsent would be the kernel's send queue (SO_NWRITE on macOS,
// FIONWRITE on FreeBSD); not asked here, it is unknown (-1), and callers
// fall back to what they know.
func sysUnsent(int) int { return -1 }

// sysYield and sysSleep are never called here (canNap is false).
func sysYield()              {}
func sysSleep(time.Duration) {}
