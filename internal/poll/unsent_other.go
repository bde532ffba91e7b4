//go:build !darwin && !dragonfly && !freebsd && !linux && !netbsd && !openbsd

package poll

import "net"

// kernelUnsent is unknown here.
func kernelUnsent(net.Conn) int { return -1 }
