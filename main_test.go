package websocket_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run when goroutines of the library outlive the tests:
// every socket and loop must end completely once it is closed.
//
// The tests run on the platform's default poller (epoll on Linux); the run
// then repeats itself in a child process on the portable poller, so that
// both paths are proven by the one test command.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := libraryGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines left behind:\n%s\n", leaked)
			code = 1
		}
	}
	if code == 0 && os.Getenv("WSLOOP_POLLER") == "" {
		code = rerunOnPortablePoller()
	}
	os.Exit(code)
}

func rerunOnPortablePoller() int {
	var args []string
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-test.testlogfile") { // the go command's cache log belongs to the parent
			args = append(args, a)
		}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "WSLOOP_POLLER=portable")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	fmt.Println("--- the same tests on the portable poller (WSLOOP_POLLER=portable)")
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "tests on the portable poller: %v\n", err)
		return 1
	}
	return 0
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
