package poll

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// crossTargets are the systems whose poller no machine of this project's
// CI runs: the kqueue backend on macOS and the BSDs, the portable poller
// on Windows. Their code is compiled and vetted against their own
// x/sys/unix and standard library here, with the tests, so that a change
// that breaks them fails now rather than on a user's machine. Running it
// there is what the tests of this package (poll_test.go and
// native_test.go, which take every pollerCase) do on such a machine.
//
// Each target costs a build of the standard library for it, 20 to 50 s on
// a fresh build cache, so the list is what differs: darwin/amd64 and
// dragonfly/amd64 also vet clean, and share x/sys/unix's kqueue types with
// darwin/arm64 and freebsd/amd64.
var crossTargets = []string{
	"darwin/arm64",
	"freebsd/amd64",
	"netbsd/amd64", // its Kevent_t has wider Filter and Flags and an int64 Udata
	"openbsd/amd64",
	"windows/amd64",
}

// TestCrossBuild vets the whole module, tests included, for every
// crossTarget. It needs the go command that runs it.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the cross builds take about 20 s each on a fresh build cache")
	}
	// go test puts its own GOROOT/bin first on the test's PATH.
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH: %v", err)
	}
	for _, target := range crossTargets {
		goos, goarch, _ := strings.Cut(target, "/")
		t.Run(goos+"-"+goarch, func(t *testing.T) {
			// The library's module, from its root, so that the root package,
			// the dialer, the command and the examples are built against
			// this system's poller too; GOWORK=off leaves the test and bench
			// modules (and their peers' code) out.
			cmd := exec.Command(gocmd, "vet", "./...")
			cmd.Dir = "../.."
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s GOARCH=%s go vet ./...: %v\n%s", goos, goarch, err, out)
			}
		})
	}
}
