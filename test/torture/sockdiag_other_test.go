//go:build !linux

package torture_test

import (
	"errors"
	"net"
)

func tcpQueues(local, remote *net.TCPAddr) (rx, tx uint32, err error) {
	return 0, 0, errors.New("socket queues are read through Linux's sock_diag")
}

func tcpQueuesUsable() string {
	return "the dribble tests read socket queues through Linux's sock_diag"
}
