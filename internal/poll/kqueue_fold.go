package poll

// The part of the kqueue backend that needs no kqueue, so that it is
// tested on every system (kqueue_fold_test.go).

// Readiness bits as the kqueue backend reports them to Native (its evIn,
// evOut, evRdHup and evErr; epoll's own bits differ).
const (
	kqIn    = 1 << 0
	kqOut   = 1 << 1
	kqRdHup = 1 << 2
	kqHup   = 1 << 3 // never reported: see kqueue_bsd.go
	kqErr   = 1 << 4
)

// readyEntry is one socket's readiness in a wait, or the wake-up.
type readyEntry struct {
	fd   int32
	mask uint32
	wake bool
}

// foldKevent adds one kevent to the m entries of ready and returns the new
// count. kqueue reports a socket's read and write filters as two kevents,
// in whatever order; they fold into one entry with both bits, as epoll
// reports them, so that Native handles the socket once per Wait and reads
// before it writes. write tells EVFILT_WRITE from EVFILT_READ; eof is
// EV_EOF and failed an EV_EOF with an error in fflags, both meaningful for
// the read filter only: a write-side EOF is writable only, error or not,
// since the read filter reports the socket's error, and our own CloseWrite
// raises that EOF too. wake marks the wake-up pipe's kevent.
func foldKevent(ready []readyEntry, m int, fd int32, write, eof, failed, wake bool) int {
	if wake {
		ready[m] = readyEntry{fd: fd, wake: true}
		return m + 1
	}
	var mask uint32 = kqIn
	switch {
	case write:
		mask = kqOut
	case failed:
		mask |= kqRdHup | kqErr
	case eof:
		mask |= kqRdHup
	}
	j := 0
	for j < m && (ready[j].wake || ready[j].fd != fd) {
		j++
	}
	if j == m {
		ready[m] = readyEntry{fd: fd}
		m++
	}
	ready[j].mask |= mask
	return m
}
