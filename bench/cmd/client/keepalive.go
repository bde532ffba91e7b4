package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/wsloop/websocket"
)

// idle-keepalive: what keepalive costs on idle connections. N connections
// to /idle (which answers a ping with a pong and sends nothing else) are
// opened on one wsloop loop with Config.PingInterval set; once all are
// open, the process's CPU time is measured over a window, together with
// the pings sent and the pongs received in it. The same N connections
// without keepalive, over the same window, are the baseline: an idle
// loop, which should cost nothing. gorilla, when -libs names it, does what
// its chat example does: a reader goroutine per connection whose pong
// handler pushes the read deadline on, and a goroutine per connection with
// a time.Ticker that sends the pings.

// kaParams is one run's size.
type kaParams struct {
	n           int
	interval    time.Duration // PingInterval
	pongTimeout time.Duration // 0: interval
	window      time.Duration
}

func (p kaParams) timeout() time.Duration {
	if p.pongTimeout > 0 {
		return p.pongTimeout
	}
	return p.interval
}

// grace is how long the sockets stay open after the window, so that the
// pongs of the pings sent at its end come back and those pings are
// counted.
func (p kaParams) grace() time.Duration {
	return min(max(p.interval, 100*time.Millisecond), time.Second)
}

// kaSample is one run of idle-keepalive. The embedded sample holds the
// window's meter (elapsed, cpu, switches, mallocs; ops is the pings).
type kaSample struct {
	sample
	rtt     *rttHist // of the pongs that arrived in the window
	conns   int
	opening time.Duration // wall time to open them all
	// pings is the pings sent in the window that were answered (their
	// send time is the pong's arrival minus its RTT; the library keeps no
	// count, and an unanswered one would fail the run); pongs is the
	// pongs that arrived in the window.
	pings, pongs int64
	unmatched    int64 // pongs in the window with no RTT: answering no ping of ours
	noPong       int   // connections that got no pong in the window
	minPongs     int   // fewest pongs a connection got in the window
	// The window cut in kaSlice slices: in how many a ping was sent, and
	// the most pings sent in one.
	busySlices, slices, peakSlice int
	rssOpen, rssEnd               float64 // RSS growth per connection, all open / after the window
}

func (s kaSample) rttPercentile(p int) time.Duration {
	if s.rtt == nil {
		return 0
	}
	return s.rtt.percentile(p)
}

func (s kaSample) cpuPerConnSec() float64 {
	return float64(s.cpu) / float64(s.conns) / s.elapsed.Seconds()
}

// rttHist counts durations in buckets 1/32 of a power of two wide (3 %),
// from the nanosecond up: a fixed 16 KiB, so that recording a pong
// allocates nothing and the RSS read after the window holds no list of
// them.
type rttHist struct {
	counts [60 * 32]int64
	n      int64
}

func rttBucket(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 32 {
		return int(v)
	}
	e := bits.Len64(v) - 6 // v>>e is in [32, 64)
	return (e+1)*32 + int(v>>e) - 32
}

// rttValue is the middle of bucket i.
func rttValue(i int) time.Duration {
	if i < 32 {
		return time.Duration(i)
	}
	e := i/32 - 1
	low := uint64(i%32+32) << e
	return time.Duration(low + (uint64(1)<<e)/2)
}

func (h *rttHist) add(d time.Duration) {
	h.counts[rttBucket(d)]++
	h.n++
}

// percentile is the p-th percentile, as sample.percentile picks it: the
// value at index n*p/100 in sorted order.
func (h *rttHist) percentile(p int) time.Duration {
	if h.n == 0 {
		return 0
	}
	k := min(h.n*int64(p)/100, h.n-1)
	var cum int64
	for i, c := range h.counts {
		cum += c
		if cum > k {
			return rttValue(i)
		}
	}
	return 0
}

// kaSlice is the resolution at which the pings' spread over the window is
// told.
const kaSlice = 100 * time.Millisecond

// pongRecorder counts the pongs and the pings they answer, per window. It
// is called from the loop (wsloop) or from every reader goroutine
// (gorilla), so it takes a lock.
type pongRecorder struct {
	mu         sync.Mutex
	on         bool
	start, end time.Time // the window; end is zero while it lasts
	perConn    []int32   // pongs received in the window
	pongs      int64
	pings      int64
	unmatched  int64
	rtt        *rttHist
	slices     []int32 // pings sent, by kaSlice of the window
}

func newPongRecorder(p kaParams) *pongRecorder {
	return &pongRecorder{
		perConn: make([]int32, p.n),
		rtt:     new(rttHist),
		slices:  make([]int32, p.window/kaSlice+1),
	}
}

