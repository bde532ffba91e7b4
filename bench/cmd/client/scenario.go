package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wsloop/websocket/bench/internal/payload"
)

// scenarioSpec says how to run one scenario and how to read its samples.
type scenarioSpec struct {
	title string // printed above the table
	unit  string // of the throughput column
	op    string // what one operation is, for the per-op columns
	rate  func(sample) float64
	run   func(l library) (sample, error)
	fan   bool // latency columns
	idle  bool // memory and goroutine columns
	// stats: the runs ask the server for its byte counts (stats=1), and
	// the table shows them with the extension negotiated (-compress).
	stats bool
}

// idleConns is how many connections the idle scenario opens in one
// process, checked against the fd limit and the ephemeral ports.
func idleConns(o options, limit uint64) (int, error) {
	// Each connection is one fd in the client, and briefly two for wsloop
	// while its dialed socket is handed to the poller; the server holds
	// one per connection too, under the same limit.
	margin := 2*dialWindow + 200
	n := o.idleConns
	if n == 0 {
		n = min(19000, int(limit)-margin)
	}
	if n < 1 || uint64(n+margin) > limit {
		return 0, fmt.Errorf("fd limit too low: %d idle connections need %d descriptors in this process and in the server, the limit is %d (ulimit -Hn): lower -idle-conns or raise the limit", max(n, 1), n+margin, limit)
	}
	if per := (n + o.addrs - 1) / o.addrs; per > ephemeralPorts()-1000 {
		return 0, fmt.Errorf("%d connections over %d server addresses is %d per address, more than the %d ephemeral ports allow: raise -addrs", n, o.addrs, per, ephemeralPorts())
	}
	return n, nil
}

