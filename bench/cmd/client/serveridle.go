package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/wsloop/websocket"
)

// server-idle: what a SERVER library's idle connections cost. A server
// under test (bench/cmd/servers -lib X) starts in a process of its own for
// each run; the driver's load (load.go) opens N connections to it (10 000
// unless -idle-conns says), then each sends one -idle-msg-size text
// message and waits for its echo, then all are held idle and closed. The
// server reports its memory after a collection (mem) before the first
// dial, with every connection upgraded, and once every echo is in; its
// CPU time comes with each report.

// sIdleSample is one run of server-idle.
type sIdleSample struct {
	conns     int
	opening   time.Duration // from the first dial to every socket open
	handshake float64       // handshakes/s over that span
	cpuHS     time.Duration // the server's CPU time per handshake
	// Per connection, with every connection upgraded (open) and after
	// one message each way (after).
	rssOpen, rssAfter   float64
	heapOpen, heapAfter float64
	stackAfter          float64       // goroutine stacks in use
	gorAfter            float64       // goroutines
	cpuRT               time.Duration // the server's CPU time per round trip of the message
	allocsRT            float64       // and its allocations
}

// serverLibs are the libraries the server-side scenarios can run, in the
// order of bench/cmd/servers's -lib.
var serverLibs = []string{"wsloop", "gorilla", "coder", "gobwas", "gws"}

// serverLibsOf is the -libs names the servers can be, in -libs's order;
// it says which it skips, and fails when none is left.
func serverLibsOf(scenario string, libs []library) ([]string, error) {
	var out, skipped []string
	for _, l := range libs {
		if contains(serverLibs, l.name) {
			out = append(out, l.name)
		} else {
			skipped = append(skipped, l.name)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(os.Stderr, "%s: %s skipped (the servers are %s)\n", scenario, strings.Join(skipped, ", "), strings.Join(serverLibs, ", "))
	}
	if len(out) == 0 {
		return nil, errors.New("no library in -libs has a server")
	}
	return out, nil
}

// serverIdleRun is one run: a fresh server process of lib, n connections.
func serverIdleRun(bin, lib string, addrs []string, n int, msg []byte) (sIdleSample, error) {
	res := sIdleSample{conns: n}
	srv, err := startServer(bin, addrs, "-lib", lib)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	_, base, err := srv.settled()
	if err != nil {
		return res, err
	}
	urls := make([]string, len(srv.urls))
	for i, u := range srv.urls {
		urls[i] = u + "/echo"
	}
	text := string(msg)
	// Each pool counts its echoes; the last one signals.
	t0 := time.Now()
	l := startLoad(urls, n, func(_ int, p *loopPool, reached func()) {
		got := 0
		p.onMessage = func(i int, e websocket.MessageEvent) {
			if !p.takeEcho(i, e, len(msg)) {
				return
			}
			if got++; got == p.n {
				p.guard.Stop()
				reached()
			}
		}
	})
	fail := l.await("connect", connectTimeout(n)+phaseTimeout)
	res.opening = time.Since(t0)
	res.handshake = float64(n) / res.opening.Seconds()
	// open: the server's memory with every connection upgraded, and its
	// CPU time then; resumed: its counters after that reading's collection.
	var open, resumed, after serverReport
	if fail == nil {
		open, resumed, fail = srv.measure(n)
	}
	if fail == nil {
		l.each(func(_ int, p *loopPool) {
			p.arm("messages", phaseTimeout)
			for _, ws := range p.socks {
				if err := ws.SendText(text); err != nil {
					p.failWith(err)
					return
				}
			}
		})
		fail = l.await("messages", 2*phaseTimeout)
	}
	if fail == nil {
		after, _, fail = srv.settled()
	}
	fail = keepFirst(fail, l.close())
	if fail != nil {
		return res, fail
	}
	per := func(a, b int64) float64 { return float64(a-b) / float64(n) }
	res.cpuHS = (open.cpu - base.cpu) / time.Duration(n)
	res.rssOpen, res.rssAfter = per(open.rss, base.rss), per(after.rss, base.rss)
	res.heapOpen, res.heapAfter = per(open.heap, base.heap), per(after.heap, base.heap)
	res.stackAfter = per(after.stack, base.stack)
	res.gorAfter = per(after.goroutines, base.goroutines)
	res.cpuRT = (after.cpu - resumed.cpu) / time.Duration(n)
	res.allocsRT = per(after.mallocs, resumed.mallocs)
	return res, nil
}

// measure waits for the server to hold n connections, then reads its
// memory (settled), with the CPU time as of when they were all there.
func (s *serverProc) measure(n int) (open, resumed serverReport, err error) {
	c, err := s.waitConns(n)
	if err != nil {
		return c, c, err
	}
	open, resumed, err = s.settled()
	open.cpu, open.mallocs = c.cpu, c.mallocs
	return open, resumed, err
}

func runServerIdle(o options, libs []library, limit uint64) error {
	names, err := serverLibsOf("server-idle", libs)
	if err != nil {
		return err
	}
	n, msg, err := idleMessage(o, limit)
	if err != nil {
		return err
	}
	bin, cleanup, err := buildPkg(serversPkg, o.serversBin)
	if err != nil {
		return err
	}
	defer cleanup()
	title := fmt.Sprintf("server-idle: %d connections to the server under test over %d addresses, each sends one %s text message and gets its echo, then all are held idle (load: wsloop on %d loops)",
		n, o.addrs, sizeName(o.idleMsgSize), min(loadLoops, n))
	fmt.Fprintf(os.Stderr, "== %s\n", title)

	samples := make(map[string][]sIdleSample)
	errs := make(map[string][]error)
	others := startChildOthersMeter()
	for r := 1; r <= o.rounds; r++ {
		for _, lib := range names {
			runtime.GC()
			time.Sleep(5 * o.pause)
			s, err := serverIdleRun(bin, lib, loopbackAddrs(o.addrs), n, msg)
			if err != nil {
				errs[lib] = append(errs[lib], err)
				fmt.Fprintf(os.Stderr, "server-idle round %d/%d %-8s FAILED: %v\n", r, o.rounds, lib, err)
				continue
			}
			samples[lib] = append(samples[lib], s)
			fmt.Fprintf(os.Stderr, "server-idle round %d/%d %-8s opened in %v (%s handshakes/s, server CPU %s a handshake); server RSS %.2f KiB/conn open, %.2f after a message each way; live heap %.2f and %.2f KiB/conn; stacks %.2f KiB/conn; %.2f goroutines/conn; the message: server CPU %s and %.1f allocs a round trip\n",
				r, o.rounds, lib, s.opening.Round(time.Millisecond), fmtRate(s.handshake), fmtDur(s.cpuHS), s.rssOpen/1024, s.rssAfter/1024, s.heapOpen/1024, s.heapAfter/1024, s.stackAfter/1024, s.gorAfter, fmtDur(s.cpuRT), s.allocsRT)
		}
	}
	printServerIdleTable(title, names, samples, errs)
	printOthers(others.stop())
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed", countErrs(errs))
	}
	return nil
}

