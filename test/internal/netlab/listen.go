package netlab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// Listen returns a TCP listener on TargetIP, on a port of the kernel's
// choosing, made inside the lab's namespace: only the proxies can connect
// to it. The test serves on it whatever it wants, from any goroutine. It
// is closed at t's cleanup, if the test has not closed it.
func (l *Lab) Listen(t testing.TB) net.Listener {
	t.Helper()
	var ln net.Listener
	err := l.inNamespace(func() error {
		var err error
		ln, err = net.Listen("tcp4", net.JoinHostPort(l.TargetIP, "0"))
		return err
	})
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		t.Fatalf("netlab: listening in %s: %v", l.NS, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// inNamespace runs f on an OS thread moved into the lab's namespace. A
// socket belongs to the namespace of the thread that made it, for its
// whole life, so a listener made by f works from any thread afterwards.
//
// It runs on a goroutine of its own, locked to its thread: should moving
// the thread back fail, the goroutine ends still locked, and the runtime
// then ends the thread instead of giving it to other goroutines.
func (l *Lab) inNamespace(f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored, err := setns(l.NS, f)
		if restored {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// setns moves the calling thread, which must be locked, into the named
// namespace, runs f there and moves it back. It reports whether the thread
// is back in its namespace.
func setns(ns string, f func() error) (restored bool, err error) {
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return true, err
	}
	defer home.Close()
	target, err := os.Open(filepath.Join(netnsDir, ns))
	if err != nil {
		return true, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("entering namespace %s: %w", ns, err)
	}
	ferr := f()
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
		return false, fmt.Errorf("leaving namespace %s: %w", ns, err)
	}
	return true, ferr
}