// specFor is the scenario's spec; with text (-compress), bulk and recv
// move compressible text and count the bytes on the wire.
func specFor(o options, name string, urls []string, limit uint64, text bool) (scenarioSpec, error) {
	first := urls[0]
	with := func(path string) []string {
		out := make([]string, len(urls))
		for i, u := range urls {
			out[i] = u + path
		}
		return out
	}
	switch name {
	case "rt":
		msg := bytes.Repeat([]byte("x"), o.rtSize)
		return scenarioSpec{
			title: fmt.Sprintf("rt: one connection, %d-byte text messages echoed one at a time, %v per run", o.rtSize, o.duration),
			unit:  "round trips/s", op: "round trip",
			rate: func(s sample) float64 { return s.rate() },
			run: func(l library) (sample, error) {
				return l.echo(first+"/echo", msg, false, o.duration)
			},
		}, nil
	case "burst":
		if o.burstCount < 1 {
			return scenarioSpec{}, fmt.Errorf("-burst-n must be at least 1")
		}
		msg := bytes.Repeat([]byte("z"), o.burstSize)
		return scenarioSpec{
			title: fmt.Sprintf("burst: one connection, bursts of %d × %d-byte text messages sent in one go (wsloop: in one handler), all echoes awaited before the next burst, %v per run", o.burstCount, o.burstSize, o.duration),
			unit:  "messages/s", op: "message",
			rate: func(s sample) float64 { return s.rate() },
			run: func(l library) (sample, error) {
				return l.burst(first+"/echo", msg, o.burstCount, o.duration)
			},
		}, nil
	case "bulk":
		if text {
			msg := payload.Text(o.bulkSize, 0)
			return scenarioSpec{
				title: fmt.Sprintf("bulk: one connection, %s binary messages of compressible text (JSON lines) echoed one at a time, %v per run", sizeName(o.bulkSize), o.duration),
				unit:  "MB/s echoed", op: "message", stats: true,
				rate: func(s sample) float64 { return float64(s.bytes) / s.elapsed.Seconds() / 1e6 },
				run: func(l library) (sample, error) {
					return l.echo(withStats(first+"/echo"), msg, true, o.duration)
				},
			}, nil
		}
		msg := bytes.Repeat([]byte{0xa5}, o.bulkSize)
		return scenarioSpec{
			title: fmt.Sprintf("bulk: one connection, %s binary messages echoed one at a time, %v per run", sizeName(o.bulkSize), o.duration),
			unit:  "MB/s echoed", op: "message",
			rate: func(s sample) float64 { return float64(s.bytes) / s.elapsed.Seconds() / 1e6 },
			run: func(l library) (sample, error) {
				return l.echo(first+"/echo", msg, true, o.duration)
			},
		}, nil
	case "recv":
		if text {
			return scenarioSpec{
				title: fmt.Sprintf("recv: one connection, the server pushes %s binary messages of compressible text (JSON lines, a round of distinct ones of at least 64 KiB in turn) as fast as they are taken, %v per run", sizeName(o.pushSize), o.duration),
				unit:  "messages/s", op: "message", stats: true,
				rate: func(s sample) float64 { return s.rate() },
				run: func(l library) (sample, error) {
					return l.recv(fmt.Sprintf("%s/push?size=%d&text=1&stats=1", first, o.pushSize), o.duration)
				},
			}, nil
		}
		return scenarioSpec{
			title: fmt.Sprintf("recv: one connection, the server pushes %s binary messages as fast as they are taken, %v per run", sizeName(o.pushSize), o.duration),
			unit:  "messages/s", op: "message",
			rate: func(s sample) float64 { return s.rate() },
			run: func(l library) (sample, error) {
				return l.recv(fmt.Sprintf("%s/push?size=%d", first, o.pushSize), o.duration)
			},
		}, nil
	case "fan":
		// Every library makes one round trip on each connection before
		// the clock starts, the warm-up: the server's first message on a
		// connection costs it several times a later one (its fresh
		// buffers and goroutine stack), so 1000 first messages take it
		// 30 to 90 ms whoever sends them, and the run's p99 measured
		// that (docs/PERFORMANCE.md, "Fan-out's start").
		if uint64(o.fanConns+2*dialWindow+200) > limit {
			return scenarioSpec{}, fmt.Errorf("fd limit too low: %d connections need about %d descriptors, the limit is %d", o.fanConns, o.fanConns+2*dialWindow+200, limit)
		}
		msg := bytes.Repeat([]byte("y"), o.fanSize)
		return scenarioSpec{
			title: fmt.Sprintf("fan: %d connections × %d sequential round trips of %d-byte text each, all connections at once (wsloop: %d loops; others: a goroutine per connection)", o.fanConns, o.fanRounds, o.fanSize, fanLoops),
			unit:  "messages/s", op: "round trip", fan: true,
			rate: func(s sample) float64 { return s.rate() },
			run: func(l library) (sample, error) {
				return l.fan(with("/echo"), o.fanConns, o.fanRounds, msg)
			},
		}, nil
	case "idle":
		n, err := idleConns(o, limit)
		if err != nil {
			return scenarioSpec{}, err
		}
		return scenarioSpec{
			title: fmt.Sprintf("idle: %d connections held by one process over %d server addresses, %d handshakes in flight (wsloop: one loop; others: a reader goroutine per connection)", n, len(urls), dialWindow),
			unit:  "handshakes/s", op: "handshake", idle: true,
			rate: func(s sample) float64 { return s.rate() },
			run: func(l library) (sample, error) {
				return l.idle(with("/idle"), n)
			},
		}, nil
	}
	return scenarioSpec{}, fmt.Errorf("unknown scenario %q", name)
}

