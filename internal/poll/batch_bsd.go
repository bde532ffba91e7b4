//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poll

// kqueue has no counterpart of io_uring: every read and send is a system
// call of its own, and the Native is no Batcher here (batch_linux.go has
// the Linux side).
type batch struct{}

func (b *batch) init() {}

// readAhead reads nothing ahead: every socket is read by handle.
func (e *Native) readAhead(start, n int) int { return n }

func (e *Native) closeRing()    {}
func (e *Native) releaseAhead() {}
