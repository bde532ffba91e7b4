//go:build linux

package websocket_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// When the open-file limit is reached after the handshake (the poller
// cannot take the socket), the failure is a *ResourceError wrapping
// EMFILE, not a bare system error. The child process of this test runs
// with its limit set so that the dial's socket is the last descriptor it
// may open.
func TestDescriptorShortageIsAResourceError(t *testing.T) {
	if os.Getenv("WSLOOP_POLLER") == "portable" {
		t.Skip("the portable poller takes a connection without a descriptor of its own")
	}
	srv := holdServer(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDescriptorShortageChild$", "-test.v")
	cmd.Env = append(os.Environ(), "WSLOOP_FD_CHILD="+srv, "WSLOOP_POLLER=native")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDescriptorShortageChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func TestDescriptorShortageChild(t *testing.T) {
	url := os.Getenv("WSLOOP_FD_CHILD")
	if url == "" {
		t.Skip("the child process of TestDescriptorShortageIsAResourceError")
	}
	loop := websocket.NewEventLoop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.RunContext(ctx) }()
	defer func() { cancel(); <-done }()
	ready := make(chan struct{})
	loop.Post(func() { close(ready) }) // the loop's poller exists from here on
	<-ready
	net.ParseIP("127.0.0.1") // nothing left to open lazily but the dial's socket

	// Fill every free descriptor number below the highest, then allow one
	// more: the dial's socket. The poller's duplicate of it is refused.
	var fillers []*os.File
	defer func() {
		for _, f := range fillers {
			f.Close()
		}
	}()
	top := 0
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			top = max(top, n)
		}
	}
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		if int(f.Fd()) > top {
			f.Close()
			break
		}
		fillers = append(fillers, f)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = uint64(top + 2) // descriptor top+1 is the last one
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)

	ws, err := websocket.Dial(ctx, url, &websocket.Config{Loop: loop, HandshakeTimeout: 10 * time.Second})
	var re *websocket.ResourceError
	if ws != nil || !errors.As(err, &re) || !errors.Is(err, syscall.EMFILE) {
		t.Fatalf("Dial = %v, %v (%T); want a *ResourceError wrapping EMFILE", ws, err, err)
	}
	t.Logf("Dial: %v", err)
}