func runScenario(o options, name string, libs []library, bin string, limit uint64) error {
	if !contains(deflateScenarios, name) {
		var skipped []string
		var plain []library
		for _, l := range libs {
			if l.deflate {
				skipped = append(skipped, l.name)
				continue
			}
			plain = append(plain, l)
		}
		if len(skipped) > 0 {
			fmt.Fprintf(os.Stderr, "%s: %s skipped (the -deflate libraries run %s only)\n", name, strings.Join(skipped, ", "), strings.Join(deflateScenarios, " and "))
		}
		if len(plain) == 0 {
			return fmt.Errorf("no library in -libs runs %s", name)
		}
		libs = plain
	}
	srv, err := startServer(bin, loopbackAddrs(o.addrs))
	if err != nil {
		return err
	}
	defer srv.stop()
	spec, err := specFor(o, name, srv.urls, limit, o.text(libs))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "== %s\n", spec.title)

	pause := o.pause
	if spec.idle {
		pause *= 5
	}
	samples := make(map[string][]sample)
	errs := make(map[string][]error)
	others := startOthersMeter(srv.cmd.Process.Pid)
	for r := 1; r <= o.rounds; r++ {
		for _, l := range libs {
			runtime.GC()
			time.Sleep(pause)
			srv.drainStats()
			s, err := spec.run(l)
			if err == nil && spec.stats {
				if s.wire, err = srv.nextStats(2 * time.Second); err != nil {
					fmt.Fprintf(os.Stderr, "%s round %d/%d %-8s: %v\n", name, r, o.rounds, l.name, err)
					err = nil
				}
			}
			if err != nil {
				errs[l.name] = append(errs[l.name], err)
				fmt.Fprintf(os.Stderr, "%s round %d/%d %-8s FAILED: %v\n", name, r, o.rounds, l.name, err)
				continue
			}
			samples[l.name] = append(samples[l.name], s)
			fmt.Fprintf(os.Stderr, "%s round %d/%d %-8s %s %s, CPU %s/%s, %.2f switches/%s, %s IPIs/%s, %.1f allocs/%s%s\n",
				name, r, o.rounds, l.name, fmtRate(spec.rate(s)), spec.unit,
				fmtDur(s.cpuPerOp()), spec.op, s.switchesPerOp(), spec.op, fmtPerOp(s.ipisPerOp()), spec.op, s.allocsPerOp(), spec.op, extra(spec, s))
		}
	}
	printTable(spec, libs, samples, errs)
	printOthers(others.stop())
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed", countErrs(errs))
	}
	return nil
}

func extra(spec scenarioSpec, s sample) string {
	var w string
	if writeCounter != nil {
		w = fmt.Sprintf(", %s writes/%s", fmtPerOp(s.writesPerOp()), spec.op)
	}
	switch {
	case spec.stats && s.wire != nil:
		return w + fmt.Sprintf(", extension %q, wire/payload up %.3f down %.3f", s.ext, s.wire.up(), s.wire.down())
	case spec.stats:
		return w + fmt.Sprintf(", extension %q", s.ext)
	case spec.fan:
		return w + fmt.Sprintf(", p50 %s, p99 %s", fmtDur(s.percentile(50)), fmtDur(s.percentile(99)))
	case spec.idle:
		return w + fmt.Sprintf(", RSS %.1f KiB/conn, %.2f goroutines/conn", s.rssPerConn/1024, s.gorPerConn)
	}
	return w
}

func countErrs(m map[string][]error) int {
	n := 0
	for _, e := range m {
		n += len(e)
	}
	return n
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianOf(ss []sample, f func(sample) float64) float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return median(xs)
}

