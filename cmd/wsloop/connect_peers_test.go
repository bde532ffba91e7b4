package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The end-of-input case of issue 16 against echo servers nobody here
// wrote: the test module's Python websockets and Node ws peers
// (test/internal/peers), started from their scripts. The test module's
// peers package would start them, but this module cannot import it.

// peersDir holds the peers' scripts, from this package's directory.
var peersDir = filepath.Join("..", "..", "test", "internal", "peers")

// pythonEcho runs python_echo.py with Debian's interpreter, which has the
// websockets package (another python3 on PATH may not).
func pythonEcho(t *testing.T) string {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-I", "-c", "import websockets").Run(); err != nil {
		unavailable(t, fmt.Sprintf("Python peer: %s cannot import websockets (%v); apt-get install python3-websockets", python, err))
	}
	return startPeer(t, exec.Command(python, "-I", filepath.Join(peersDir, "python_echo.py")))
}

// nodeEcho runs node/echo.js with the ws package that `npm ci` installs.
func nodeEcho(t *testing.T) string {
	node, err := exec.LookPath("node")
	dir := filepath.Join(peersDir, "node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json"))
	}
	if err != nil {
		unavailable(t, fmt.Sprintf("Node peer: %v; install node and run `npm ci` in test/internal/peers/node", err))
	}
	cmd := exec.Command(node, "echo.js")
	cmd.Dir = dir
	return startPeer(t, cmd)
}

// startPeer runs an echo server that prints its port on its first line
// once it listens on 127.0.0.1, and exits when its stdin ends (so it
// cannot outlive a killed test), and returns its URL.
func startPeer(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	if _, err := cmd.StdinPipe(); err != nil { // kept open: the peer's life
		t.Fatal(err)
	}
	outR, outW := io.Pipe()
	stderr := newLogLines()
	cmd.Stdout, cmd.Stderr = outW, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		outW.Close()
		if t.Failed() {
			t.Logf("%s's stderr:\n%s", cmd.Path, stderr.String())
		}
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(outR).ReadString('\n')
		port <- strings.TrimSpace(line)
		io.Copy(io.Discard, outR)
	}()
	select {
	case p := <-port:
		if p == "" || strings.Trim(p, "0123456789") != "" {
			t.Fatalf("%s printed %q rather than its port\n%s", cmd.Path, p, stderr.String())
		}
		return "ws://127.0.0.1:" + p + "/"
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not print its port within %v\n%s", cmd.Path, waitTimeout, stderr.String())
		return ""
	}
}

// TestConnectStdinEOFPeers: `printf 'a\nb\nc\n' | wsloop connect URL`,
// 100 times against each peer, with the default flags. A Python
// websockets server answers the ping that follows the last line before
// its handler has echoed the lines, which lost echoes in 14 of 30 runs
// when connect closed at the pong. Every run must print every echo and
// exit 0 after a clean close. The runs are in-process and all at once:
// each lasts the default wait (1 s), idle, past its last echo.
func TestConnectStdinEOFPeers(t *testing.T) {
	t.Parallel()
	const runs = 100
	for _, peer := range []struct {
		name  string
		start func(*testing.T) string
	}{
		{"python", pythonEcho},
		{"node", nodeEcho},
	} {
		t.Run(peer.name, func(t *testing.T) {
			t.Parallel()
			url := peer.start(t)
			var wg sync.WaitGroup
			failures := make(chan string, runs)
			for i := range runs {
				wg.Go(func() {
					in := fmt.Sprintf("a%d\nb%d\nc%d\n", i, i, i)
					var out, errOut bytes.Buffer
					code := run(context.Background(), []string{"connect", url}, strings.NewReader(in), &out, &errOut)
					if code != 0 || out.String() != in {
						failures <- fmt.Sprintf("run %d: exit code %d, printed %q, want 0 and %q\n%s", i, code, out.String(), in, errOut.String())
					}
				})
			}
			wg.Wait()
			close(failures)
			var all []string
			for f := range failures {
				all = append(all, f)
			}
			if len(all) > 0 {
				t.Errorf("%d of %d runs went wrong:\n%s", len(all), runs, strings.Join(all, "\n"))
			}
		})
	}
}
