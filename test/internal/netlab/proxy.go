package netlab

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wsloop/websocket/test/internal/testenv"
)

// Auth is the user name and password a proxy requires; a nil *Auth means
// a proxy that requires none.
type Auth struct {
	User, Pass string
}

// NewAuth returns credentials whose user name is unique to the lab among
// all labs, running or left behind by a killed run, with pass as the
// password. Dante needs such a name, since its accounts are the system's;
// the other proxies take any name their configuration can spell.
func (l *Lab) NewAuth(pass string) *Auth {
	return &Auth{
		User: fmt.Sprintf("%s%du%d", prefix, l.slot.n, l.users.Add(1)),
		Pass: pass,
	}
}

// Proxy is a proxy daemon running in a lab's namespace.
type Proxy struct {
	// Addr is the proxy's address, ProxyIP:port, for the test process.
	Addr string
	// Auth is what the proxy requires, nil for nothing.
	Auth *Auth
}

// URL returns the proxy's URL with the given scheme ("http", "socks5",
// "socks5h", "socks4", "socks4a"...) and, when the proxy requires them,
// its credentials, escaped as a URL's userinfo must be.
func (p *Proxy) URL(scheme string) string {
	u := url.URL{Scheme: scheme, Host: p.Addr}
	if p.Auth != nil {
		u.User = url.UserPassword(p.Auth.User, p.Auth.Pass)
	}
	return u.String()
}

// startTimeout bounds how long a proxy may take to accept connections; a
// loaded CI machine may need a few seconds for Squid's start.
const startTimeout = 15 * time.Second

// stopTimeout bounds how long a proxy may take to exit once asked to,
// before it is killed.
const stopTimeout = 5 * time.Second

// daemon is a proxy program to run in a lab.
type daemon struct {
	name string   // for messages
	args []string // the program and its arguments
	logs []string // files, besides its output, to show when the test failed
	kill bool     // stop it by killing its process group, not by asking
}

// start runs d in the lab's namespace and waits until it accepts
// connections on port of ProxyIP. The daemon is stopped at t's cleanup,
// which shows its output and logs when the test failed. auth is what the
// daemon was configured to require.
func (l *Lab) start(t testing.TB, d daemon, port int, auth *Auth) *Proxy {
	t.Helper()
	addr := net.JoinHostPort(l.ProxyIP, strconv.Itoa(port))
	cmd := exec.Command(ipPath(), append([]string{"netns", "exec", l.NS}, d.args...)...)
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// ip netns exec becomes the daemon (it execs, it does not fork), so
	// the daemon dies with the test process even if the cleanup below
	// never runs (a killed run, a test timeout), as long as it does not
	// change its user, which clears the parent-death signal: the daemons
	// run as root, or are made their user by setpriv, which sets the
	// signal again. Their children end when they do. A group of its own
	// holds the processes a daemon forks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("netlab: starting %s: %v", d.name, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stop(cmd, exited, d.kill)
		if t.Failed() {
			t.Logf("%s output:\n%s", d.name, out.String())
			for _, f := range d.logs {
				b, err := os.ReadFile(f)
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Logf("%s: %v", f, err)
				} else if len(b) > 0 {
					t.Logf("%s:\n%s", f, b)
				}
			}
		}
	})
	if err := waitListening(addr, exited); err != nil {
		t.Fatalf("netlab: %s: %v", d.name, err)
	}
	return &Proxy{Addr: addr, Auth: auth}
}

// stop asks the daemon to exit, so that it ends its children and flushes
// its logs, and kills its process group if it has not exited within
// stopTimeout, or at once when kill is set. The lab's cleanup kills
// whatever else is left in its namespace.
func stop(cmd *exec.Cmd, exited <-chan struct{}, kill bool) {
	if !kill {
		cmd.Process.Signal(syscall.SIGTERM)
		timer := time.NewTimer(stopTimeout)
		defer timer.Stop()
		select {
		case <-exited:
			return
		case <-timer.C:
		}
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// waitListening waits for a connection to addr to succeed, until the
// daemon exits or startTimeout passes. Daemons do not say when they
// listen, so this polls; a refused connection costs little.
func waitListening(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections on %s after %v: %v", addr, startTimeout, err)
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before accepting connections on %s", addr)
		case <-tick.C:
		}
	}
}

// need returns the path of program, or ends t, as unavailable does, when
// it is not installed.
func need(t testing.TB, program, pkg string) string {
	t.Helper()
	path, err := lookPath(program)
	if err != nil {
		testenv.Unavailable(t, fmt.Sprintf("%s not found: apt-get install %s", program, pkg))
	}
	return path
}

// lookPath looks for program in PATH, then in the sbin directories, where
// daemons and ip live, which are not always in a test's PATH.
func lookPath(program string) (string, error) {
	path, err := exec.LookPath(program)
	if err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if path, err := exec.LookPath(filepath.Join(dir, program)); err == nil {
			return path, nil
		}
	}
	return "", err
}
