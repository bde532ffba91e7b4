//go:build linux || darwin

package main

import "syscall"

// rlimitNOFILE is the process's RLIMIT_NOFILE. (Go itself raises the soft
// limit to the hard one at start on these systems, but not past a hard
// limit raised since, nor in a process that lowered it.)
type rlimitNOFILE struct{}

func (rlimitNOFILE) get() (soft, hard uint64, ok bool, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, false, err
	}
	return rl.Cur, rl.Max, true, nil
}

func (rlimitNOFILE) set(soft uint64) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	rl.Cur = soft
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
}
