package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// sample is what one run of one library in one scenario measured. ops is
// the scenario's unit of work: a round trip, a message, a handshake.
type sample struct {
	ops     int64
	elapsed time.Duration
	cpu     time.Duration // user+sys of this process, all its threads
	mallocs uint64
	// switches counts the context switches of this process's threads,
	// voluntary and not: each is a thread put to sleep or preempted, which
	// on a VM costs more CPU than most of the work around it.
	switches int64
	bytes    int64 // payload bytes moved, where the scenario counts them
	// writes counts the write-family system calls of this process's
	// threads (write, writev, sendto, sendmsg and their kin), when
	// -count-writes set up writeCounter; -1 otherwise.
	writes int64
	// ipis counts the machine's inter-processor interrupts (ipiCount);
	// -1 where they cannot be read.
	ipis int64

	lat []time.Duration // per-operation latencies (fan)

	// idle
	rssPerConn float64 // bytes
	gorPerConn float64

	// With compression (-compress): the extension the server accepted
	// (its Sec-WebSocket-Extensions, as the library tells it), and the
	// server's count of the connection's bytes (wire is nil without it).
	ext  string
	wire *wireStats
}

// withExt is s with ext set.
func (s sample) withExt(ext string) sample {
	s.ext = ext
	return s
}

func (s sample) rate() float64 { return float64(s.ops) / s.elapsed.Seconds() }

func (s sample) cpuPerOp() time.Duration {
	if s.ops == 0 {
		return 0
	}
	return s.cpu / time.Duration(s.ops)
}

func (s sample) switchesPerOp() float64 {
	if s.ops == 0 {
		return 0
	}
	return float64(s.switches) / float64(s.ops)
}

// writesPerOp is NaN when the system calls were not counted.
func (s sample) writesPerOp() float64 {
	if s.ops == 0 || s.writes < 0 {
		return math.NaN()
	}
	return float64(s.writes) / float64(s.ops)
}

func (s sample) allocsPerOp() float64 {
	if s.ops == 0 {
		return 0
	}
	return float64(s.mallocs) / float64(s.ops)
}

func (s sample) percentile(p int) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	l := slices.Clone(s.lat)
	slices.Sort(l)
	i := len(l) * p / 100
	if i >= len(l) {
		i = len(l) - 1
	}
	return l[i]
}

// meter brackets the measured phase of a run: wall time, this process's CPU
// time (getrusage RUSAGE_SELF, so the server process is not counted) and
// the heap allocations of every goroutine in it.
type meter struct {
	t        time.Time
	cpu      time.Duration
	switches int64
	mallocs  uint64
	writes   int64 // -1: not counted
	ipis     int64 // -1: not counted
}

func startMeter() meter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms) // before the clocks start: it stops the world
	m := meter{mallocs: ms.Mallocs, writes: writeCounter.count(), ipis: ipiCount()}
	m.cpu, m.switches = usage()
	m.t = time.Now()
	return m
}

func (m meter) stop(ops int64) sample {
	el := time.Since(m.t)
	cpu, sw := usage()
	writes := countSince(m.writes, writeCounter.count())
	ipis := countSince(m.ipis, ipiCount())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return sample{ops: ops, elapsed: el, cpu: cpu - m.cpu, switches: sw - m.switches, mallocs: ms.Mallocs - m.mallocs, writes: writes, ipis: ipis}
}

// countSince is now - then for counters that read -1 when not counted,
// and -1 if either did.
func countSince(then, now int64) int64 {
	if then < 0 || now < 0 {
		return -1
	}
	return now - then
}

// usage is this process's CPU time and context switches so far.
func usage() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw + ru.Nivcsw
}

func cpuTime() time.Duration {
	cpu, _ := usage()
	return cpu
}

// settle collects garbage and hands free memory back to the OS, so that
// VmRSS reflects what is live.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// rssBytes is VmRSS from /proc/self/status.
func rssBytes() int64 { return procRSS("/proc/self/status") }