func (r *pongRecorder) begin(t time.Time) {
	r.mu.Lock()
	r.on, r.start = true, t
	r.mu.Unlock()
}

func (r *pongRecorder) finish(t time.Time) {
	r.mu.Lock()
	r.end = t
	r.mu.Unlock()
}

// pong records a pong that connection i got at now, answering a ping sent
// rtt before (0: none of ours).
func (r *pongRecorder) pong(i int, now time.Time, rtt time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	if r.end.IsZero() || now.Before(r.end) {
		r.pongs++
		r.perConn[i]++
		if rtt > 0 {
			r.rtt.add(rtt)
		} else {
			r.unmatched++
		}
	}
	if rtt <= 0 {
		return
	}
	sent := now.Add(-rtt)
	if !sent.Before(r.start) && (r.end.IsZero() || sent.Before(r.end)) {
		r.pings++
		if k := int(sent.Sub(r.start) / kaSlice); k < len(r.slices) {
			r.slices[k]++
		}
	}
}

func (r *pongRecorder) fill(s *kaSample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.pings, s.pongs, s.unmatched = r.pings, r.pongs, r.unmatched
	s.ops = r.pings
	s.rtt = r.rtt
	s.minPongs = -1
	for _, c := range r.perConn {
		if c == 0 {
			s.noPong++
		}
		if s.minPongs < 0 || int(c) < s.minPongs {
			s.minPongs = int(c)
		}
	}
	s.slices = min(len(r.slices), int((s.elapsed+kaSlice-1)/kaSlice))
	for _, c := range r.slices[:s.slices] {
		if c > 0 {
			s.busySlices++
		}
		s.peakSlice = max(s.peakSlice, int(c))
	}
}

// wsloopKeepalive opens p.n sockets on one loop, with keepalive when on,
// and measures the window once they are all open.
func wsloopKeepalive(urls []string, p kaParams, on bool) (kaSample, error) {
	base := takeIdleSnapshot()
	pool := newLoopPool(urls, p.n)
	if on {
		pool.config = &websocket.Config{PingInterval: p.interval, PongTimeout: p.pongTimeout}
	}
	rec := newPongRecorder(p)
	pool.onPong = func(i int, e websocket.PongEvent) { rec.pong(i, time.Now(), e.RTT) }
	var (
		res    = kaSample{conns: p.n}
		m      meter
		done   bool
		timers []*websocket.Timer
		t0     = time.Now()
	)
	// A failure closes every socket; the window's timers must not keep
	// the loop running after that.
	pool.onFail = func() {
		for _, t := range timers {
			t.Stop()
		}
	}
	// Memory is measured off the loop (a collection and FreeOSMemory take
	// a while with 19 000 sockets), so the loop goes on reading pongs in
	// the meantime and a short PongTimeout is not broken by the harness.
	measure := func(then func(rss int64, goroutines int)) {
		go func() {
			settle()
			rss, g := rssBytes(), runtime.NumGoroutine()-1 // not this one
			pool.loop.Post(func() {
				if pool.fail == nil {
					then(rss, g)
				}
			})
		}()
	}
	pool.onAllOpen = func() {
		res.opening = time.Since(t0)
		pool.arm("window", p.window+p.grace()+2*phaseTimeout)
		measure(func(rss int64, _ int) {
			res.rssOpen = float64(rss-base.rss) / float64(p.n)
			m = startMeter()
			rec.begin(m.t)
			timers = append(timers, pool.loop.SetTimeout(func() {
				res.sample = m.stop(0)
				rec.finish(m.t.Add(res.elapsed))
				measure(func(rss int64, g int) {
					res.rssEnd = float64(rss-base.rss) / float64(p.n)
					res.gorPerConn = float64(g-base.goroutines) / float64(p.n)
					timers = append(timers, pool.loop.SetTimeout(func() {
						done = true
						pool.closeAll()
					}, p.grace()))
				})
			}, p.window))
		})
	}
	pool.start(connectTimeout(p.n))
	if err := pool.loop.Run(); err != nil {
		return res, err
	}
	if pool.fail == nil && !done {
		pool.fail = errors.New("ended before the window did")
	}
	rec.fill(&res)
	return res, pool.fail
}

// kaEpoch is the origin of the gorilla pings' timestamps.
var kaEpoch = time.Now()

