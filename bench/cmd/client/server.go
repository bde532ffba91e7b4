package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	serverPkg  = "github.com/wsloop/websocket/bench/cmd/server"
	serversPkg = "github.com/wsloop/websocket/bench/cmd/servers" // the servers under test
)

// buildServer compiles bench/cmd/server into a temporary directory (or
// takes the binary given with -server-bin) and returns its path and a
// cleanup.
func buildServer(prebuilt string) (string, func(), error) {
	return buildPkg(serverPkg, prebuilt)
}

// buildPkg compiles the command pkg into a temporary directory, unless
// prebuilt names its binary, and returns its path and a cleanup.
func buildPkg(pkg, prebuilt string) (string, func(), error) {
	if prebuilt != "" {
		return prebuilt, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "wsbench-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, "wsbench-"+filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("go build %s: %w", pkg, err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			cleanup()
			return "", nil, fmt.Errorf("go build %s (run from the bench module, or pass -server-bin or -servers-bin): %w", pkg, err)
		}
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		cleanup()
		return "", nil, fmt.Errorf("go build %s: %w", pkg, timeoutErr("build", 5*time.Minute))
	}
	return bin, cleanup, nil
}

// serverProc is one running server process.
type serverProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	urls  []string // ws://ip:port, one per address it listens on
	exit  chan struct{}
	// stats has the server's "stats ..." lines, for connections that
	// asked with stats=1; lines that find it full are dropped.
	stats chan string
	// replies has the answers of a server under test (bench/cmd/servers)
	// to the driver's commands: its "count ..." and "mem ..." lines.
	replies chan string
}

var (
	procsMu sync.Mutex
	procs   []*exec.Cmd // children to kill if we are interrupted
)

func track(cmd *exec.Cmd) {
	procsMu.Lock()
	procs = append(procs, cmd)
	procsMu.Unlock()
}

// killChildren ends every child process still running (on an interrupt).
func killChildren() {
	procsMu.Lock()
	defer procsMu.Unlock()
	for _, c := range procs {
		if c.Process != nil && c.ProcessState == nil {
			c.Process.Kill()
		}
	}
}

// childAttr makes a child die with us (Pdeathsig) in its own process group.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// startServer runs the server on addrs (host:port, port 0 for any) and
// waits for it to say it is ready; args go before -listen.
func startServer(bin string, addrs []string, args ...string) (*serverProc, error) {
	args = append(args, "-listen", strings.Join(addrs, ","))
	cmd := exec.Command(bin, args...)
	if serverCPUs != "" {
		// taskset sets the affinity and execs the server, whose threads
		// all inherit it.
		cmd = exec.Command("taskset", append([]string{"-c", serverCPUs, bin}, args...)...)
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	track(cmd)
	s := &serverProc{cmd: cmd, stdin: stdin, exit: make(chan struct{}), stats: make(chan string, 64), replies: make(chan string, 4)}
	go func() {
		cmd.Wait()
		close(s.exit)
	}()

	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "listening "); ok {
				s.urls = append(s.urls, u)
			}
			if line == "ready" {
				ready <- nil
				for sc.Scan() {
					line := sc.Text()
					switch {
					case strings.HasPrefix(line, "stats "):
						select {
						case s.stats <- line:
						default:
						}
					case strings.HasPrefix(line, "count "), strings.HasPrefix(line, "mem "):
						select {
						case s.replies <- line:
						default:
						}
					}
				}
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- fmt.Errorf("server exited before it was ready")
	}()
	select {
	case err := <-ready:
		if err != nil {
			s.stop()
			return nil, err
		}
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("server: %w", timeoutErr("start", 30*time.Second))
	}
	if len(s.urls) != len(addrs) {
		s.stop()
		return nil, fmt.Errorf("server listens on %d addresses, want %d", len(s.urls), len(addrs))
	}
	return s, nil
}

// stop closes the server's standard input, which makes it exit, and kills
// it if it has not within 10 s.
func (s *serverProc) stop() {
	s.stdin.Close()
	select {
	case <-s.exit:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exit
	}
}

func (s *serverProc) rss() int64 {
	return procRSS(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
}

// loopbackAddrs is 127.0.0.1:0 ... 127.0.0.n:0.
func loopbackAddrs(n int) []string {
	a := make([]string, n)
	for i := range a {
		a[i] = fmt.Sprintf("127.0.0.%d:0", i+1)
	}
	return a
}
