package peers

import (
	"bytes"
	"strings"
	"sync"
)

// lineWriter is a peer process's stdout: it hands over the first line, by
// which the peer says it is ready, and drops the rest. Being an io.Writer
// rather than a pipe read by hand lets exec.Cmd.Wait own the copying.
type lineWriter struct {
	first chan string

	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
}

func newLineWriter() *lineWriter {
	return &lineWriter{first: make(chan string, 1)}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(p), nil
	}
	w.buf.Write(p)
	if line, _, ok := bytes.Cut(w.buf.Bytes(), []byte("\n")); ok {
		w.first <- strings.TrimSpace(string(line))
		w.sent = true
		w.buf = bytes.Buffer{}
	}
	return len(p), nil
}