// gorillaKeepalive opens p.n gorilla connections, each with a reader
// goroutine and a ticker goroutine that pings every p.interval, as
// gorilla's chat example does, and measures the window once they are all
// open. The pong handler pushes the read deadline on by interval +
// PongTimeout, so a server that stops answering is found as wsloop finds
// it.
func gorillaKeepalive(urls []string, p kaParams) (kaSample, error) {
	base := takeIdleSnapshot()
	n := p.n
	pongWait := p.interval + p.timeout()
	rec := newPongRecorder(p)
	var (
		res      = kaSample{conns: n}
		conns    = make([]*gorilla.Conn, n)
		next     atomic.Int64
		workers  sync.WaitGroup
		pumps    sync.WaitGroup // readers and tickers
		failMu   sync.Mutex
		fail     error
		failed   = make(chan struct{})
		closing  atomic.Bool
		stopPing = make(chan struct{})
	)
	setFail := func(err error) {
		failMu.Lock()
		defer failMu.Unlock()
		if fail == nil {
			fail = err
			close(failed)
		}
	}
	isFailed := func() bool {
		select {
		case <-failed:
			return true
		default:
			return false
		}
	}
	reader := func(i int, c *gorilla.Conn) {
		defer pumps.Done()
		c.SetReadDeadline(time.Now().Add(pongWait))
		c.SetPongHandler(func(data string) error {
			now := time.Now()
			c.SetReadDeadline(now.Add(pongWait))
			var rtt time.Duration
			if len(data) == 8 {
				rtt = time.Since(kaEpoch) - time.Duration(binary.BigEndian.Uint64([]byte(data)))
			}
			rec.pong(i, now, rtt)
			return nil
		})
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				if !closing.Load() {
					setFail(fmt.Errorf("conn %d: %w", i, err))
				}
				c.Close()
				return
			}
		}
	}
	ticker := func(i int, c *gorilla.Conn) {
		defer pumps.Done()
		t := time.NewTicker(p.interval)
		defer t.Stop()
		var payload [8]byte
		for {
			select {
			case <-stopPing:
				return
			case <-t.C:
				binary.BigEndian.PutUint64(payload[:], uint64(time.Since(kaEpoch)))
				if err := c.WriteControl(gorilla.PingMessage, payload[:], time.Now().Add(p.timeout())); err != nil {
					if !closing.Load() {
						setFail(fmt.Errorf("conn %d: ping: %w", i, err))
					}
					return
				}
			}
		}
	}

	t0 := time.Now()
	for range min(dialWindow, n) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for !isFailed() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
				c, _, err := gorilla.DefaultDialer.DialContext(ctx, urls[i%len(urls)], nil)
				cancel()
				if err != nil {
					setFail(fmt.Errorf("conn %d: %w", i, err))
					return
				}
				conns[i] = c
				pumps.Add(2)
				go reader(i, c)
				go ticker(i, c)
			}
		}()
	}
	if !waitGroup(&workers, connectTimeout(n)) {
		setFail(timeoutErr("connect", connectTimeout(n)))
		workers.Wait()
	}
	res.opening = time.Since(t0)
	complete := false
	if !isFailed() {
		settle()
		res.rssOpen = float64(rssBytes()-base.rss) / float64(n)
		m := startMeter()
		rec.begin(m.t)
		select {
		case <-time.After(p.window):
			res.sample = m.stop(0)
			rec.finish(m.t.Add(res.elapsed))
			settle()
			res.rssEnd = float64(rssBytes()-base.rss) / float64(n)
			res.gorPerConn = float64(runtime.NumGoroutine()-base.goroutines) / float64(n)
			select {
			case <-time.After(p.grace()):
				complete = true
			case <-failed:
			}
		case <-failed:
		}
	}

	// Close: the tickers stop, then a close frame on each, sent by
	// dialWindow goroutines; the readers end as the answers come.
	closing.Store(true)
	close(stopPing)
	var idx atomic.Int64
	var closers sync.WaitGroup
	for range min(dialWindow, n) {
		closers.Add(1)
		go func() {
			defer closers.Done()
			for {
				i := int(idx.Add(1) - 1)
				if i >= n {
					return
				}
				if c := conns[i]; c != nil {
					err := c.WriteControl(gorilla.CloseMessage,
						gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
					if err != nil {
						c.Close()
					}
				}
			}
		}()
	}
	closers.Wait()
	if !waitGroup(&pumps, phaseTimeout) {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		pumps.Wait()
	}
	rec.fill(&res)
	failMu.Lock()
	defer failMu.Unlock()
	if fail == nil && !complete {
		fail = errors.New("ended before the window did")
	}
	return res, fail
}

// kaVariant is one way of holding the idle connections.
type kaVariant struct {
	name string
	run  func(urls []string, p kaParams) (kaSample, error)
	ping bool // sends keepalive pings
}

