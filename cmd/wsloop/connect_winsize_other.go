//go:build !unix

package main

import "golang.org/x/term"

// followSize tells the line editor the terminal's width. Without
// SIGWINCH, a resize goes unnoticed.
func followSize(fd int, t *term.Terminal) (stop func()) {
	if w, h, err := term.GetSize(fd); err == nil {
		t.SetSize(w, h)
	}
	return func() {}
}
