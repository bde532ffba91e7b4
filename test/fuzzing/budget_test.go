package fuzzing_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fuzzTargets are every fuzz target of the repository, with the package
// that holds it, relative to the repository's root.
var fuzzTargets = []struct{ pkg, name string }{
	{"./internal/protocol", "FuzzFeed"},
	{"./internal/protocol", "FuzzParseClosePayload"},
	{"./internal/protocol", "FuzzInflate"},
	{"./test/fuzzing", "FuzzHandshake"},
	{"./test/fuzzing", "FuzzNew"},
}

// TestFuzzBudget fuzzes each target for the time WSLOOP_FUZZTIME gives
// (such as 30s: five targets, one after the other, take about three
// minutes with the builds), by running
//
//	go test -run=^$ -fuzz=^FuzzX$ -fuzztime=30s -fuzzminimizetime=5s PKG
//
// from the repository's root. (Minimizing each new interesting input may
// otherwise take a minute of the budget: FuzzHandshake's inputs cost a
// connection each.) A failure prints the fuzzer's output, which
// names the input it wrote to PKG/testdata/fuzz/FuzzX: commit that file, it
// is a regression test from then on.
//
// Without WSLOOP_FUZZTIME it is skipped: the test command runs every
// committed input as a regression test, and fuzzing for new ones, which
// takes minutes of both cores, is a command of its own (test/README.md).
func TestFuzzBudget(t *testing.T) {
	fuzzTime := os.Getenv("WSLOOP_FUZZTIME")
	if fuzzTime == "" {
		t.Skip("fuzzing for new inputs runs with WSLOOP_FUZZTIME set, e.g. WSLOOP_FUZZTIME=30s")
	}
	budget, err := time.ParseDuration(fuzzTime)
	if err != nil {
		t.Fatalf("WSLOOP_FUZZTIME=%q: %v", fuzzTime, err)
	}
	// The go command that runs the tests puts its own GOROOT/bin first
	// in PATH for them, so this finds the same toolchain.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to fuzz with: %v", err)
	}
	root := repoRoot(t)
	for _, target := range fuzzTargets {
		t.Run(target.name, func(t *testing.T) {
			// Building takes a while on a cold cache; the fuzzer's own
			// time is budget. Anything far past both is a hang.
			ctx, cancel := context.WithTimeout(context.Background(), budget+3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, goTool, "test", "-run=^$", "-fuzz=^"+target.name+"$",
				"-fuzztime="+fuzzTime, "-fuzzminimizetime=5s", target.pkg)
			cmd.Dir = root
			corpus := filepath.Join(root, target.pkg, "testdata", "fuzz", target.name)
			before := listDir(corpus)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			elapsed := time.Since(start).Round(time.Second)
			if err != nil && coordinatorRace(out, before, listDir(corpus)) {
				t.Logf("%s: the fuzzing coordinator's end-of-fuzztime race (go.dev/issue/75804, fixed in Go 1.27), no failing input: %v, %s",
					target.name, elapsed, lastStats(out))
				return
			}
			if err != nil {
				t.Fatalf("%s in %s: %v after %v\n%s\nA new failing input is in %s/testdata/fuzz/%s (see the output above): commit it as a regression test.",
					target.name, target.pkg, err, elapsed, out, target.pkg, target.name)
			}
			t.Logf("%s: %v, %s", target.name, elapsed, lastStats(out))
		})
	}
}

// repoRoot is the repository's root, two directories above this file.
func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test's source file")
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("%s is not the repository's root: %v", root, err)
	}
	return root
}

// lastStats is the fuzzer's last progress line ("elapsed: 30s, execs: ...").
func lastStats(out []byte) string {
	last := ""
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "fuzz: elapsed:") {
			last = strings.TrimPrefix(l, "fuzz: ")
		}
	}
	return last
}

// coordinatorRace tells the one failure of a fuzzing run that is not the
// target's: before Go 1.27, the coordinator may report the -fuzztime
// deadline itself as the failure, "context deadline exceeded", when a
// worker is still busy as it passes (go.dev/issue/75804). A real failure
// writes its input to the corpus directory and says so; this one writes
// nothing.
func coordinatorRace(out []byte, before, after map[string]bool) bool {
	if strings.Contains(string(out), "Failing input written to") {
		return false
	}
	for name := range after {
		if !before[name] {
			return false
		}
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "--- FAIL: Fuzz") {
			// The failure's message is the next line, and nothing else
			// went wrong: no panic, no other message.
			return i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "context deadline exceeded" &&
				!strings.Contains(string(out), "panic:")
		}
	}
	return false
}

// listDir returns the names in dir; none when it does not exist.
func listDir(dir string) map[string]bool {
	names := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names
}