func procRSS(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "VmRSS:" {
			kb, _ := strconv.ParseInt(string(f[1]), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// idleSnapshot is the state before connections are made, to subtract.
type idleSnapshot struct {
	rss        int64
	goroutines int
	heap       int64 // live heap (idle-deflate)
}

func takeIdleSnapshot() idleSnapshot {
	settle()
	return idleSnapshot{rss: rssBytes(), goroutines: runtime.NumGoroutine(), heap: heapAlloc()}
}

// heapAlloc is the Go heap's allocated bytes; after settle, the live ones.
func heapAlloc() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// finishIdle fills in the per-connection memory and goroutines, with n
// connections open.
func (b idleSnapshot) finish(s *sample, n int) {
	settle()
	s.rssPerConn = float64(rssBytes()-b.rss) / float64(n)
	s.gorPerConn = float64(runtime.NumGoroutine()-b.goroutines) / float64(n)
}

var errTimeout = errors.New("timed out")

func timeoutErr(phase string, d time.Duration) error {
	return fmt.Errorf("%s: %w after %v", phase, errTimeout, d)
}

// fdLimit raises the soft limit on open files to the hard limit and
// returns the new soft limit.
func fdLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return rl.Cur, err
		}
	}
	return rl.Cur, nil
}

// ephemeralPorts is the size of the local port range connect picks from.
func ephemeralPorts() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 28232
	}
	f := bytes.Fields(b)
	if len(f) != 2 {
		return 28232
	}
	lo, _ := strconv.Atoi(string(f[0]))
	hi, _ := strconv.Atoi(string(f[1]))
	if hi <= lo {
		return 28232
	}
	return hi - lo + 1
}

// othersMeter measures how much CPU time the rest of the machine (every
// process but this one and its server) used over a span, to tell a quiet
// run from one that shared the cores.
type othersMeter struct {
	t         time.Time
	busy, own time.Duration
	server    int
	serverCPU time.Duration
}

func startOthersMeter(serverPid int) othersMeter {
	return othersMeter{t: time.Now(), busy: machineBusy(), own: cpuTime(), server: serverPid, serverCPU: procCPU(serverPid)}
}

// stop returns the others' share of the machine's CPU time, in percent.
func (m othersMeter) stop() (float64, bool) {
	srv := procCPU(m.server) - m.serverCPU
	return othersShare(time.Since(m.t), machineBusy()-m.busy, cpuTime()-m.own+srv)
}

// printOthers prints, under a table, how much of the machine the other
// processes used while it was measured, when that could be read.
func printOthers(pct float64, ok bool) {
	if ok {
		fmt.Printf("Other processes (not this client, not the servers it started) used %.0f%% of the machine's CPU time while this table was measured (user+system time; 0%% is a quiet machine).\n\n", pct)
	}
}

// othersShare is the percentage of the machine's CPU time over wall that
// went to processes other than ours: busy (the machine's) less ours.
func othersShare(wall, busy, ours time.Duration) (float64, bool) {
	if busy <= 0 || wall <= 0 {
		return 0, false
	}
	other := max(busy-ours, 0)
	return 100 * float64(other) / (float64(wall) * float64(runtime.NumCPU())), true
}

// clockTick is USER_HZ, the unit of /proc/stat and /proc/PID/stat; 100 on
// every Linux that Go runs on.
const clockTick = 10 * time.Millisecond

// machineBusy is the user and system CPU time of all processors, from
// the first line of /proc/stat. Interrupt and softirq time are left out:
// on loopback most of it is this benchmark's own packets, and the kernel
// does not charge it to any process.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 4 || string(f[0]) != "cpu" {
		return 0
	}
	var busy int64
	for _, v := range f[1:4] { // user nice system
		n, _ := strconv.ParseInt(string(v), 10, 64)
		busy += n
	}
	return time.Duration(busy) * clockTick
}

// procCPU is the user+system CPU time of process pid.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	// After the command: state is field 3, utime 14, stime 15.
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(string(f[11]), 10, 64)
	s, _ := strconv.ParseInt(string(f[12]), 10, 64)
	return time.Duration(u+s) * clockTick
}
