package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

// report is what the count and mem commands print, as key=value pairs
// the driver parses (bench/cmd/client/serverproc.go).
type report struct {
	conns, goroutines int64
	cpu               time.Duration
	mallocs           uint64
	mem               bool // the fields below were read, after a collection
	heap, stack, rss  uint64
}

func (r report) String() string {
	s := fmt.Sprintf("conns=%d goroutines=%d cpu_ns=%d mallocs=%d", r.conns, r.goroutines, r.cpu.Nanoseconds(), r.mallocs)
	if r.mem {
		s += fmt.Sprintf(" heap=%d stack=%d rss=%d", r.heap, r.stack, r.rss)
	}
	return s
}

// readCounts is cheap enough to poll: ReadMemStats stops the world for
// microseconds, and nothing is collected.
func readCounts() report {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return report{conns: conns.Load(), goroutines: int64(runtime.NumGoroutine()), cpu: cpuTime(), mallocs: ms.Mallocs}
}

// readMemory collects garbage and returns free pages to the OS first, so
// that the heap is the live bytes and VmRSS what is in use. The CPU time
// and allocation count are read before the collection, which would
// otherwise add its own to the span being measured.
func readMemory() report {
	r := readCounts()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.mem = true
	r.heap, r.stack, r.rss = ms.HeapAlloc, ms.StackInuse, vmRSS()
	r.goroutines = int64(runtime.NumGoroutine())
	return r
}

// cpuTime is this process's user+system CPU time, every thread.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmRSS is VmRSS from /proc/self/status, in bytes.
func vmRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := bytes.Fields(sc.Bytes())
		if len(fs) >= 2 && string(fs[0]) == "VmRSS:" {
			kb, _ := strconv.ParseUint(string(fs[1]), 10, 64)
			return kb << 10
		}
	}
	return 0
}
