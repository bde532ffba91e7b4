package torture_test

import (
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
)

// openFiles counts the process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("counting descriptors: %v", err)
	}
	return len(entries)
}

// refusedURL is a ws:// URL on which nothing listens: a socket made for it
// fails at once.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	return url
}

// settleFiles collects garbage (so that finalizers close what they close)
// and returns the descriptor count once it stops falling.
func settleFiles(t *testing.T) int {
	n := openFiles(t)
	for i := 0; i < 10; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		m := openFiles(t)
		if m == n {
			break
		}
		n = m
	}
	return n
}

// An event loop that is done with, its sockets closed and Run returned,
// and no longer referenced, must not keep descriptors open: a program (or a
// test suite) that makes a loop per task would run out of them. The same
// holds for the background loop of dialed sockets once they are closed.
func TestLoopsReleaseDescriptors(t *testing.T) {
	const loops = 200
	url := refusedURL(t)
	t.Run("NewEventLoop", func(t *testing.T) {
		before := settleFiles(t)
		for i := 0; i < loops; i++ {
			loop := websocket.NewEventLoop()
			if _, err := websocket.NewWithConfig(url, &websocket.Config{Loop: loop}); err != nil {
				t.Fatal(err)
			}
			if err := loop.Run(); err != nil {
				t.Fatal(err)
			}
		}
		if after := settleFiles(t); after-before > 10 {
			t.Errorf("%d event loops, each run until its socket closed and then dropped, left %d descriptors open",
				loops, after-before)
		}
	})
	t.Run("Dial", func(t *testing.T) {
		before := settleFiles(t)
		for i := 0; i < loops; i++ {
			if _, err := websocket.Dial(t.Context(), url, nil); err == nil {
				t.Fatal("Dial to a closed port succeeded")
			}
		}
		if after := settleFiles(t); after-before > 10 {
			t.Errorf("%d failed Dials left %d descriptors open", loops, after-before)
		}
	})
}
