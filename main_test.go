package websocket_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run when goroutines of the library outlive the tests:
// every socket and loop must end completely once it is closed.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := libraryGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines left behind:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// libraryGoroutines waits up to limit for the library's goroutines to end
// (their exit is asynchronous to the close event) and returns the stacks
// of those still running.
func libraryGoroutines(limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		var left []string
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "github.com/wsloop/websocket") && !strings.Contains(g, "libraryGoroutines") &&
				!strings.Contains(g, "testing.(*M)") {
				left = append(left, g)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return strings.Join(left, "\n\n")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
