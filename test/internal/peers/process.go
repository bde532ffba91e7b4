package peers

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// startTimeout bounds how long a server process may take to report its
// port; a loaded CI machine may need a few seconds to load a library.
const startTimeout = 15 * time.Second

// startProcess runs cmd, a server that prints its port on a line of its own
// once it listens on 127.0.0.1 and exits when its standard input ends, and
// returns its ws:// URL. The process is killed by t.Cleanup, which also
// shows its standard error when the test failed. name names the peer in
// messages.
func startProcess(t testing.TB, name string, cmd *exec.Cmd) string {
	t.Helper()
	stdout := newLineWriter()
	var stderr testenv.Buffer
	cmd.Stdout = stdout
	cmd.Stderr = &stderr
	// The server exits when its stdin closes, which happens even if this
	// process is killed before the cleanup below can run. Wait closes the
	// pipe, so it needs no other handling.
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatalf("%s peer: %v", name, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s peer: starting %s: %v", name, cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("%s peer stderr:\n%s", name, stderr.String())
		}
	})

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	var port string
	select {
	case port = <-stdout.first:
	case <-exited:
		t.Fatalf("%s peer exited before listening: %v\n%s", name, cmd.ProcessState, stderr.String())
	case <-timer.C:
		t.Fatalf("%s peer did not report its port within %v\n%s", name, startTimeout, stderr.String())
	}
	if port == "" || strings.Trim(port, "0123456789") != "" {
		t.Fatalf("%s peer: printed %q instead of its port", name, port)
	}
	return "ws://127.0.0.1:" + port + "/"
}
