package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wsloop/websocket"
)

// server-echo: a SERVER library's echo throughput. A server under test
// (bench/cmd/servers -lib X) starts in a process of its own for each run;
// the load (load.go) opens -echo-conns connections (100), then each sends
// a text message, waits for its echo and sends the next, one in flight per
// connection, for -duration. The server's CPU time and allocations come
// from its count reports before and after; the round trips' latencies
// and the load's own CPU time are the client's.

// sEchoSample is one run of server-echo. The embedded sample is the
// load's: its operations (the echoes), wall time and CPU time.
type sEchoSample struct {
	sample
	hist      rttHist // the round trips' latencies
	serverCPU time.Duration
	serverMal int64
}

func (s sEchoSample) serverCPUPerMsg() time.Duration {
	if s.ops == 0 {
		return 0
	}
	return s.serverCPU / time.Duration(s.ops)
}

func (s sEchoSample) serverAllocsPerMsg() float64 {
	if s.ops == 0 {
		return 0
	}
	return float64(s.serverMal) / float64(s.ops)
}

// echoPool is one pool's round trips; touched only on its loop.
type echoPool struct {
	sent     []time.Time
	hist     rttHist
	n        int64
	end      time.Time
	finished int
}

// serverEchoRun is one run: a fresh server process of lib, n connections,
// msg echoed one at a time on each for d.
func serverEchoRun(bin, lib string, addrs []string, n int, msg []byte, d time.Duration) (sEchoSample, error) {
	var res sEchoSample
	srv, err := startServer(bin, addrs, "-lib", lib)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	urls := make([]string, len(srv.urls))
	for i, u := range srv.urls {
		urls[i] = u + "/echo"
	}
	text := string(msg)
	var states []*echoPool
	l := startLoad(urls, n, func(_ int, p *loopPool, reached func()) {
		st := &echoPool{sent: make([]time.Time, p.n)}
		states = append(states, st)
		p.onMessage = func(i int, e websocket.MessageEvent) {
			now := time.Now()
			st.hist.add(now.Sub(st.sent[i]))
			st.n++
			if !p.takeEcho(i, e, len(msg)) {
				return
			}
			if now.Before(st.end) {
				st.sent[i] = now
				if err := p.socks[i].SendText(text); err != nil {
					p.failWith(err)
				}
				return
			}
			if st.finished++; st.finished == p.n {
				p.guard.Stop()
				reached()
			}
		}
	})
	fail := l.await("connect", connectTimeout(n)+phaseTimeout)
	var before, after serverReport
	if fail == nil {
		before, fail = srv.waitConns(n)
	}
	if fail == nil {
		m := startMeter()
		end := time.Now().Add(d)
		l.each(func(j int, p *loopPool) {
			st := states[j]
			st.end = end
			p.arm("echo", d+phaseTimeout)
			for i, ws := range p.socks {
				st.sent[i] = time.Now()
				if err := ws.SendText(text); err != nil {
					p.failWith(err)
					return
				}
			}
		})
		fail = l.await("echo", d+2*phaseTimeout)
		var ops int64
		for _, st := range states {
			ops += st.n
		}
		res.sample = m.stop(ops)
		if fail == nil {
			after, fail = srv.ask("count")
		}
	}
	fail = keepFirst(fail, l.close())
	if fail != nil {
		return res, fail
	}
	for _, st := range states {
		res.hist.merge(&st.hist)
	}
	res.bytes = res.ops * int64(len(msg))
	res.serverCPU = after.cpu - before.cpu
	res.serverMal = after.mallocs - before.mallocs
	return res, nil
}

// merge adds o's counts to h.
func (h *rttHist) merge(o *rttHist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-echo-sizes: %q is not a size in bytes", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("-echo-sizes: no size given")
	}
	return out, nil
}

