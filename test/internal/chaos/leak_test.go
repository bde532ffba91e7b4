package chaos

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCyclesLeaveNothing connects, echoes and ends a connection a thousand
// times, ending it by ResetAll, CloseAll or the client's Close in turn,
// and checks that once the proxy is closed the process has the goroutines
// and descriptors it had before. It is not parallel: it counts the
// process's.
func TestCyclesLeaveNothing(t *testing.T) {
	// The runtime's poller takes its descriptors at the first socket.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		_ = ln.Close()
	}
	fds0, goroutines0 := fds(t), runtime.NumGoroutine()

	s := startEcho(t)
	p, err := Listen(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	const cycles = 1000
	for i := range cycles {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c, "ping")
		switch i % 3 {
		case 0:
			p.ResetAll()
			if _, err := readEnd(t, c); !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("cycle %d: read %v after ResetAll, want ECONNRESET", i, err)
			}
		case 1:
			p.CloseAll()
			if _, err := readEnd(t, c); err != io.EOF {
				t.Fatalf("cycle %d: read %v after CloseAll, want EOF", i, err)
			}
		}
		_ = c.Close()
	}
	if n := p.Accepted(); n != cycles {
		t.Errorf("Accepted() = %d, want %d", n, cycles)
	}

	// Close must also end what is busy: an idle connection, a stalled
	// one with bytes held, a new one under Stall. (dial's cleanup closes
	// them again, harmlessly: they are closed below, before counting.)
	idle := dial(t, p)
	roundTrip(t, idle, "idle")
	busy := dial(t, p)
	roundTrip(t, busy, "busy")
	p.SetFault(Stall)
	if _, err := busy.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	stalled := dial(t, p)
	if err := p.WaitAccepted(ctx(t), cycles+3); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for every goroutine of the proxy: none may still be
	// running its code.
	if left := ours("chaos.(*Proxy)", "chaos.(*pipe)"); left != "" {
		t.Errorf("goroutines of the proxy still running after Close:\n%s", left)
	}
	for _, c := range []net.Conn{idle, busy, stalled} {
		if _, err := readEnd(t, c); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("read %v after Close, want ECONNRESET", err)
		}
		_ = c.Close()
	}
	s.Close()
	if left := ours("chaos.(*"); left != "" {
		t.Errorf("goroutines of the package still running after Close:\n%s", left)
	}

	// Each may still be between its WaitGroup's Done and its exit,
	// which yielding lets it finish.
	for deadline := time.Now().Add(timeout); runtime.NumGoroutine() > goroutines0 && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > goroutines0 {
		t.Errorf("%d goroutines after Close, %d before", n, goroutines0)
	}
	if n := fds(t); n != fds0 {
		t.Errorf("%d descriptors open after Close, %d before", n, fds0)
	}
}

// ours returns the stacks of the goroutines running a function whose
// name has one of the prefixes: the package's methods are the proxy's,
// its pipes' and the echo server's (the tests' own goroutines run
// functions). A goroutine that has returned from them and is only left to
// call its WaitGroup's Done, or to exit, is not one of them, even though
// its "created by" line names the package.
func ours(prefixes ...string) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n")[1:] {
		if runs(g, prefixes) {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}

func runs(stack string, prefixes []string) bool {
	for _, line := range strings.Split(stack, "\n") {
		if strings.HasPrefix(line, "created by ") {
			continue
		}
		for _, p := range prefixes {
			if strings.Contains(line, "/internal/"+p) {
				return true
			}
		}
	}
	return false
}

// fds is the number of the process's open descriptors.
func fds(t *testing.T) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
