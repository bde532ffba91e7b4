package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeCounter counts this process's write-family system calls when
// -count-writes asks for them (the writes/op column); nil otherwise.
var writeCounter *syscallCounter

// writeSyscalls are the system calls counted as writes: to a socket or to
// anything else (an eventfd that wakes a loop is written too).
var writeSyscalls = []int{
	unix.SYS_WRITE, unix.SYS_WRITEV, unix.SYS_PWRITE64, unix.SYS_PWRITEV, unix.SYS_PWRITEV2,
	unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_SENDMMSG,
}

// perfBitInheritThread is perf_event_attr's inherit_thread bit (Linux
// 5.13): with inherit, the event goes to new threads of the process but not
// to child processes, such as the server the driver starts.
const perfBitInheritThread = 1 << 35

// syscallCounter counts entries into some system calls by every thread of
// this process, with the kernel's raw_syscalls:sys_enter tracepoint, a
// filter on the call's number, and one perf event per thread that exists
// when it is opened. The events are inherited by new threads (not by child
// processes), so threads the runtime starts later, from any of those, are
// counted too, and reading an event adds its children's counts. No process counter does this:
// /proc/self/io's syscw leaves out send, sendto and sendmsg, and rusage
// has no system call count.
//
// While the tracepoint has a listener, every system call on the machine
// takes the kernel's slower traced path, for every library alike; that is
// why it is asked for with a flag.
type syscallCounter struct {
	fds []int
}

// openWriteCounter sets the counter up; the driver calls it first thing,
// while the process has few threads. The counts of a thread started after
// it, inherited, reach the count only when that thread exits (perf adds a
// child's count to its parent's then), and the Go runtime's threads seldom
// exit: a program that starts threads later is undercounted.
func openWriteCounter() (*syscallCounter, error) {
	id, err := tracepointID("raw_syscalls/sys_enter")
	if err != nil {
		return nil, err
	}
	var conds []string
	for _, nr := range writeSyscalls {
		conds = append(conds, fmt.Sprintf("id == %d", nr))
	}
	filter := append([]byte(strings.Join(conds, " || ")), 0)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	c := &syscallCounter{}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		attr := unix.PerfEventAttr{
			Type:   unix.PERF_TYPE_TRACEPOINT,
			Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
			Config: id,
			Bits:   unix.PerfBitDisabled | unix.PerfBitInherit | perfBitInheritThread,
		}
		fd, err := unix.PerfEventOpen(&attr, tid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err == unix.ESRCH {
			continue // the thread has ended
		}
		if err != nil {
			c.close()
			return nil, fmt.Errorf("perf_event_open on the sys_enter tracepoint: %w (it needs root or CAP_PERFMON, or kernel.perf_event_paranoid ≤ 1)", err)
		}
		c.fds = append(c.fds, fd)
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.PERF_EVENT_IOC_SET_FILTER, uintptr(unsafe.Pointer(&filter[0]))); e != 0 {
			c.close()
			return nil, fmt.Errorf("setting the system call filter: %w", e)
		}
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			c.close()
			return nil, fmt.Errorf("enabling the counter: %w", err)
		}
	}
	if len(c.fds) == 0 {
		return nil, fmt.Errorf("no thread to count")
	}
	return c, nil
}

// tracepointID reads a tracepoint's id from tracefs.
func tracepointID(name string) (uint64, error) {
	var firstErr error
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		b, err := os.ReadFile(dir + "/events/" + name + "/id")
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	}
	return 0, fmt.Errorf("tracepoint %s: %w (is tracefs mounted?)", name, firstErr)
}

// count is the number of calls so far, or -1 for a nil counter (or one
// that cannot be read).
func (c *syscallCounter) count() int64 {
	if c == nil {
		return -1
	}
	var n int64
	var b [8]byte
	for _, fd := range c.fds {
		if k, err := unix.Read(fd, b[:]); err != nil || k != 8 {
			return -1
		}
		n += int64(binary.NativeEndian.Uint64(b[:]))
	}
	return n
}

func (c *syscallCounter) close() {
	for _, fd := range c.fds {
		unix.Close(fd)
	}
	c.fds = nil
}
