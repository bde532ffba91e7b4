// Package leakcheck fails a test binary whose goroutines outlive its tests,
// as the library's own TestMain does: every socket, loop and server a test
// starts must be gone once the test is over.
//
// Each test package of the test module uses it from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
//
// It is stricter than the root package's check, which looks only at the
// library's goroutines: here every goroutine counts, whoever started it
// (the library, a peer library's server, a test helper, os/exec), except
// the few the runtime and the testing package keep for themselves.
package leakcheck

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// settle bounds the wait for goroutines to end: their exit is asynchronous
// to the events that ended their work (a close event, a server's cleanup).
const settle = 5 * time.Second

// Main runs the tests and returns the exit code for os.Exit: m.Run's, or 1
// when the tests passed but goroutines are left behind, whose stacks it
// prints to standard error.
func Main(m *testing.M) int {
	code := m.Run()
	if code != 0 || fuzzWorker() {
		// A failure says enough; a fuzzing worker process returns to
		// its coordinator, which judges it by other means.
		return code
	}
	if left := Goroutines(settle); left != "" {
		fmt.Fprintf(os.Stderr, "leakcheck: goroutines left behind after the tests passed:\n\n%s\n", left)
		return 1
	}
	return 0
}

// Goroutines waits up to limit for every goroutine but the caller's and
// the ignored ones to end, and returns the stacks of those still running,
// or "" when none is.
func Goroutines(limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		left := running()
		if len(left) == 0 || time.Now().After(deadline) {
			return strings.Join(left, "\n\n")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running returns the stacks of the goroutines that count, the caller's
// excepted.
func running() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	stacks := strings.Split(string(buf), "\n\n")
	var left []string
	// The first stack is the caller's.
	for _, g := range stacks[1:] {
		if !ignored(g) {
			left = append(left, g)
		}
	}
	return left
}

// ignoredFrames mark goroutines that are not the tests' doing: the testing
// package's own and the runtime's, which live as long as the process.
var ignoredFrames = []string{
	"testing.(*M).",         // the main goroutine, when it is not the caller
	"testing.runFuzzing",    // a fuzzing coordinator's
	"testing.(*F).Fuzz",     //
	"os/signal.signal_recv", // signal.Notify's, for the process's life
	"os/signal.loop",        //
	"runtime.ensureSigM",    //
	"runtime/trace.Start",   // -trace
	"runtime/pprof.profile", // -cpuprofile
}

func ignored(stack string) bool {
	for _, f := range ignoredFrames {
		if strings.Contains(stack, f) {
			return true
		}
	}
	return false
}

// fuzzWorker reports whether this process is a fuzzing worker, started by
// `go test -fuzz` to run inputs for its coordinator.
func fuzzWorker() bool {
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}
