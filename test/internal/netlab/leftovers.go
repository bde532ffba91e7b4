package netlab

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// sweepOnce makes the first lab of a process sweep the slots.
var sweepOnce sync.Once

// sweep removes what killed runs left in slots that no lab holds. A slot
// is cleaned when a lab claims it anyway; this is for the others, which
// might otherwise wait long for a run to take them, with their namespaces,
// routes and accounts in the way of no one but cluttering the machine.
func sweep() error {
	var errs []error
	for _, n := range leftovers() {
		s, err := lockSlot(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if s == nil {
			continue // a running lab's
		}
		if err := s.clean(); err != nil {
			errs = append(errs, fmt.Errorf("slot %d: %w", n, err))
		}
		s.release()
	}
	return errors.Join(errs...)
}

// leftovers returns the slots that something in the system is named
// after, whether a running lab's or a killed one's: it looks where clean
// removes things, each place once for all slots.
func leftovers() []int {
	found := map[int]bool{}
	add := func(name, format string) {
		var n int
		if _, err := fmt.Sscanf(name, format, &n); err == nil && n >= 0 && n < slots {
			found[n] = true
		}
	}
	for _, dir := range []string{netnsDir, etcNetns} {
		paths, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
		for _, p := range paths {
			add(filepath.Base(p), prefix+"%d-")
		}
	}
	if ifaces, err := net.Interfaces(); err == nil {
		for _, i := range ifaces {
			add(i.Name, prefix+"%d")
		}
	}
	if out, err := ip("route", "show", "type", "unreachable"); err == nil {
		for _, line := range strings.Split(out, "\n") {
			add(strings.TrimSpace(line), "unreachable 10.231.%d.128/25")
		}
	}
	if f, err := os.Open("/etc/passwd"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fields := strings.Split(sc.Text(), ":"); len(fields) >= 5 {
				add(fields[4], "wsloop netlab slot %d")
			}
		}
		f.Close()
	}
	var slots []int
	for n := range found {
		slots = append(slots, n)
	}
	return slots
}
