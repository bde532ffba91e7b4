package main

import (
	"fmt"
	"strings"
	"syscall"
	"time"
)

// The server-side scenarios talk to a server under test
// (bench/cmd/servers) through its standard input and output: a command
// a line, answered by a line of key=value pairs. This file is that
// conversation, and the meter of the CPU time the rest of the machine
// used while the servers came and went.

// serverReport is a server's answer to count or mem.
type serverReport struct {
	conns, goroutines int64
	cpu               time.Duration // the server's user+system time
	mallocs           int64
	// After mem, which collects garbage first: live heap, goroutine
	// stacks in use, VmRSS.
	heap, stack, rss int64
}

func parseServerReport(line string) (serverReport, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return serverReport{}, fmt.Errorf("not a server report: %q", line)
	}
	c, err := countsOf(f[1:])
	if err != nil {
		return serverReport{}, fmt.Errorf("server report %q: %v", line, err)
	}
	return serverReport{
		conns: c["conns"], goroutines: c["goroutines"], cpu: time.Duration(c["cpu_ns"]), mallocs: c["mallocs"],
		heap: c["heap"], stack: c["stack"], rss: c["rss"],
	}, nil
}

// ask sends cmd (count or mem) and waits for the answer.
func (s *serverProc) ask(cmd string) (serverReport, error) {
	if _, err := fmt.Fprintln(s.stdin, cmd); err != nil {
		return serverReport{}, fmt.Errorf("server %s: %w", cmd, err)
	}
	t := time.NewTimer(phaseTimeout)
	defer t.Stop()
	select {
	case line := <-s.replies:
		if !strings.HasPrefix(line, cmd+" ") {
			return serverReport{}, fmt.Errorf("server %s: answered %q", cmd, line)
		}
		return parseServerReport(line)
	case <-s.exit:
		return serverReport{}, fmt.Errorf("server %s: the server exited", cmd)
	case <-t.C:
		return serverReport{}, fmt.Errorf("server %s: %w", cmd, timeoutErr("answer", phaseTimeout))
	}
}

// settled asks for mem and then count: mem's memory, with the CPU time
// and allocations as of before its collection (the end of a span), and
// count's as of after it (the start of the next, which does not pay for
// the collection).
func (s *serverProc) settled() (mem, resume serverReport, err error) {
	if mem, err = s.ask("mem"); err != nil {
		return mem, resume, err
	}
	resume, err = s.ask("count")
	return mem, resume, err
}

// waitConns polls count until the server holds n connections: a client
// sees its socket open once the 101 is in, a moment before the server's
// library has taken the connection over.
func (s *serverProc) waitConns(n int) (serverReport, error) {
	deadline := time.Now().Add(phaseTimeout)
	for {
		r, err := s.ask("count")
		if err != nil || r.conns == int64(n) {
			return r, err
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("the server holds %d connections, want %d: %w", r.conns, n, timeoutErr("server's connections", phaseTimeout))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// childOthersMeter is othersMeter for scenarios that start a server
// process per run: it takes off the CPU time of this process and of its
// children that have ended (RUSAGE_CHILDREN counts those waited for),
// so it is read once every server of the table has exited.
type childOthersMeter struct {
	t                time.Time
	busy, own, child time.Duration
}

func startChildOthersMeter() childOthersMeter {
	return childOthersMeter{t: time.Now(), busy: machineBusy(), own: cpuTime(), child: childrenCPU()}
}

// stop returns the others' share of the machine's CPU time, in percent.
func (m childOthersMeter) stop() (float64, bool) {
	return othersShare(time.Since(m.t), machineBusy()-m.busy, cpuTime()-m.own+childrenCPU()-m.child)
}

// childrenCPU is the user+system time of this process's children that
// have ended and been waited for.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
