package browser_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsloop/websocket/test/internal/testenv"
)

const (
	// chromiumInstallHint is how CI gets the browser (.ci/run).
	chromiumInstallHint = "apt-get install chromium"
	// startBound bounds the browser's start, up to the page's first
	// request for a scenario.
	startBound = 30 * time.Second
)

// chromiumPath finds Debian's chromium (the package of that name).
func chromiumPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, fmt.Sprintf("Chromium: %v; run %s", err, chromiumInstallHint))
	}
	return p
}

// lockedBuffer is the browser's output, written by exec's copier while the
// test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// browser is the running Chromium.
type browser struct {
	out    *lockedBuffer
	exited chan struct{}
	// broken, once set, fails the remaining scenarios at once: the page
	// stopped taking them.
	broken string
}

// startChromium opens the page in a headless Chromium with a fresh profile
// and waits until the page asks for its first scenario. The browser, and
// every process it started (its process group), is killed by t.Cleanup.
//
// Debian's Chromium sometimes dies of SIGSEGV while it starts, before it
// loads any page: seen in about 1 launch of 30 on this project's 2-core
// machine under load, with or without its crash reporter and zygote, and
// never once a page had loaded. Nothing of ours has run then (no request
// reached the server), so such a launch is made again, at most
// startAttempts times in all; any other early exit fails the test.
func startChromium(t *testing.T, path string, srv *server) *browser {
	t.Helper()
	for attempt := 1; ; attempt++ {
		br, crashed := launchChromium(t, path, srv)
		if br != nil {
			return br
		}
		if attempt == startAttempts {
			t.Fatalf("Chromium crashed while starting, %d times in a row: %s", attempt, crashed)
		}
		t.Logf("Chromium crashed while starting (%s), before loading the page; launching it again", crashed)
	}
}

// startAttempts bounds the launches startChromium makes.
const startAttempts = 3

// launchChromium makes one launch of startChromium. It returns the browser
// once the page asks for its first scenario, or, when the browser died of
// a signal before loading the page, how it died.
func launchChromium(t *testing.T, path string, srv *server) (*browser, string) {
	t.Helper()
	profile, err := os.MkdirTemp("", "wsloop-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile,
		"http://"+srv.host+"/",
	)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(profile)
		testenv.Unavailable(t, fmt.Sprintf("Chromium: starting %s: %v", path, err))
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		// The process group is this browser's alone (Setpgid above).
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("Chromium (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
		}
		os.RemoveAll(profile)
	})
	select {
	case <-srv.ready:
	case <-exited:
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && !srv.requested() {
			// Its other processes may live on: they go with the group.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return nil, ws.Signal().String()
		}
		t.Fatalf("Chromium exited before loading the page: %v\n%s", cmd.ProcessState, out.String())
	case <-time.After(startBound):
		t.Fatalf("the page did not ask for a scenario within %v\n%s", startBound, out.String())
	}
	return &browser{out: out, exited: exited}, ""
}