var (
	kaWsloop = kaVariant{name: "wsloop", ping: true, run: func(urls []string, p kaParams) (kaSample, error) {
		return wsloopKeepalive(urls, p, true)
	}}
	kaWsloopOff = kaVariant{name: "wsloop, no keepalive", run: func(urls []string, p kaParams) (kaSample, error) {
		return wsloopKeepalive(urls, p, false)
	}}
	kaGorilla = kaVariant{name: "gorilla, ticker goroutines", ping: true, run: gorillaKeepalive}
)

// kaVariantsFor picks the variants -libs asks for: wsloop runs with its
// baseline (no keepalive), gorilla with its ticker goroutines; the other
// libraries have no keepalive to compare.
func kaVariantsFor(libs []library) ([]kaVariant, []string) {
	var out []kaVariant
	var skipped []string
	for _, l := range libs {
		switch l.name {
		case "wsloop":
			out = append(out, kaWsloop, kaWsloopOff)
		case "gorilla":
			out = append(out, kaGorilla)
		default:
			skipped = append(skipped, l.name)
		}
	}
	return out, skipped
}

func kaParamsFrom(o options, n int) (kaParams, error) {
	p := kaParams{n: n, interval: o.kaInterval, pongTimeout: o.kaPongTimeout, window: o.kaWindow}
	if p.window == 0 {
		p.window = 2 * p.interval
	}
	switch {
	case p.interval < time.Millisecond:
		return p, fmt.Errorf("-ka-interval must be at least 1ms")
	case p.pongTimeout != 0 && p.pongTimeout < time.Millisecond:
		return p, fmt.Errorf("-ka-pong-timeout must be 0 (the interval) or at least 1ms")
	case p.window < 10*time.Millisecond:
		return p, fmt.Errorf("-ka-window must be at least 10ms")
	}
	return p, nil
}

func runIdleKeepalive(o options, libs []library, bin string, limit uint64) error {
	variants, skipped := kaVariantsFor(libs)
	if len(skipped) > 0 {
		fmt.Fprintf(os.Stderr, "idle-keepalive: %s skipped (only wsloop and gorilla run it)\n", strings.Join(skipped, ", "))
	}
	if len(variants) == 0 {
		return errors.New("no library in -libs runs idle-keepalive: name wsloop or gorilla")
	}
	n, err := idleConns(o, limit)
	if err != nil {
		return err
	}
	p, err := kaParamsFrom(o, n)
	if err != nil {
		return err
	}
	srv, err := startServer(bin, loopbackAddrs(o.addrs))
	if err != nil {
		return err
	}
	defer srv.stop()
	urls := make([]string, len(srv.urls))
	for i, u := range srv.urls {
		urls[i] = u + "/idle"
	}
	title := fmt.Sprintf("idle-keepalive: %d idle connections in one process over %d server addresses, PingInterval %v (PongTimeout %v), measured for %v once all are open (wsloop: one loop; gorilla: a reader and a ticker goroutine per connection)",
		n, len(urls), p.interval, p.timeout(), p.window)
	fmt.Fprintf(os.Stderr, "== %s\n", title)

	samples := make(map[string][]kaSample)
	errs := make(map[string][]error)
	others := startOthersMeter(srv.cmd.Process.Pid)
	for r := 1; r <= o.rounds; r++ {
		for _, v := range variants {
			runtime.GC()
			time.Sleep(5 * o.pause)
			s, err := v.run(urls, p)
			if err != nil {
				errs[v.name] = append(errs[v.name], err)
				fmt.Fprintf(os.Stderr, "idle-keepalive round %d/%d %s FAILED: %v\n", r, o.rounds, v.name, err)
				continue
			}
			samples[v.name] = append(samples[v.name], s)
			fmt.Fprintf(os.Stderr, "idle-keepalive round %d/%d %s: opened in %v; window %v: CPU %v = %.0f ns/socket/s (%.2f%% of a core), %d pings, %d pongs (fewest on a socket %d, %d unmatched), %s/ping, %.0f switches/s, %.2f allocs/ping, RTT p50 %s p99 %s, pings in %d of %d %v slices (peak %d); RSS %.2f KiB/conn open, %.2f after; %.2f goroutines/conn\n",
				r, o.rounds, v.name, s.opening.Round(time.Millisecond), s.elapsed.Round(time.Millisecond), s.cpu.Round(time.Microsecond),
				s.cpuPerConnSec(), 100*float64(s.cpu)/float64(s.elapsed), s.pings, s.pongs, s.minPongs, s.unmatched,
				fmtDur(s.cpuPerOp()), float64(s.switches)/s.elapsed.Seconds(), s.allocsPerOp(),
				fmtDur(s.rttPercentile(50)), fmtDur(s.rttPercentile(99)), s.busySlices, s.slices, kaSlice, s.peakSlice,
				s.rssOpen/1024, s.rssEnd/1024, s.gorPerConn)
		}
	}
	printKaTable(title, variants, samples, errs)
	printOthers(others.stop())
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed", countErrs(errs))
	}
	return nil
}