func runServerEcho(o options, libs []library, limit uint64) error {
	names, err := serverLibsOf("server-echo", libs)
	if err != nil {
		return err
	}
	sizes, err := parseSizes(o.echoSizes)
	if err != nil {
		return err
	}
	n := o.echoConns
	if n < 1 || uint64(n+2*dialWindow+200) > limit {
		return fmt.Errorf("-echo-conns %d: need 1 to %d with the fd limit %d", n, int(limit)-2*dialWindow-200, limit)
	}
	bin, cleanup, err := buildPkg(serversPkg, o.serversBin)
	if err != nil {
		return err
	}
	defer cleanup()
	failed := 0
	for _, size := range sizes {
		msg := bytes.Repeat([]byte("e"), size)
		title := fmt.Sprintf("server-echo: %d connections to the server under test, %s text messages echoed, one in flight per connection, %v per run (load: wsloop on %d loops)",
			n, sizeName(size), o.duration, min(loadLoops, n))
		fmt.Fprintf(os.Stderr, "== %s\n", title)
		samples := make(map[string][]sEchoSample)
		errs := make(map[string][]error)
		others := startChildOthersMeter()
		for r := 1; r <= o.rounds; r++ {
			for _, lib := range names {
				runtime.GC()
				time.Sleep(o.pause)
				s, err := serverEchoRun(bin, lib, loopbackAddrs(o.addrs), n, msg, o.duration)
				if err != nil {
					errs[lib] = append(errs[lib], err)
					fmt.Fprintf(os.Stderr, "server-echo %s round %d/%d %-8s FAILED: %v\n", sizeName(size), r, o.rounds, lib, err)
					continue
				}
				samples[lib] = append(samples[lib], s)
				fmt.Fprintf(os.Stderr, "server-echo %s round %d/%d %-8s %s messages/s; server CPU %s/message (%.2f of a core), %.1f allocs/message; load CPU %s/message; p50 %s, p99 %s\n",
					sizeName(size), r, o.rounds, lib, fmtRate(s.rate()), fmtDur(s.serverCPUPerMsg()), s.serverCPU.Seconds()/s.elapsed.Seconds(), s.serverAllocsPerMsg(),
					fmtDur(s.cpuPerOp()), fmtDur(s.hist.percentile(50)), fmtDur(s.hist.percentile(99)))
			}
		}
		printServerEchoTable(title, names, samples, errs)
		printOthers(others.stop())
		failed += countErrs(errs)
	}
	if failed > 0 {
		return fmt.Errorf("%d runs failed", failed)
	}
	return nil
}

func printServerEchoTable(title string, names []string, samples map[string][]sEchoSample, errs map[string][]error) {
	fmt.Printf("## %s\n\n", title)
	head := []string{"server", "messages/s (median)", "vs wsloop", "min–max", "server CPU/message", "vs wsloop", "server CPU, share of a core", "server allocs/message", "load CPU/message", "p50 latency", "p99 latency", "runs"}
	printHead(head)
	med := medianBy[sEchoSample]
	rate := func(s sEchoSample) float64 { return s.rate() }
	cpu := func(s sEchoSample) float64 { return float64(s.serverCPUPerMsg()) }
	refRate, refCPU := med(samples["wsloop"], rate), med(samples["wsloop"], cpu)
	for _, lib := range names {
		ss := samples[lib]
		row, ok := newRow(len(head), lib, len(ss), len(errs[lib]))
		if !ok {
			continue
		}
		lo, hi := ss[0].rate(), ss[0].rate()
		for _, s := range ss {
			lo, hi = min(lo, s.rate()), max(hi, s.rate())
		}
		row[1] = fmtRate(med(ss, rate))
		row[2] = ratioCell(med(ss, rate), refRate)
		row[3] = fmtRate(lo) + "–" + fmtRate(hi)
		row[4] = fmtDur(time.Duration(med(ss, cpu)))
		row[5] = ratioCell(med(ss, cpu), refCPU)
		row[6] = fmt.Sprintf("%.2f", med(ss, func(s sEchoSample) float64 { return s.serverCPU.Seconds() / s.elapsed.Seconds() }))
		row[7] = fmt.Sprintf("%.1f", med(ss, sEchoSample.serverAllocsPerMsg))
		row[8] = fmtDur(time.Duration(med(ss, func(s sEchoSample) float64 { return float64(s.cpuPerOp()) })))
		row[9] = fmtDur(time.Duration(med(ss, func(s sEchoSample) float64 { return float64(s.hist.percentile(50)) })))
		row[10] = fmtDur(time.Duration(med(ss, func(s sEchoSample) float64 { return float64(s.hist.percentile(99)) })))
		printRow(row)
	}
	fmt.Println()
	fmt.Println("Medians over the runs. server CPU/message: the server process's user+system time (getrusage, reported by the server) over the timed phase, per message echoed; vs wsloop: against wsloop's (below 1.00× costs less). server CPU, share of a core: that time over the phase's wall time. server allocs/message: its heap allocations (runtime.MemStats.Mallocs) per message. load CPU/message: the load client's (this process's) CPU time per message, from the same two cores. p50/p99: of every round trip, from the send to the echo's arrival in the load's handler.")
	fmt.Println()
	printErrs(names, errs)
}
