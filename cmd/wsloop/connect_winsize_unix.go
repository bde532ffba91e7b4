//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// followSize tells the line editor the terminal's width now and after
// each resize (SIGWINCH), so that it wraps a long line where the terminal
// does. It returns a function that stops following.
func followSize(fd int, t *term.Terminal) (stop func()) {
	resize := func() {
		if w, h, err := term.GetSize(fd); err == nil {
			t.SetSize(w, h)
		}
	}
	resize()
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-winch:
				resize()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		close(done)
	}
}
