//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

import (
	"net"
	"syscall"
)

// kernelUnsent is the kernel's send queue under nc, for a connection the
// portable poller serves, or -1.
func kernelUnsent(nc net.Conn) int {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	if rc.Control(func(fd uintptr) { n = sysUnsent(int(fd)) }) != nil {
		return -1
	}
	return n
}
