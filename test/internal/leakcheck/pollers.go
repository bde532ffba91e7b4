package leakcheck

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// BothPollers is Main, then, when the tests passed on the platform's
// default poller (epoll on Linux) and WSLOOP_POLLER is not set, the same
// test binary again in a child process with WSLOOP_POLLER=portable, so
// that one test command proves the suite on both of the library's
// pollers, as the root package's TestMain does.
func BothPollers(m *testing.M) int {
	code := Main(m)
	if code != 0 || fuzzWorker() {
		return code
	}
	if _, set := os.LookupEnv("WSLOOP_POLLER"); set {
		return code
	}
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
