package serverside_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/peers"
)

// loadSockets is how many sockets TestLoad holds at once.
const loadSockets = 500

// 500 Node clients through one Upgrader: each echoes the server's hello
// and a broadcast to all; Shutdown closes every one with 1001, which each
// client sees, clean; then the loop holds no socket, and the process's
// goroutines and descriptors are what they were before the clients came.
// It counts the whole process's, so it is not parallel: Go runs it before
// the parallel tests start.
func TestLoad(t *testing.T) {
	loop := startLoop(t)
	up := &websocket.Upgrader{Loop: loop}
	echoes := make(chan string, 2*loadSockets)
	closes := make(chan websocket.CloseEvent, loadSockets)
	srv := httptestServer(t, up.Handler(func(ws *websocket.WebSocket, _ *http.Request) {
		ws.OnMessage = func(m websocket.MessageEvent) { echoes <- m.Text() }
		ws.OnClose = func(e websocket.CloseEvent) { closes <- e }
		ws.SendText("hello")
	}))
	// The loop takes its poller once it runs: a task run is a turn.
	turn(t, loop)
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)

	cl := peers.NodeClient(t, wsURL(srv, "/load"), peers.ClientOptions{Count: loadSockets})
	for range loadSockets {
		if e := cl.Next(t, bound); e.Event != "open" {
			t.Fatalf("a client's event: %+v", e)
		}
	}
	for range loadSockets {
		if m := await(t, echoes, "the clients' echoes"); m != "hello" {
			t.Fatalf("echo %q", m)
		}
	}
	socks := loop.Sockets()
	if len(socks) != loadSockets {
		t.Fatalf("%d sockets on the server's loop, want %d", len(socks), loadSockets)
	}
	// The count is not blind: each connection holds a descriptor here.
	// They are told by their port, not by a count of all descriptors
	// against the one before: with -count, the sockets of an earlier
	// test may still be closing (the portable poller lingers up to 2 s
	// over unsent bytes) and close meanwhile.
	if n := serverConnFDs(t, srv.Listener.Addr().(*net.TCPAddr).Port); n < loadSockets {
		t.Fatalf("%d descriptors of connections to the server with %d sockets open", n, loadSockets)
	}
	if skipped := websocket.BroadcastText(socks, "to all"); skipped != nil {
		t.Fatalf("the broadcast skipped %d sockets: %v", len(skipped), skipped[0].Err)
	}
	for range loadSockets {
		if m := await(t, echoes, "the broadcast's echoes"); m != "to all" {
			t.Fatalf("echo %q", m)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	start := time.Now()
	if err := up.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	t.Logf("Shutdown of %d sockets: %v", loadSockets, time.Since(start).Round(time.Millisecond))
	if n := len(loop.Sockets()); n != 0 {
		t.Errorf("%d sockets on the loop after Shutdown", n)
	}
	for range loadSockets {
		if e := await(t, closes, "the server's close events"); e.Code != 1001 || !e.WasClean {
			t.Fatalf("a server socket's close: %+v", e)
		}
		if e := cl.Next(t, bound); e.Event != "close" || e.Code != 1001 || e.Reason != "going away" || !e.Clean {
			t.Fatalf("a client's close: %+v", e)
		}
	}
	await(t, cl.Exited(), "the client process's end")

	// What the connections held is released as they end; the wait is
	// bounded, and reaching it is the failure.
	deadline := time.Now().Add(bound)
	for {
		g, f := runtime.NumGoroutine(), openFDs(t)
		if g <= goroutines && f <= fds {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Shutdown: %d goroutines (%d before the clients), %d descriptors (%d before)", g, goroutines, f, fds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openFDs counts the process's open descriptors but io_uring instances:
// a loop sets one up the first time two of its sockets are busy at once
// and keeps it, like its epoll, for as long as it runs (internal/poll's
// batch_linux.go), so the load may leave one where none was before.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("descriptors not countable here: %v", err)
	}
	n := 0
	for _, e := range entries {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); l != "anon_inode:[io_uring]" {
			n++
		}
	}
	return n
}

// serverConnFDs counts the process's descriptors of TCP connections
// whose local port is port: the server's ends of its connections.
func serverConnFDs(t *testing.T, port int) int {
	t.Helper()
	inodes := map[string]bool{}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("descriptors not countable here: %v", err)
	}
	for _, e := range entries {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if inode, ok := strings.CutPrefix(l, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port && inodes[f[9]] {
				n++
			}
		}
	}
	return n
}
