//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poll

// kqueue has no counterpart of io_uring: every read and send is a system
// call of its own (batch_linux.go has the Linux side).
type batch struct{}

// readAhead reads nothing ahead: every socket is read by handle.
func (e *Native) readAhead(start, n int) int { return n }

// QueueWrite implements Batcher: nothing is batched here.
func (e *Native) QueueWrite(Conn, []byte) bool { return false }

// WriteQueued implements Batcher.
func (e *Native) WriteQueued() {}

// Written implements Batcher; with nothing queued it is not called.
func (e *Native) Written(int) (int, error) { return 0, nil }

func (e *Native) closeRing()    {}
func (e *Native) releaseAhead() {}
