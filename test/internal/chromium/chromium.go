// Package chromium runs headless Chromium on a test's page: the browser as
// a WebSocket client, for the suites that prove a server against it.
//
// The page does the work and talks to the test's HTTP server (which
// serves it): Start returns once the page has made itself known there.
package chromium

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// installHint is how CI gets the browser (.ci/run).
const installHint = "apt-get install chromium"

// launches bounds the launches Start makes; see Start.
const launches = 3

// Browser is a running Chromium.
type Browser struct {
	// Output is what the browser printed, its first MiB.
	Output *testenv.Buffer
	// Exited is closed once the browser has ended.
	Exited <-chan struct{}
}

// Page says what Start waits for.
type Page struct {
	// URL is the page the browser opens.
	URL string
	// Ready is closed by the test's server once the page has made its
	// first request for work.
	Ready <-chan struct{}
	// Reached reports whether any request reached the test's server.
	Reached func() bool
	// Bound bounds the wait for Ready.
	Bound time.Duration
}

// Start opens p.URL in a headless Chromium with a fresh profile and waits
// until p.Ready is closed. The browser, with every process it started (its
// process group), is killed by t.Cleanup. Without the chromium command the
// test is skipped, or fails when WSLOOP_PEERS is "required".
//
// Debian's Chromium sometimes dies of a signal while it starts, before it
// loads any page (test/browser saw about one launch in 30 under load).
// Nothing of the test has run then, as no request reached its server, so
// such a launch is made again, up to three in all; any other early exit
// fails the test.
func Start(t *testing.T, p Page) *Browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, fmt.Sprintf("Chromium: %v; run %s", err, installHint))
	}
	for n := 1; ; n++ {
		b, signal := launch(t, path, p)
		if b != nil {
			return b
		}
		if n == launches {
			t.Fatalf("Chromium died of %s while starting, %d launches in a row", signal, n)
		}
		t.Logf("Chromium died of %s while starting, before any request: launching it again", signal)
	}
}

// launch is one launch: the browser once the page is ready, or the signal
// that killed it before the page made any request.
func launch(t *testing.T, path string, p Page) (*Browser, string) {
	t.Helper()
	profile, err := os.MkdirTemp("", "wsloop-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, p.URL)
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = capped{out}, capped{out}
	// A group of its own, so that its helpers die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(profile)
		testenv.Unavailable(t, fmt.Sprintf("Chromium: starting %s: %v", path, err))
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		cmd.Wait()
	}()
	kill := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	t.Cleanup(func() {
		kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("Chromium (pid %d) still runs 10 s after SIGKILL", cmd.Process.Pid)
		}
		os.RemoveAll(profile)
	})
	timer := time.NewTimer(p.Bound)
	defer timer.Stop()
	select {
	case <-p.Ready:
		return &Browser{Output: out, Exited: exited}, ""
	case <-exited:
		status, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if status.Signaled() && !p.Reached() {
			kill()
			return nil, status.Signal().String()
		}
		t.Fatalf("Chromium exited before its page was ready: %v\n%s", cmd.ProcessState, out.String())
	case <-timer.C:
		t.Fatalf("Chromium's page was not ready within %v\n%s", p.Bound, out.String())
	}
	return nil, ""
}

// capped keeps the first MiB of what the browser prints.
type capped struct{ b *testenv.Buffer }

func (c capped) Write(p []byte) (int, error) {
	if c.b.Len() > 1<<20 {
		return len(p), nil
	}
	return c.b.Write(p)
}