func kaMedian(ss []kaSample, f func(kaSample) float64) float64 {
	xs := make([]float64, len(ss))
	for i, s := range ss {
		xs[i] = f(s)
	}
	return median(xs)
}

func printKaTable(title string, variants []kaVariant, samples map[string][]kaSample, errs map[string][]error) {
	fmt.Printf("## %s\n\n", title)
	head := []string{"variant", "CPU/socket/s", "CPU, share of a core", "CPU/ping", "CPU/ping above idle", "pings", "pongs", "sockets without a pong", "RTT p50", "RTT p99", "switches/s", "allocs/ping", "100 ms slices with a ping", "peak pings/100 ms", "RSS/conn open", "RSS/conn after", "goroutines/conn", "runs"}
	printHead(head)

	// The baseline: an idle loop's CPU per second.
	idleRate, haveIdle := 0.0, len(samples[kaWsloopOff.name]) > 0
	if haveIdle {
		idleRate = kaMedian(samples[kaWsloopOff.name], func(s kaSample) float64 { return float64(s.cpu) / s.elapsed.Seconds() })
	}
	for _, v := range variants {
		ss := samples[v.name]
		runs := fmt.Sprintf("%d", len(ss))
		if k := len(errs[v.name]); k > 0 {
			runs += fmt.Sprintf(" (%d failed)", k)
		}
		row := make([]string, len(head))
		row[0] = v.name
		row[len(row)-1] = runs
		if len(ss) == 0 {
			row[1] = "failed"
			fmt.Println("| " + strings.Join(row, " | ") + " |")
			continue
		}
		med := func(f func(kaSample) float64) float64 { return kaMedian(ss, f) }
		dur := func(f func(kaSample) float64) string { return fmtDur(time.Duration(med(f))) }
		row[1] = fmt.Sprintf("%.1f ns", med(kaSample.cpuPerConnSec))
		row[2] = fmt.Sprintf("%.3f%%", med(func(s kaSample) float64 { return 100 * float64(s.cpu) / float64(s.elapsed) }))
		row[5] = fmtRate(med(func(s kaSample) float64 { return float64(s.pings) }))
		row[6] = fmtRate(med(func(s kaSample) float64 { return float64(s.pongs) }))
		row[7] = fmt.Sprintf("%.0f", med(func(s kaSample) float64 { return float64(s.noPong) }))
		row[10] = fmt.Sprintf("%.1f", med(func(s kaSample) float64 { return float64(s.switches) / s.elapsed.Seconds() }))
		row[14] = fmt.Sprintf("%.2f KiB", med(func(s kaSample) float64 { return s.rssOpen })/1024)
		row[15] = fmt.Sprintf("%.2f KiB", med(func(s kaSample) float64 { return s.rssEnd })/1024)
		row[16] = fmt.Sprintf("%.2f", med(func(s kaSample) float64 { return s.gorPerConn }))
		for _, i := range []int{3, 4, 8, 9, 11, 12, 13} {
			row[i] = "–"
		}
		if v.ping {
			row[3] = dur(func(s kaSample) float64 { return float64(s.cpuPerOp()) })
			if haveIdle {
				row[4] = dur(func(s kaSample) float64 {
					if s.pings == 0 {
						return 0
					}
					return (float64(s.cpu) - idleRate*s.elapsed.Seconds()) / float64(s.pings)
				})
			}
			row[8] = dur(func(s kaSample) float64 { return float64(s.rttPercentile(50)) })
			row[9] = dur(func(s kaSample) float64 { return float64(s.rttPercentile(99)) })
			row[11] = fmt.Sprintf("%.2f", med(kaSample.allocsPerOp))
			row[12] = fmt.Sprintf("%.0f%%", med(func(s kaSample) float64 { return 100 * float64(s.busySlices) / float64(max(s.slices, 1)) }))
			row[13] = fmtRate(med(func(s kaSample) float64 { return float64(s.peakSlice) }))
		}
		fmt.Println("| " + strings.Join(row, " | ") + " |")
	}
	fmt.Println()
	for _, v := range variants {
		for _, e := range errs[v.name] {
			fmt.Printf("- %s failed: %v\n", v.name, e)
		}
	}
	if len(errs) > 0 {
		fmt.Println()
	}
}