func printTable(spec scenarioSpec, libs []library, samples map[string][]sample, errs map[string][]error) {
	fmt.Printf("## %s\n\n", spec.title)
	head := []string{"library", spec.unit + " (median)", "vs wsloop", "min–max", "CPU/" + spec.op, "switches/" + spec.op, "IPIs/" + spec.op, "allocs/" + spec.op}
	if writeCounter != nil {
		head = append(head, "writes/"+spec.op)
	}
	if spec.fan {
		head = append(head, "p50 latency", "p99 latency")
	}
	if spec.idle {
		head = append(head, "RSS/conn", "goroutines/conn")
	}
	if spec.stats {
		head = append(head, "extension negotiated", "wire/payload, client→server", "wire/payload, server→client")
	}
	head = append(head, "runs")
	fmt.Println("| " + strings.Join(head, " | ") + " |")
	seps := make([]string, len(head))
	for i := range seps {
		seps[i] = "---"
		if i > 0 {
			seps[i] = "---:"
		}
	}
	fmt.Println("|" + strings.Join(seps, "|") + "|")

	ref := medianOf(samples["wsloop"], spec.rate)
	zref := medianOf(samples[wsloopDeflateLib.name], spec.rate)
	for _, l := range libs {
		ss := samples[l.name]
		runs := fmt.Sprintf("%d", len(ss))
		if n := len(errs[l.name]); n > 0 {
			runs += fmt.Sprintf(" (%d failed)", n)
		}
		if len(ss) == 0 {
			row := []string{l.name, "failed", "", "", "", "", "", ""}
			if writeCounter != nil {
				row = append(row, "")
			}
			if spec.fan {
				row = append(row, "", "")
			}
			if spec.idle {
				row = append(row, "", "")
			}
			if spec.stats {
				row = append(row, "", "", "")
			}
			row = append(row, runs)
			fmt.Println("| " + strings.Join(row, " | ") + " |")
			continue
		}
		rates := make([]float64, len(ss))
		for i, s := range ss {
			rates[i] = spec.rate(s)
		}
		med := median(rates)
		ratio := "–"
		switch {
		case l.deflate && zref > 0:
			ratio = fmt.Sprintf("%.2f×", med/zref)
		case ref > 0:
			ratio = fmt.Sprintf("%.2f×", med/ref)
		}
		row := []string{
			l.name,
			fmtRate(med),
			ratio,
			fmtRate(slices.Min(rates)) + "–" + fmtRate(slices.Max(rates)),
			fmtDur(time.Duration(medianOf(ss, func(s sample) float64 { return float64(s.cpuPerOp()) }))),
			fmt.Sprintf("%.2f", medianOf(ss, sample.switchesPerOp)),
			fmtPerOp(medianOf(ss, sample.ipisPerOp)),
			fmt.Sprintf("%.1f", medianOf(ss, sample.allocsPerOp)),
		}
		if writeCounter != nil {
			row = append(row, fmtPerOp(medianOf(ss, sample.writesPerOp)))
		}
		if spec.fan {
			row = append(row,
				fmtDur(time.Duration(medianOf(ss, func(s sample) float64 { return float64(s.percentile(50)) }))),
				fmtDur(time.Duration(medianOf(ss, func(s sample) float64 { return float64(s.percentile(99)) }))))
		}
		if spec.idle {
			row = append(row,
				fmt.Sprintf("%.1f KiB", medianOf(ss, func(s sample) float64 { return s.rssPerConn })/1024),
				fmt.Sprintf("%.2f", medianOf(ss, func(s sample) float64 { return s.gorPerConn })))
		}
		if spec.stats {
			row = append(row, extOf(ss), wireRatio(ss, (*wireStats).up), wireRatio(ss, (*wireStats).down))
		}
		row = append(row, runs)
		fmt.Println("| " + strings.Join(row, " | ") + " |")
	}
	fmt.Println()
	if spec.stats {
		fmt.Println("vs wsloop: the -deflate rows against wsloop-deflate, the others against wsloop. Extension: the server's Sec-WebSocket-Extensions as the library reports it (– for none). wire/payload: the server's count of the bytes on the wire after the handshake (frame headers included) over the payload bytes of the data messages, inflated; client→server is what the client sent, server→client what the server sent (in recv, messages still on their way when the client closed included); medians over the runs.")
		fmt.Println()
	}
	for _, l := range libs {
		for _, e := range errs[l.name] {
			fmt.Printf("- %s failed: %v\n", l.name, e)
		}
	}
	if len(errs) > 0 {
		fmt.Println()
	}
}

// fmtPerOp prints a count per operation, with more digits below 0.1, or a
// dash when it was not counted.
func fmtPerOp(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if x < 0.1 {
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func fmtRate(x float64) string {
	switch {
	case x >= 1000:
		return group(fmt.Sprintf("%.0f", x))
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	default:
		return fmt.Sprintf("%.1f", x)
	}
}

// group puts thin separators between thousands: 1234567 → 1 234 567.
func group(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// extOf is the extension the runs negotiated: the one string they all
// agree on, or the distinct ones joined.
func extOf(ss []sample) string {
	var seen []string
	for _, s := range ss {
		e := s.ext
		if e == "" {
			e = "–"
		}
		if !contains(seen, e) {
			seen = append(seen, e)
		}
	}
	return strings.Join(seen, " / ")
}

// wireRatio is the median of f over the runs the server counted, "–"
// when none moved payload that way.
func wireRatio(ss []sample, f func(*wireStats) float64) string {
	var xs []float64
	for _, s := range ss {
		if s.wire != nil {
			if x := f(s.wire); x > 0 {
				xs = append(xs, x)
			}
		}
	}
	if len(xs) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", median(xs))
}
