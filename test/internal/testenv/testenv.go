// Package testenv holds what the test helpers that start external programs
// share: the rule that turns a missing program into a skip or a failure,
// and a buffer that collects a program's output.
package testenv

import (
	"bytes"
	"os"
	"sync"
	"testing"
)

// RequiredEnv names the environment variable that turns a missing peer,
// program or privilege from a skip into a failure: .ci/run sets it to
// "required", so that CI never passes by skipping.
const RequiredEnv = "WSLOOP_PEERS"

// Unavailable ends t because something it needs can not run, as a failure
// or a skip depending on RequiredEnv.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequiredEnv) == "required" {
		t.Fatalf("%s (%s=required)", why, RequiredEnv)
	} else {
		t.Skip(why)
	}
}

// Buffer collects a process's output, written by exec's copying goroutine
// while the test may read it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Len is the number of bytes collected.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
