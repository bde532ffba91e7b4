package poll

import (
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// uring is an io_uring instance used for one thing only: making many
// reads or sends on different sockets in one system call. Each operation
// is flagged MSG_DONTWAIT, so the kernel completes it inside that call
// (data or EAGAIN, as read(2) and send(2) would) and never holds a buffer
// past it: the ring is a batch of system calls, not asynchronous I/O.
//
// Why: on this project's machine (a PVM guest, where every system call
// enters the hypervisor) a system call costs 1.2 µs before it does
// anything, and a loopback send and read of 32 bytes on each of 5 sockets
// cost 6.1 µs a pair made one by one, 3.4 µs batched (20 sockets: 6.3
// against 2.6). A batch of one is slower than the plain call (7–9 µs), so
// Native batches only two operations or more.
//
// The ABI's layouts are declared here rather than taken from a package:
// golang.org/x/sys/unix has none of them. A ring belongs to the loop
// goroutine that runs Wait, like the read buffer.
type uring struct {
	fd      int
	mem     []byte // the submission and completion rings, mapped once
	sqeMem  []byte
	sqTail  *uint32
	sqHead  *uint32
	sqMask  uint32
	sqes    []uringSQE
	cqHead  *uint32
	cqTail  *uint32
	cqMask  uint32
	cqes    []uringCQE
	tail    uint32 // our copy of the submission tail
	pending uint32 // queued since the last submit
	broken  bool   // the ring failed: make no more batches
	res     [ringEntries]int32
}

// ringEntries is the submission ring's size: the most operations one
// system call makes. The completion ring is twice that, so a batch never
// overflows it.
const ringEntries = 64

// From the kernel's include/uapi/linux/io_uring.h.
const (
	uringOffSQRing = 0
	uringOffSQEs   = 0x10000000

	uringSetupSubmitAll = 1 << 7 // submit every entry even when one fails
	uringFeatSingleMmap = 1 << 0
	uringEnterGetEvents = 1 << 0

	uringOpSend = 26
	uringOpRecv = 27
)

type uringSQOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type uringCQOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sq                                                                     uringSQOffsets
	cq                                                                     uringCQOffsets
}

type uringSQE struct {
	opcode   uint8
	flags    uint8
	ioprio   uint16
	fd       int32
	off      uint64
	addr     uint64
	len      uint32
	msgFlags uint32
	userData uint64
	bufIndex uint16
	pers     uint16
	fileIdx  int32
	addr3    uint64
	pad      uint64
}

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// newUring sets up a ring, or fails where the kernel lacks io_uring (before
// 5.18 for SUBMIT_ALL), has it disabled (kernel.io_uring_disabled), or a
// seccomp filter forbids it, as container runtimes' default profiles do.
// The caller then makes its calls one by one.
func newUring() (*uring, error) {
	var p uringParams
	p.flags = uringSetupSubmitAll
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, ringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, os.NewSyscallError("io_uring_setup", errno)
	}
	r := &uring{fd: int(fd)}
	if p.features&uringFeatSingleMmap == 0 || p.sqEntries < ringEntries || p.cqEntries < 2*ringEntries {
		r.close()
		return nil, os.NewSyscallError("io_uring_setup", unix.EOPNOTSUPP)
	}
	size := max(p.sq.array+p.sqEntries*4, p.cq.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	mem, err := unix.Mmap(r.fd, uringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.close()
		return nil, os.NewSyscallError("mmap", err)
	}
	r.mem = mem
	sqeMem, err := unix.Mmap(r.fd, uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.close()
		return nil, os.NewSyscallError("mmap", err)
	}
	r.sqeMem = sqeMem
	base := unsafe.Pointer(unsafe.SliceData(mem))
	r.sqHead = (*uint32)(unsafe.Add(base, p.sq.head))
	r.sqTail = (*uint32)(unsafe.Add(base, p.sq.tail))
	r.sqMask = *(*uint32)(unsafe.Add(base, p.sq.ringMask))
	r.cqHead = (*uint32)(unsafe.Add(base, p.cq.head))
	r.cqTail = (*uint32)(unsafe.Add(base, p.cq.tail))
	r.cqMask = *(*uint32)(unsafe.Add(base, p.cq.ringMask))
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Add(base, p.cq.cqes)), p.cqEntries)
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(unsafe.SliceData(sqeMem))), p.sqEntries)
	// The index array maps ring slots to entries; slot i always holds
	// entry i, so it is filled once.
	array := unsafe.Slice((*uint32)(unsafe.Add(base, p.sq.array)), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.tail = atomic.LoadUint32(r.sqTail)
	return r, nil
}

// queue adds a recv (op uringOpRecv) or send (uringOpSend) of p on fd;
// submit reports its result under its place in the batch, counted from 0.
// p must stay alive and untouched until submit returns, which the caller
// sees to by holding it.
func (r *uring) queue(op uint8, fd int32, p []byte) {
	i := r.pending
	s := &r.sqes[r.tail&r.sqMask]
	*s = uringSQE{opcode: op, fd: fd, addr: uint64(uintptr(unsafe.Pointer(unsafe.SliceData(p)))), len: uint32(len(p)), userData: uint64(i)}
	s.msgFlags = unix.MSG_DONTWAIT
	if op == uringOpSend {
		s.msgFlags |= unix.MSG_NOSIGNAL
	}
	r.tail++
	r.pending++
}

// submit makes every queued operation and leaves each one's result in
// res[index]: bytes, or a negative errno. Raw, as the plain reads and
// sends are (sys_linux.go): MSG_DONTWAIT keeps every operation from
// sleeping, and the caller keeps a batch's bytes small.
//
// Should io_uring_enter itself fail, as it does under a seccomp filter
// that lets the ring be set up but not entered, the ring is marked broken
// and the operations the kernel never took are left at resUnmade, for the
// caller to make one by one. One it took and did not report, which a
// working kernel does not do, is given the error: the caller fails its
// connection rather than guess what was read or sent.
func (r *uring) submit() {
	want := r.pending
	r.pending = 0
	for i := range want {
		r.res[i] = resUnmade
	}
	head := atomic.LoadUint32(r.sqHead)
	atomic.StoreUint32(r.sqTail, r.tail)
	var got uint32
	for got < want {
		toSubmit := r.tail - atomic.LoadUint32(r.sqHead)
		_, _, errno := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(want-got), uringEnterGetEvents, 0, 0)
		got += r.reap()
		if errno != 0 && errno != unix.EINTR && errno != unix.EAGAIN && errno != unix.EBUSY {
			taken := atomic.LoadUint32(r.sqHead) - head
			for i := range min(taken, want) {
				if r.res[i] == resUnmade {
					r.res[i] = -int32(errno)
				}
			}
			r.broken = true
			return
		}
	}
}

// resUnmade marks an operation the kernel did not take; no errno is that
// large.
const resUnmade = -1 << 30

// reap takes every completion in the ring.
func (r *uring) reap() uint32 {
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail)
	n := tail - head
	for ; head != tail; head++ {
		c := &r.cqes[head&r.cqMask]
		if c.userData < ringEntries {
			r.res[c.userData] = c.res
		}
	}
	atomic.StoreUint32(r.cqHead, head)
	return n
}

func (r *uring) close() {
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
	}
	if r.mem != nil {
		unix.Munmap(r.mem)
	}
	unix.Close(r.fd)
}