func printServerIdleTable(title string, names []string, samples map[string][]sIdleSample, errs map[string][]error) {
	fmt.Printf("## %s\n\n", title)
	head := []string{"server", "RSS/conn open", "RSS/conn after one message each way", "vs wsloop", "live heap/conn open", "live heap/conn after", "stacks/conn", "goroutines/conn", "handshakes/s", "server CPU/handshake", "server CPU/round trip", "server allocs/round trip", "runs"}
	printHead(head)
	ref := medianBy(samples["wsloop"], func(s sIdleSample) float64 { return s.rssAfter })
	for _, lib := range names {
		ss := samples[lib]
		row, ok := newRow(len(head), lib, len(ss), len(errs[lib]))
		if !ok {
			continue
		}
		med := func(f func(sIdleSample) float64) float64 { return medianBy(ss, f) }
		kib := func(f func(sIdleSample) float64) string { return fmt.Sprintf("%.2f KiB", med(f)/1024) }
		after := med(func(s sIdleSample) float64 { return s.rssAfter })
		row[1] = kib(func(s sIdleSample) float64 { return s.rssOpen })
		row[2] = kib(func(s sIdleSample) float64 { return s.rssAfter })
		row[3] = ratioCell(after, ref)
		row[4] = kib(func(s sIdleSample) float64 { return s.heapOpen })
		row[5] = kib(func(s sIdleSample) float64 { return s.heapAfter })
		row[6] = kib(func(s sIdleSample) float64 { return s.stackAfter })
		row[7] = fmt.Sprintf("%.2f", med(func(s sIdleSample) float64 { return s.gorAfter }))
		row[8] = fmtRate(med(func(s sIdleSample) float64 { return s.handshake }))
		row[9] = fmtDur(time.Duration(med(func(s sIdleSample) float64 { return float64(s.cpuHS) })))
		row[10] = fmtDur(time.Duration(med(func(s sIdleSample) float64 { return float64(s.cpuRT) })))
		row[11] = fmt.Sprintf("%.1f", med(func(s sIdleSample) float64 { return s.allocsRT }))
		printRow(row)
	}
	fmt.Println()
	fmt.Println("All figures are the server process's, medians over the runs. RSS/conn: its VmRSS growth per connection from before the first dial, read after runtime.GC and debug.FreeOSMemory; open: every connection upgraded; after: every echo in. vs wsloop: RSS/conn after, against wsloop's (above 1.00× holds more). live heap/conn: the same of runtime.MemStats.HeapAlloc; stacks/conn: of StackInuse (goroutine stacks), then. handshakes/s: connections opened per second by the load, 128 in flight per loop; server CPU/handshake: the server's user+system time over that span per connection. server CPU and allocs per round trip: the message phase, from the first send to the last echo.")
	fmt.Println()
	printErrs(names, errs)
}

// medianBy is the median of f over the runs.
func medianBy[T any](ss []T, f func(T) float64) float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return median(xs)
}

// printHead prints a Markdown table's head, the first column left-aligned.
func printHead(head []string) {
	fmt.Println("| " + strings.Join(head, " | ") + " |")
	seps := make([]string, len(head))
	for i := range seps {
		seps[i] = "---:"
	}
	seps[0] = "---"
	fmt.Println("|" + strings.Join(seps, "|") + "|")
}

func printRow(row []string) { fmt.Println("| " + strings.Join(row, " | ") + " |") }

// newRow is a table row of n cells with its first (the name) and last
// (the runs: how many, how many failed) filled in. A library with no
// run left is printed as failed at once, and ok is false.
func newRow(n int, name string, runs, failed int) (row []string, ok bool) {
	row = make([]string, n)
	row[0], row[n-1] = name, fmt.Sprintf("%d", runs)
	if failed > 0 {
		row[n-1] += fmt.Sprintf(" (%d failed)", failed)
	}
	if runs == 0 {
		row[1] = "failed"
		printRow(row)
	}
	return row, runs > 0
}

// ratioCell is x ÷ ref, or a dash without a reference.
func ratioCell(x, ref float64) string {
	if ref <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x/ref)
}

func printErrs(names []string, errs map[string][]error) {
	for _, name := range names {
		for _, e := range errs[name] {
			fmt.Printf("- %s failed: %v\n", name, e)
		}
	}
	if len(errs) > 0 {
		fmt.Println()
	}
}
