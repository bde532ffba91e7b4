package staying_test

// A thousand reconnections of one socket leak nothing: no goroutine, no
// file descriptor, no heap. Each cycle the proxy resets (RST) or closes
// (FIN) the connection, alternately, and the test waits for the
// reconnect's OnOpen and one echo before the next; everything is driven by
// events, on the socket's loop.
//
// Not parallel: it counts the process's goroutines, descriptors and heap,
// so it runs alone, before the parallel tests start.

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	websocket "github.com/wsloop/websocket"
	"github.com/wsloop/websocket/test/internal/chaos"
)

const (
	// settle bounds the wait for goroutines and descriptors to go once
	// the socket is closed: the server's handlers and the proxy's
	// goroutines end asynchronously to the close event, and nothing
	// tells when.
	settle = 5 * time.Second
	// warmCycles run on a socket of their own before the counts are
	// taken, so that what the first use of anything allocates for good
	// (the library's pools, the server's, the resolver's) is not
	// counted.
	warmCycles = 10
	// heapPerCycle bounds the heap a cycle may leave behind, on
	// average: a leak of a socket's connection state (its protocol
	// core, buffers, timers) is larger.
	heapPerCycle = 256
	// heapSlack is the heap's noise between two measurements.
	heapSlack = 64 << 10
)

func TestThousandReconnectsLeakNothing(t *testing.T) {
	for _, c := range []struct {
		peer   peer
		cycles int
		// heap: the heap is checked. Not with an in-process peer: the
		// Go peers keep every connection they served until the test
		// ends (test/internal/peers tracks them for its cleanup), about
		// 9 KiB each for gorilla.
		heap bool
	}{{node, 1000, true}, {python, 100, true}, {gorilla, 100, false}} {
		t.Run(fmt.Sprint(c.peer.name, c.cycles), func(t *testing.T) {
			server := c.peer.start(t)
			p, u := proxied(t, server)
			goroutines, fds := runtime.NumGoroutine(), openFDs(t)
			reconnectCycles(t, p, u, warmCycles)
			// The warm socket's goroutines and descriptors go too.
			if !settled(func() bool { return runtime.NumGoroutine() <= goroutines && openFDs(t) <= fds }) {
				t.Fatalf("%d goroutines and %d descriptors %v after the warm-up socket closed; %d and %d before it:\n%s",
					runtime.NumGoroutine(), openFDs(t), settle, goroutines, fds, stacks())
			}
			goroutines, fds = runtime.NumGoroutine(), openFDs(t)
			heap := heapInUse()
			start := time.Now()
			reconnectCycles(t, p, u, c.cycles)
			took := time.Since(start)
			if t.Failed() {
				return
			}
			left := settled(func() bool { return runtime.NumGoroutine() <= goroutines && openFDs(t) <= fds })
			heapAfter := heapInUse()
			t.Logf("%d cycles in %v (%v each); goroutines %d -> %d, descriptors %d -> %d, heap in use %d KiB -> %d KiB; the proxy accepted %d connections",
				c.cycles, took.Round(time.Millisecond), (took / time.Duration(c.cycles)).Round(time.Microsecond),
				goroutines, runtime.NumGoroutine(), fds, openFDs(t), heap>>10, heapAfter>>10, p.Accepted())
			if !left {
				if n := runtime.NumGoroutine(); n > goroutines {
					t.Errorf("%d goroutines %v after the socket closed; %d before it:\n%s", n, settle, goroutines, stacks())
				}
				if n := openFDs(t); n > fds {
					t.Errorf("%d descriptors %v after the socket closed; %d before it", n, settle, fds)
				}
			}
			if bound := uint64(c.cycles*heapPerCycle + heapSlack); c.heap && heapAfter > heap && heapAfter-heap > bound {
				t.Errorf("heap in use grew by %d KiB over %d cycles; want at most %d KiB", (heapAfter-heap)>>10, c.cycles, bound>>10)
			}
			if want := warmCycles + c.cycles; p.Accepted() != want {
				t.Errorf("the proxy accepted %d connections; want %d, one per cycle and one per socket", p.Accepted(), want)
			}
		})
	}
}

// reconnectCycles runs one socket through u (the proxy p) for cycles cycles: an echo,
// then the proxy's ResetAll or CloseAll, alternately, and the reconnect;
// the last echo is followed by a normal close.
func reconnectCycles(t *testing.T, p *chaos.Proxy, u string, cycles int) {
	t.Helper()
	s := newScript(t, u, websocket.Config{
		Reconnect: &websocket.ReconnectPolicy{InitialDelay: time.Millisecond, MaxDelay: time.Millisecond, Jitter: -1},
	})
	var (
		done, opens, reconnects int
		closes                  []websocket.CloseEvent
	)
	s.ws.OnOpen = func(websocket.OpenEvent) {
		if opens++; opens != done+1 {
			s.fail("open %d at cycle %d", opens, done)
			return
		}
		if err := s.ws.SendText(fmt.Sprint("cycle ", done)); err != nil {
			s.fail("SendText: %v", err)
		}
	}
	s.ws.OnMessage = func(m websocket.MessageEvent) {
		if want := fmt.Sprint("cycle ", done); m.Text() != want {
			s.fail("message %q; want %q", m.Data, want)
			return
		}
		switch done++; {
		case done == cycles:
			if err := s.ws.CloseWith(websocket.CloseNormal, "done"); err != nil {
				s.fail("CloseWith: %v", err)
			}
		case done%2 == 1:
			p.ResetAll()
		default:
			p.CloseAll()
		}
	}
	s.ws.OnReconnect = func(e websocket.ReconnectEvent) {
		reconnects++
		if e.Err != nil || e.Close.Code != websocket.CloseAbnormal || reconnects != done {
			s.fail("cycle %d: reconnect event %d %s; want one a cycle, after close 1006 and no error", done, reconnects, reconnectString(e))
		}
	}
	s.ws.OnError = func(e websocket.ErrorEvent) { s.fail("cycle %d: error event %v", done, e.Err) }
	s.ws.OnClose = func(e websocket.CloseEvent) { closes = append(closes, e) }
	s.run()
	if done != cycles || reconnects != cycles-1 {
		t.Errorf("%d cycles done, %d reconnects; want %d and %d", done, reconnects, cycles, cycles-1)
	}
	wantClosedNormally(t, closes)
}

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("counting descriptors: %v", err)
	}
	return len(entries)
}

// heapInUse is the heap's HeapInuse once garbage is collected.
func heapInUse() uint64 {
	// Twice: sync.Pool keeps what it drops for one more collection.
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// settled waits up to settle for ok, looking every few milliseconds:
// goroutines and descriptors go asynchronously, with no event to wait
// for.
func settled(ok func() bool) bool {
	deadline := time.Now().Add(settle)
	for !ok() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// stacks is every goroutine's stack, for a failure's message.
func stacks() string {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return strings.TrimSpace(string(buf[:n]))
}
