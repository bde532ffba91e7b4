package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// waitTimeout bounds every wait of the serve tests, so that a broken
// server fails the step that waited instead of hanging the run.
const waitTimeout = 10 * time.Second

// logLines is the server's stderr: safe from the goroutines that log
// (the loop, the HTTP handlers, the command's), and a test can wait for
// a line in it.
type logLines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed, and replaced, by each Write
}

func newLogLines() *logLines { return &logLines{changed: make(chan struct{})} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor returns the first line that holds s, once it has been written.
func (l *logLines) waitFor(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		l.mu.Lock()
		text, changed := l.buf.String(), l.changed
		l.mu.Unlock()
		for line := range strings.Lines(text) {
			if strings.Contains(line, s) {
				return line
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no line with %q within %v; the log:\n%s", s, waitTimeout, text)
		}
	}
}

// startServe runs "wsloop serve -addr 127.0.0.1:0 args..." in the
// process and returns its URL, read from its stdout, and its log. stop
// ends it as SIGINT does and returns its exit code; the test's end stops
// it too.
func startServe(t *testing.T, args ...string) (url string, log *logLines, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	log = newLogLines()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), nil, outW, log)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed no URL (%v); its log:\n%s", err, log)
	}
	go io.Copy(io.Discard, outR)
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(waitTimeout):
				t.Errorf("serve did not stop within %v; its log:\n%s", waitTimeout, log)
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return strings.TrimSpace(line), log, stop
}

// dial opens a client socket for the test, closed at its end.
func dial(t *testing.T, url string, cfg *websocket.Config) *websocket.WebSocket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ws, err := websocket.Dial(ctx, url, cfg)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// receive is the socket's next event, as LowLevelReceive gives it.
func receive(t *testing.T, ws *websocket.WebSocket) websocket.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ev, err := ws.LowLevelReceive(ctx)
	if err != nil {
		t.Fatalf("socket %d: %v", ws.ID(), err)
	}
	return ev
}

// expectText waits for the socket's next message and checks it.
func expectText(t *testing.T, ws *websocket.WebSocket, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	m, err := ws.WaitForNextMessage(ctx)
	if err != nil {
		t.Fatalf("socket %d: waiting for %q: %v", ws.ID(), want, err)
	}
	if m.Binary || m.Text() != want {
		t.Fatalf("socket %d: got %q (binary %t), want the text %q", ws.ID(), m.Data, m.Binary, want)
	}
}

// expectClosed waits for the socket's end and checks its close event.
func expectClosed(t *testing.T, ws *websocket.WebSocket, code int, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	m, err := ws.WaitForNextMessage(ctx)
	var ce *websocket.ClosedError
	if !errors.As(err, &ce) {
		t.Fatalf("socket %d: got %q, %v; want the close %d", ws.ID(), m.Data, err, code)
	}
	if ev := ce.Event; ev.Code != code || ev.Reason != reason || !ev.WasClean {
		t.Fatalf("socket %d: closed with %d %q clean=%t, want %d %q clean", ws.ID(), ev.Code, ev.Reason, ev.WasClean, code, reason)
	}
}
