//go:build unix

package main

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsloop/websocket"
)

// The interactive mode, driven through a real terminal as a person
// drives it: tmux runs connect in a pane, send-keys types, capture-pane
// reads the screen.

// pane is a tmux session of its own (its own server and socket) with one
// pane running a command.
type pane struct {
	t       *testing.T
	tmux    string
	sock    string
	changed chan struct{} // a token after the pane has written output
}

// startPane runs "wsloop args..." (the test binary as main) in an 80x16
// pane, followed by "[exit N]" when it exits; the pane then stays, to be
// read, until the test's end kills its tmux. With pipeIn set, stdin is that text through a pipe
// rather than the terminal.
func startPane(t *testing.T, pipeIn string, args ...string) *pane {
	t.Helper()
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		unavailable(t, "tmux is not installed (apt-get install tmux)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A short directory: a Unix socket's path has a length limit.
	dir, err := os.MkdirTemp("", "wsloop-tmux")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &pane{t: t, tmux: tmux, sock: filepath.Join(dir, "s"), changed: make(chan struct{}, 1)}
	conf := filepath.Join(dir, "conf")
	// No status line: the pane is the whole screen.
	if err := os.WriteFile(conf, []byte("set -g status off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The shell lives on past a Ctrl-C (SIGINT to the pane's processes)
	// to say how the command ended.
	command := `"$@"`
	if pipeIn != "" {
		command = `printf %s "$WSLOOP_TEST_STDIN" | "$@"`
	}
	script := `trap : INT; ` + command + `; echo "[exit $?]"; exec sleep 600`
	cmd := append([]string{"-f", conf, "new-session", "-d", "-x", "80", "-y", "16",
		"-e", mainEnv + "=1", "-e", "WSLOOP_TEST_STDIN=" + pipeIn,
		"--", "sh", "-c", script, "sh", exe}, args...)
	// The pane's first output may come before pipe-pane is on: the first
	// capture, before any wait, sees it.
	p.run(cmd...)
	t.Cleanup(func() { exec.Command(p.tmux, "-S", p.sock, "kill-server").Run() })
	p.followOutput(filepath.Join(dir, "out"))
	return p
}

// followOutput has tmux copy the pane's output into a FIFO, and turns each
// read from it into a token on changed: waits need no polling.
func (p *pane) followOutput(fifo string) {
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		p.t.Fatal(err)
	}
	opened := make(chan *os.File)
	go func() {
		f, err := os.Open(fifo) // until tmux's cat opens it for writing
		if err != nil {
			close(opened)
			return
		}
		opened <- f
		buf := make([]byte, 4096)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			select {
			case p.changed <- struct{}{}:
			default: // a token is waiting already
			}
		}
	}()
	p.run("pipe-pane", "-O", "cat > '"+fifo+"'")
	select {
	case f := <-opened:
		if f != nil {
			p.t.Cleanup(func() { f.Close() })
		}
	case <-time.After(waitTimeout):
		p.t.Fatal("tmux's pipe-pane never opened the FIFO")
	}
}

func (p *pane) run(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, append([]string{"-S", p.sock}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// keys types text as it is, and then the keys named as tmux names them
// (Enter, Up, Left, C-d).
func (p *pane) keys(text string, named ...string) {
	p.t.Helper()
	if text != "" {
		p.run("send-keys", "-l", text)
	}
	if len(named) > 0 {
		p.run(append([]string{"send-keys"}, named...)...)
	}
}

// screen is the pane's text, each line without trailing blanks, and
// without the blank lines at the bottom.
func (p *pane) screen() string {
	p.t.Helper()
	var lines []string
	for line := range strings.Lines(p.run("capture-pane", "-p")) {
		lines = append(lines, strings.TrimRight(line, " \n"))
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// waitFor returns the screen once ok holds for it.
func (p *pane) waitFor(what string, ok func(screen string) bool) string {
	p.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		s := p.screen()
		if ok(s) {
			return s
		}
		select {
		case <-p.changed:
		case <-deadline.C:
			p.t.Fatalf("the screen never showed %s:\n%s", what, s)
		}
	}
}

// waitLastLines waits until the screen ends with lines.
func (p *pane) waitLastLines(lines ...string) string {
	p.t.Helper()
	want := strings.Join(lines, "\n")
	return p.waitFor(strconv.Quote(want)+" at the bottom", func(s string) bool {
		return s == want || strings.HasSuffix(s, "\n"+want)
	})
}

// TestConnectTerminal: at a terminal, connect prompts, edits the line
// (arrow keys, history), prints a message that arrives while the user
// types above the line being typed, which stays whole, and ends at
// Ctrl-D with a clean close and exit 0.
func TestConnectTerminal(t *testing.T) {
	t.Parallel()
	url, _, _ := startServe(t, "-broadcast")
	other := dial(t, url, nil) // a second client, to speak unasked
	p := startPane(t, "", "connect", url)

	p.waitLastLines("connected to "+url, ">")
	p.keys("hello", "Enter")
	p.waitLastLines("> hello", "< hello", ">")

	// Half a line typed, then a message from elsewhere.
	p.keys("wor")
	p.waitLastLines("> hello", "< hello", "> wor")
	other.SendText("from elsewhere")
	p.waitLastLines("> hello", "< hello", "< from elsewhere", "> wor")
	p.keys("ld", "Enter")
	p.waitLastLines("< from elsewhere", "> world", "< world", ">")

	// History: Up twice is "hello"; editing: Left, then insert.
	p.keys("", "Up", "Up")
	p.waitLastLines("< world", "> hello")
	p.keys("", "Enter")
	p.waitLastLines("> hello", "< hello", ">")
	p.keys("ac", "Left")
	p.keys("b", "Enter")
	p.waitLastLines("> abc", "< abc", ">")

	p.keys("", "C-d")
	screen := p.waitLastLines("< abc", ">", `closed: code=1000 reason="" wasClean=true`, "[exit 0]")
	want := strings.Join([]string{
		"connected to " + url,
		"> hello", "< hello",
		"< from elsewhere",
		"> world", "< world",
		"> hello", "< hello",
		"> abc", "< abc",
		">", // where Ctrl-D was typed
		`closed: code=1000 reason="" wasClean=true`,
		"[exit 0]",
	}, "\n")
	if !strings.HasPrefix(screen, want) {
		t.Errorf("screen:\n%s\nwant:\n%s", screen, want)
	}
}

// TestConnectTerminalCtrlC: Ctrl-C at the prompt closes at once, without
// sending the line being typed.
func TestConnectTerminalCtrlC(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	p := startPane(t, "", "connect", srv.URL())
	p.waitLastLines("connected to "+srv.URL(), ">")
	p.keys("never sent")
	p.waitLastLines("> never sent")
	p.keys("", "C-c")
	screen := p.waitLastLines("> never sent^C", `closed: code=1000 reason="" wasClean=true`, "[exit 0]")
	if strings.Contains(screen, "< never sent") {
		t.Errorf("the line was sent:\n%s", screen)
	}
}

// TestConnectTerminalPipedInput: input from a pipe gets no prompt, though
// the output is a terminal.
func TestConnectTerminalPipedInput(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	p := startPane(t, "one\ntwo\n", "connect", "-w", "0", srv.URL())
	p.waitLastLines("connected to "+srv.URL(), "one", "two", `closed: code=1000 reason="" wasClean=true`, "[exit 0]")
}

// TestConnectTerminalServerCloses: a close by the server, while the
// prompt waits for a line, is the last line on the screen: no prompt
// after it.
func TestConnectTerminalServerCloses(t *testing.T) {
	t.Parallel()
	srv := startEcho(t)
	p := startPane(t, "", "connect", srv.URL())
	p.waitLastLines("connected to "+srv.URL(), ">")
	p.keys("!close 4001 bye", "Enter")
	p.waitLastLines("connected to "+srv.URL(), "> !close 4001 bye", `closed: code=4001 reason="bye" wasClean=true`, "[exit 0]")
}

// TestConnectTerminalInterruptConnecting: Ctrl-C while connecting, to a
// server that never answers, gives up at once (the terminal is not yet
// in raw mode, which would keep Ctrl-C from sending SIGINT).
func TestConnectTerminalInterruptConnecting(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	accepted := make(chan struct{}, 1)
	serveConns(ln, func(c net.Conn) {
		accepted <- struct{}{}
		io.Copy(io.Discard, c)
	})
	p := startPane(t, "", "connect", "ws://"+ln.Addr().String()+"/")
	select {
	case <-accepted: // connect runs, its SIGINT handler set
	case <-time.After(waitTimeout):
		t.Fatalf("connect did not connect:\n%s", p.screen())
	}
	p.keys("", "C-c")
	p.waitLastLines("^C", "error: "+websocket.ErrClosedWhileConnecting.Error(), `closed: code=1006 reason="" wasClean=false`, "[exit 1]")
}
