package netlab

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A lab lives in a slot, a number n in [0, slots) from which all it makes
// in the root namespace is named: the subnet 10.231.n.0/24, the host side
// of the veth pair (wsnl<n>), the namespace (wsnl<n>-<pid>-<count>), its
// /etc/netns directory and the system accounts Dante's authentication
// needs.
//
// A slot is held by an exclusive flock on a file in slotDir for as long as
// the lab lives. Taking the lock is what makes the subnet the lab's own:
// addresses do not work as a claim, since Linux lets two interfaces carry
// the same subnet. And because the kernel drops the lock when its process
// dies, however it dies, anything named after a slot that can be locked is
// a leftover of a killed run, and is removed before the slot is used.
const (
	slots   = 256
	slotDir = "/run/wsloop-netlab"
	prefix  = "wsnl"
)

// netnsDir is where ip netns keeps its named namespaces, and etcNetns where
// ip netns exec finds the files it bind-mounts over /etc's.
const (
	netnsDir = "/run/netns"
	etcNetns = "/etc/netns"
)

// cleanTimeout bounds the wait for the processes of a namespace to be gone.
const cleanTimeout = 5 * time.Second

// slot is a claimed slot; closing lock releases it.
type slot struct {
	n    int
	lock *os.File
}

// claimSlot locks the first free slot, starting from one derived from the
// process id so that concurrent runs seldom try the same slots, and clears
// it of any leftovers.
func claimSlot() (*slot, error) {
	start := os.Getpid()
	for i := range slots {
		s, err := lockSlot((start + i) % slots)
		if err != nil {
			return nil, err
		}
		if s == nil {
			continue
		}
		if err := s.clean(); err != nil {
			s.release()
			return nil, fmt.Errorf("removing what a killed run left in slot %d: %w", s.n, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("all %d lab slots in %s are in use", slots, slotDir)
}

// lockSlot locks slot n, or returns nil if a lab holds it.
func lockSlot(n int) (*slot, error) {
	if err := os.MkdirAll(slotDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(slotDir, "slot"+strconv.Itoa(n)), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		return &slot{n: n, lock: f}, nil
	}
	f.Close()
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil, nil
	}
	return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
}

// release lets another lab take the slot. The lock file stays: removing it
// would let a waiting claimant lock a file no longer in the directory.
func (s *slot) release() { s.lock.Close() }

// The slot's names and addresses.

func (s *slot) nsPrefix() string { return fmt.Sprintf("%s%d-", prefix, s.n) }
func (s *slot) hostLink() string { return fmt.Sprintf("%s%d", prefix, s.n) }
func (s *slot) hostIP() string   { return fmt.Sprintf("10.231.%d.1", s.n) }
func (s *slot) proxyIP() string  { return fmt.Sprintf("10.231.%d.2", s.n) }
func (s *slot) vethNet() string  { return fmt.Sprintf("10.231.%d.0/30", s.n) }
func (s *slot) targetIP() string { return fmt.Sprintf("10.231.%d.129", s.n) }

// targetNet is the part of the subnet the root namespace must never route
// anywhere: it holds TargetIP.
func (s *slot) targetNet() string { return fmt.Sprintf("10.231.%d.128/25", s.n) }

// userMark is the comment (GECOS field) of the slot's system accounts, by
// which clean knows them from any other account.
func (s *slot) userMark() string { return fmt.Sprintf("wsloop netlab slot %d", s.n) }

// clean removes everything named after the slot: the running lab's at its
// end, a killed run's before the slot is used again. It removes only what
// exists, so that an error is a real failure to remove something.
func (s *slot) clean() error {
	var errs []error
	namespaces, _ := filepath.Glob(filepath.Join(netnsDir, s.nsPrefix()+"*"))
	for _, path := range namespaces {
		errs = append(errs, killAll(filepath.Base(path)))
	}
	// Deleting the host side deletes the namespace side with it, now,
	// whereas a deleted namespace is taken apart asynchronously, or not
	// at all while a socket of the test process still lives in it.
	if _, err := net.InterfaceByName(s.hostLink()); err == nil {
		_, err := ip("link", "del", s.hostLink())
		errs = append(errs, err)
	}
	for _, path := range namespaces {
		_, err := ip("netns", "del", filepath.Base(path))
		errs = append(errs, err)
	}
	if out, err := ip("route", "show", "exact", s.targetNet()); err != nil {
		errs = append(errs, err)
	} else if strings.TrimSpace(out) != "" {
		_, err := ip("route", "del", "unreachable", s.targetNet())
		errs = append(errs, err)
	}
	errs = append(errs, s.deleteUsers())
	dirs, _ := filepath.Glob(filepath.Join(etcNetns, s.nsPrefix()+"*"))
	for _, d := range dirs {
		errs = append(errs, os.RemoveAll(d))
	}
	return errors.Join(errs...)
}

// killAll kills every process in the namespace ns and waits for them to
// be gone. Each proxy's own cleanup has stopped its main process by then;
// this is for what those left running (a helper that outlived its parent)
// and for a killed run's daemons. All of them are the lab's: nothing else
// runs in its namespace.
func killAll(ns string) error {
	deadline := time.Now().Add(cleanTimeout)
	for {
		out, err := ip("netns", "pids", ns)
		if err != nil {
			return err
		}
		pids := strings.Fields(out)
		if len(pids) == 0 {
			return nil
		}
		// After the wait, list again, for what was forked meanwhile.
		if err := killWait(pids, deadline); err != nil {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
}

// killWait kills the processes pids and waits until deadline for them to
// exit. They are not our children, so their ends are awaited through
// pidfds, which also make sure that the signal goes to the process listed
// and not to one that took its pid since.
func killWait(pids []string, deadline time.Time) error {
	var fds []unix.PollFd
	defer func() {
		for _, f := range fds {
			unix.Close(int(f.Fd))
		}
	}()
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("ip netns pids listed %q", p)
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // gone already
		}
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
			return fmt.Errorf("killing process %d: %w", pid, err)
		}
	}
	// A pidfd is readable once its process has exited.
	waiting := append([]unix.PollFd(nil), fds...)
	for len(waiting) > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("%d processes still running after %v", len(waiting), cleanTimeout)
		}
		if _, err := unix.Poll(waiting, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return err
		}
		running := waiting[:0]
		for _, f := range waiting {
			if f.Revents == 0 {
				running = append(running, f)
			}
		}
		waiting = running
	}
	return nil
}

// deleteUsers removes the slot's system accounts, known by their comment.
func (s *slot) deleteUsers() error {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return err
	}
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 5 && fields[4] == s.userMark() {
			names = append(names, fields[0])
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	userdel, err := lookPath("userdel")
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		if out, err := exec.Command(userdel, name).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("userdel %s: %v: %s", name, err, strings.TrimSpace(string(out))))
		}
	}
	return errors.Join(errs...)
}
