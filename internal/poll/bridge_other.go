//go:build !darwin && !dragonfly && !freebsd && !linux && !netbsd && !openbsd

package poll

import "net"

// tlsSock is the state of a socket a Native took over from a Bridge; there
// is no Native here, so no Bridge ever leaves passthrough mode.
type tlsSock struct {
	laddr, raddr net.Addr
}

func (s *tlsSock) read([]byte, *recordCursor) (int, error) { return 0, net.ErrClosed }
func (s *tlsSock) write([]byte) (int, error)               { return 0, net.ErrClosed }
