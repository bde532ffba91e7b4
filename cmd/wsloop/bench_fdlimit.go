package main

import "fmt"

// fdLimits reads and sets the process's limit on open files (RLIMIT_NOFILE
// where there is one). The tests give bench limits of their own, to see
// what it says of a limit that this machine does not have.
type fdLimits interface {
	// get returns the soft and the hard limit; ok is false where the
	// system has no such limit to read.
	get() (soft, hard uint64, ok bool, err error)
	// set makes soft the soft limit, the hard one unchanged.
	set(soft uint64) error
}

// fdReserve is how many descriptors bench wants besides one per socket:
// standard input and output, each loop's poller and its wake-up
// descriptor, name lookups, and the runtime's own.
func fdReserve(loops int) uint64 { return 32 + 4*uint64(loops) }

// fdLimitError is the refusal of a run that needs more descriptors than
// the hard limit lets the process have.
type fdLimitError struct {
	sockets    int
	need, hard uint64
}

func (e *fdLimitError) Error() string {
	most := "none"
	if spare := e.hard - min(e.hard, e.need-uint64(e.sockets)); spare > 0 {
		most = fmt.Sprintf("-n %d at most", spare)
	}
	return fmt.Sprintf("%d sockets need about %d open files, one each and %d more, but this process may open at most %d "+
		"(the hard limit, ulimit -Hn). Raise it (as root: ulimit -Hn, LimitNOFILE= for a systemd unit, nofile in "+
		"/etc/security/limits.conf), or run fewer sockets (%s)",
		e.sockets, e.need, e.need-uint64(e.sockets), e.hard, most)
}

// ensureFDs makes room for sockets sockets on loops loops: when the soft
// limit is too low it raises it to the hard one, and when even the hard
// one is too low it says so, with what to do, before any socket is made.
// It returns the soft limit it raised, or zero.
func ensureFDs(lim fdLimits, sockets, loops int) (raisedFrom uint64, err error) {
	soft, hard, ok, err := lim.get()
	if err != nil || !ok {
		return 0, err
	}
	need := uint64(sockets) + fdReserve(loops)
	if need <= soft {
		return 0, nil
	}
	if need > hard {
		return 0, &fdLimitError{sockets: sockets, need: need, hard: hard}
	}
	// To the hard limit, as the brief of a load tool is to use what the
	// system allows. Linux refuses an unlimited soft limit for files
	// (past fs.nr_open), so that case asks for what the run needs.
	if err := lim.set(hard); err != nil {
		if err := lim.set(need); err != nil {
			return 0, fmt.Errorf("raising the open-file limit from %d to %d for %d sockets: %w", soft, need, sockets, err)
		}
	}
	return soft, nil
}
