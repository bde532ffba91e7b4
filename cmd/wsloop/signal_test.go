package main

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// mainEnv makes the test binary run the command's main instead of the
// tests: the signal test needs a process of its own to signal.
const mainEnv = "WSLOOP_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

var listeningOn = regexp.MustCompile(`listening on (ws://[^\s"]+)`)

// TestServeSIGTERM: on SIGTERM, serve closes every connection with 1001
// (the clients see clean closes) and exits 0.
func TestServeSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM to send on Windows")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log := newLogLines()
	cmd := exec.Command(exe, "serve", "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill() // when the test failed before the exit
		<-exited
	})

	url := listeningOn.FindStringSubmatch(log.waitFor(t, "listening on "))[1]
	var clients []*websocket.WebSocket
	for range 3 {
		c := dial(t, url, nil)
		c.SendText("here") // the echo shows the server's socket is on its loop
		expectText(t, c, "here")
		clients = append(clients, c)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		expectClosed(t, c, websocket.CloseGoingAway, "going away")
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("serve: %v, want exit 0; its log:\n%s", waitErr, log)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("serve did not exit after SIGTERM; its log:\n%s", log)
	}
	log.waitFor(t, "stopped")
}
