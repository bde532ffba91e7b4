package torture_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"syscall"
)

// tcpQueues asks the kernel (NETLINK_SOCK_DIAG, as ss(8) does) for the
// queues of the IPv4 TCP socket from local to remote: rx, the bytes
// received that the application has not read; tx, the bytes sent that the
// peer has not acknowledged. It allocates nothing, so that polling it does
// not count in the heap the tests measure.
func tcpQueues(local, remote *net.TCPAddr) (rx, tx uint32, err error) {
	diag.mu.Lock()
	defer diag.mu.Unlock()
	if diag.fd == 0 {
		fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkSockDiag)
		if err != nil {
			return 0, 0, fmt.Errorf("netlink socket: %w", err)
		}
		diag.fd = fd
	}
	diag.seq++
	req := &diag.req
	ne := binary.NativeEndian
	// struct nlmsghdr
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST) // one socket, not a dump
	ne.PutUint32(req[8:], diag.seq)
	ne.PutUint32(req[12:], 0)
	// struct inet_diag_req_v2
	req[16], req[17], req[18], req[19] = syscall.AF_INET, syscall.IPPROTO_TCP, 0, 0
	ne.PutUint32(req[20:], ^uint32(0)) // every state
	// struct inet_diag_sockid, in network byte order: ports, addresses,
	// interface, and no cookie.
	id := req[24:]
	clear(id)
	binary.BigEndian.PutUint16(id[0:], uint16(local.Port))
	binary.BigEndian.PutUint16(id[2:], uint16(remote.Port))
	copy(id[4:8], local.IP.To4())
	copy(id[20:24], remote.IP.To4())
	ne.PutUint32(id[40:], ^uint32(0))
	ne.PutUint32(id[44:], ^uint32(0))

	if err := syscall.Sendto(diag.fd, req[:], 0, &diag.kernel); err != nil {
		return 0, 0, fmt.Errorf("netlink send: %w", err)
	}
	for {
		n, _, err := syscall.Recvfrom(diag.fd, diag.resp[:], 0)
		if err != nil {
			return 0, 0, fmt.Errorf("netlink receive: %w", err)
		}
		msg := diag.resp[:n]
		if len(msg) < 16 || ne.Uint32(msg[8:]) != diag.seq {
			continue // a stale answer
		}
		switch ne.Uint16(msg[4:]) {
		case syscall.NLMSG_ERROR:
			errno := -int32(ne.Uint32(msg[16:]))
			return 0, 0, fmt.Errorf("sock_diag %v -> %v: %w", local, remote, syscall.Errno(errno))
		case sockDiagByFamily:
			// struct inet_diag_msg: 4 bytes, the sockid (48), expires,
			// then the queues.
			if len(msg) < 16+64 {
				return 0, 0, fmt.Errorf("sock_diag: answer of %d bytes", len(msg))
			}
			return ne.Uint32(msg[16+56:]), ne.Uint32(msg[16+60:]), nil
		default:
			return 0, 0, fmt.Errorf("sock_diag: message type %d", ne.Uint16(msg[4:]))
		}
	}
}

const (
	netlinkSockDiag  = 4  // NETLINK_SOCK_DIAG
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
)

// diag is the netlink socket, kept for the process, and its buffers.
var diag struct {
	mu     sync.Mutex
	fd     int
	seq    uint32
	kernel syscall.SockaddrNetlink
	req    [16 + 56]byte
	resp   [8192]byte
}

func init() { diag.kernel.Family = syscall.AF_NETLINK }

// tcpQueuesUsable says why tcpQueues cannot work here, or "".
func tcpQueuesUsable() string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err.Error()
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	if _, _, err := tcpQueues(c.LocalAddr().(*net.TCPAddr), c.RemoteAddr().(*net.TCPAddr)); err != nil {
		return "the kernel does not report socket queues: " + err.Error()
	}
	return ""
}
