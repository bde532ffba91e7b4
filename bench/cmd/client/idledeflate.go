package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	coder "github.com/coder/websocket"
	"github.com/lxzan/gws"

	"github.com/wsloop/websocket"
	"github.com/wsloop/websocket/bench/internal/payload"
)

// idle-deflate: what an idle socket costs once permessage-deflate has
// been used on it. N connections (10 000 unless -idle-conns says) to the
// server's /deflate/idle, which negotiates the extension when offered and
// echoes each data message compressed (plain without the extension). Once
// all are open, each sends one compressible text message of
// -idle-msg-size bytes (1 KiB) and waits for its echo: one compressed
// message each way. The process's RSS is read (after a collection) before
// the first dial, with all open, and once every echo is in; the sockets
// are then held idle and closed. Each library runs with compression off
// (the baseline) and on, in whatever modes it has.

// zIdleSample is one run of idle-deflate. The embedded sample is the
// message phase (ops: the round trips, one per socket).
type zIdleSample struct {
	sample
	conns     int
	opening   time.Duration
	rssOpen   float64 // RSS growth per connection, all open
	rssAfter  float64 // and after the message each way
	heapOpen  float64 // the same of the Go heap's live bytes
	heapAfter float64
	gorAfter  float64 // goroutines per connection then
	handshake float64 // handshakes/s while opening
}

// zIdleVariant is one library in one mode.
type zIdleVariant struct {
	name string
	lib  string // the -libs name that selects it
	run  func(urls []string, n int, msg []byte) (zIdleSample, error)
}

var zIdleVariants = []zIdleVariant{
	{"wsloop, no compression", "wsloop", wsloopZIdle(websocket.Config{NoCompression: true})},
	{"wsloop, deflate, server context takeover (the default offer)", "wsloop", wsloopZIdle(websocket.Config{})},
	{"wsloop, deflate (the default offer), keepalive every 30 s: features on", "wsloop", wsloopZIdle(websocket.Config{PingInterval: 30 * time.Second})},
	{"wsloop, deflate, server_no_context_takeover", "wsloop", wsloopZIdle(websocket.Config{Compression: &websocket.Compression{ServerNoContextTakeover: true}})},
	{"wsloop, deflate, server context takeover, server_max_window_bits=9", "wsloop", wsloopZIdle(websocket.Config{Compression: &websocket.Compression{ServerMaxWindowBits: 9}})},
	{"gorilla, no compression", "gorilla", blockingZIdle(dialGorilla)},
	{"gorilla, deflate (no context takeover, its only mode)", "gorilla", blockingZIdle(dialGorillaDeflate)},
	{"coder, no compression", "coder", blockingZIdle(dialCoder)},
	{"coder, deflate, no context takeover", "coder", blockingZIdle(dialCoderDeflateNCT)},
	{"gobwas, no compression", "gobwas", blockingZIdle(dialGobwas)},
	{"gobwas, wsflate (no context takeover)", "gobwas", blockingZIdle(dialGobwasDeflate)},
	{"gws, no compression", "gws", gwsZIdle(gwsOption)},
	{"gws, deflate, no context takeover", "gws", gwsZIdle(func(u string) *gws.ClientOption { return gwsDeflateOption(u, false) })},
	{"gws, deflate, context takeover both ways", "gws", gwsZIdle(func(u string) *gws.ClientOption { return gwsDeflateOption(u, true) })},
}

// dialCoderDeflateNCT is coder with CompressionNoContextTakeover (its
// CompressionContextTakeover keeps a 1.2 MB flate.Writer per connection,
// 12 GB at 10 000).
func dialCoderDeflateNCT(ctx context.Context, url string) (bconn, error) {
	c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: coder.CompressionNoContextTakeover})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(64 << 20)
	return coderZConn{&coderConn{c: c}, resp.Header.Get("Sec-WebSocket-Extensions")}, nil
}

func zIdleVariantsFor(libs []library) ([]zIdleVariant, []string) {
	var out []zIdleVariant
	var skipped []string
	for _, l := range libs {
		found := false
		for _, v := range zIdleVariants {
			if v.lib == l.name {
				out = append(out, v)
				found = true
			}
		}
		if !found {
			skipped = append(skipped, l.name)
		}
	}
	return out, skipped
}

// wsloopZIdle opens n sockets with cfg on one loop; once all are open,
// each sends msg and the run ends when every echo is in.
func wsloopZIdle(cfg websocket.Config) func(urls []string, n int, msg []byte) (zIdleSample, error) {
	return func(urls []string, n int, msg []byte) (zIdleSample, error) {
		base := takeIdleSnapshot()
		p := newLoopPool(urls, n)
		p.config = &cfg
		text := string(msg)
		res := zIdleSample{conns: n}
		var (
			m     meter
			got   int
			done  bool
			t0    = time.Now()
			start meter
		)
		start = startMeter()
		p.onAllOpen = func() {
			res.opening = time.Since(t0)
			res.handshake = start.stop(int64(n)).rate()
			settle()
			res.rssOpen = float64(rssBytes()-base.rss) / float64(n)
			res.heapOpen = float64(heapAlloc()-base.heap) / float64(n)
			res.ext = p.socks[0].Extensions()
			p.arm("messages", phaseTimeout)
			m = startMeter()
			for _, ws := range p.socks {
				if err := ws.SendText(text); err != nil {
					p.failWith(err)
					return
				}
			}
		}
		p.onMessage = func(i int, e websocket.MessageEvent) {
			if !p.takeEcho(i, e, len(msg)) {
				return
			}
			got++
			if got < n {
				return
			}
			res.sample = m.stop(int64(n)).withExt(res.ext)
			base.finish(&res.sample, n)
			res.rssAfter, res.gorAfter = res.rssPerConn, res.gorPerConn
			res.heapAfter = float64(heapAlloc()-base.heap) / float64(n)
			done = true
			p.closeAll()
		}
		p.start(connectTimeout(n))
		if err := p.loop.Run(); err != nil {
			return res, err
		}
		if p.fail == nil && !done {
			p.fail = errors.New("ended before every echo was in")
		}
		return res, p.fail
	}
}

// blockingZIdle opens n connections with dial, each with its reader
// goroutine; once all are open, dialWindow goroutines send msg on each,
// and the run ends when every reader has its echo.
func blockingZIdle(dial dialFunc) func(urls []string, n int, msg []byte) (zIdleSample, error) {
	b := blib{dial: dial}
	return func(urls []string, n int, msg []byte) (zIdleSample, error) {
		base := takeIdleSnapshot()
		res := zIdleSample{conns: n}
		var (
			conns   = make([]bconn, n)
			next    atomic.Int64
			workers sync.WaitGroup
			readers sync.WaitGroup
			echoes  sync.WaitGroup
			failMu  sync.Mutex
			fail    error
			failed  atomic.Bool
			closing atomic.Bool
		)
		setFail := func(err error) {
			failMu.Lock()
			fail = keepFirst(fail, err)
			failMu.Unlock()
			failed.Store(true)
		}
		echoes.Add(n)
		t0 := time.Now()
		start := startMeter()
		for range min(dialWindow, n) {
			workers.Add(1)
			go func() {
				defer workers.Done()
				for !failed.Load() {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					c, err := b.dialTimeout(urls[i%len(urls)])
					if err != nil {
						setFail(fmt.Errorf("conn %d: %w", i, err))
						return
					}
					conns[i] = c
					readers.Add(1)
					go func() {
						defer readers.Done()
						first := true
						for {
							size, err := c.Recv()
							if err != nil {
								if !closing.Load() {
									setFail(fmt.Errorf("conn %d: %w", i, err))
								}
								if first {
									echoes.Done()
								}
								c.Kill()
								return
							}
							if first {
								first = false
								if size != len(msg) {
									setFail(fmt.Errorf("conn %d: echo of %d bytes, want %d", i, size, len(msg)))
								}
								echoes.Done()
							}
						}
					}()
				}
			}()
		}
		connected := waitGroup(&workers, connectTimeout(n))
		res.opening = time.Since(t0)
		res.handshake = start.stop(int64(n)).rate()
		if !connected {
			setFail(timeoutErr("connect", connectTimeout(n)))
			workers.Wait()
		}
		complete := false
		if !failed.Load() {
			settle()
			res.rssOpen = float64(rssBytes()-base.rss) / float64(n)
			res.heapOpen = float64(heapAlloc()-base.heap) / float64(n)
			res.ext = extensionsOf(conns[0])
			m := startMeter()
			var idx atomic.Int64
			var senders sync.WaitGroup
			for range min(dialWindow, n) {
				senders.Add(1)
				go func() {
					defer senders.Done()
					for {
						i := int(idx.Add(1) - 1)
						if i >= n {
							return
						}
						if err := conns[i].Send(false, msg); err != nil {
							setFail(fmt.Errorf("conn %d: %w", i, err))
						}
					}
				}()
			}
			senders.Wait()
			if !waitGroup(&echoes, phaseTimeout) {
				setFail(timeoutErr("messages", phaseTimeout))
			}
			res.sample = m.stop(int64(n)).withExt(res.ext)
			if !failed.Load() {
				base.finish(&res.sample, n)
				res.rssAfter, res.gorAfter = res.rssPerConn, res.gorPerConn
				res.heapAfter = float64(heapAlloc()-base.heap) / float64(n)
				complete = true
			}
		}

		closing.Store(true)
		closeAll(conns, &readers)
		failMu.Lock()
		defer failMu.Unlock()
		if fail == nil && !complete {
			fail = errors.New("ended before every echo was in")
		}
		return res, fail
	}
}

// gwsZIdleConn is one connection's handler: it counts the first echo.
type gwsZIdleConn struct {
	gws.BuiltinEventHandler
	closing *atomic.Bool
	fail    func(error)
	echoes  *sync.WaitGroup
	want    int
	i       int
	got     bool
	closed  chan struct{}
}

func (h *gwsZIdleConn) OnMessage(c *gws.Conn, msg *gws.Message) {
	size := msg.Data.Len()
	msg.Close()
	if h.got {
		return
	}
	h.got = true
	if size != h.want {
		h.fail(fmt.Errorf("conn %d: echo of %d bytes, want %d", h.i, size, h.want))
	}
	h.echoes.Done()
}

func (h *gwsZIdleConn) OnClose(c *gws.Conn, err error) {
	if !h.closing.Load() {
		h.fail(fmt.Errorf("conn %d closed: %v", h.i, err))
	}
	if !h.got {
		h.got = true
		h.echoes.Done()
	}
	close(h.closed)
}

func gwsZIdle(opt func(string) *gws.ClientOption) func(urls []string, n int, msg []byte) (zIdleSample, error) {
	return func(urls []string, n int, msg []byte) (zIdleSample, error) {
		base := takeIdleSnapshot()
		res := zIdleSample{conns: n}
		var (
			closing atomic.Bool
			failMu  sync.Mutex
			fail    error
			echoes  sync.WaitGroup
		)
		setFail := func(err error) {
			failMu.Lock()
			fail = keepFirst(fail, err)
			failMu.Unlock()
		}
		echoes.Add(n)
		hs := make([]*gwsZIdleConn, n)
		t0 := time.Now()
		start := startMeter()
		conns, err := gwsDialAll(urls, n, func(i int) gws.Event {
			hs[i] = &gwsZIdleConn{closing: &closing, fail: setFail, echoes: &echoes, want: len(msg), i: i, closed: make(chan struct{})}
			return hs[i]
		}, opt, &res.ext)
		res.opening = time.Since(t0)
		res.handshake = start.stop(int64(n)).rate()
		complete := false
		if err != nil {
			setFail(err)
		} else {
			settle()
			res.rssOpen = float64(rssBytes()-base.rss) / float64(n)
			res.heapOpen = float64(heapAlloc()-base.heap) / float64(n)
			m := startMeter()
			var idx atomic.Int64
			var senders sync.WaitGroup
			for range min(dialWindow, n) {
				senders.Add(1)
				go func() {
					defer senders.Done()
					for {
						i := int(idx.Add(1) - 1)
						if i >= n {
							return
						}
						if err := conns[i].WriteMessage(gws.OpcodeText, msg); err != nil {
							setFail(fmt.Errorf("conn %d: %w", i, err))
						}
					}
				}()
			}
			senders.Wait()
			if !waitGroup(&echoes, phaseTimeout) {
				setFail(timeoutErr("messages", phaseTimeout))
			}
			res.sample = m.stop(int64(n)).withExt(res.ext)
			failMu.Lock()
			ok := fail == nil
			failMu.Unlock()
			if ok {
				base.finish(&res.sample, n)
				res.rssAfter, res.gorAfter = res.rssPerConn, res.gorPerConn
				res.heapAfter = float64(heapAlloc()-base.heap) / float64(n)
				complete = true
			}
		}
		closing.Store(true)
		gwsCloseAll(conns, func(i int) chan struct{} { return hs[i].closed })
		failMu.Lock()
		defer failMu.Unlock()
		if fail == nil && !complete {
			fail = errors.New("ended before every echo was in")
		}
		return res, fail
	}
}

func runIdleDeflate(o options, libs []library, bin string, limit uint64) error {
	variants, skipped := zIdleVariantsFor(libs)
	if len(skipped) > 0 {
		fmt.Fprintf(os.Stderr, "idle-deflate: %s skipped (it runs wsloop, gorilla, coder, gobwas and gws)\n", strings.Join(skipped, ", "))
	}
	if len(variants) == 0 {
		return errors.New("no library in -libs runs idle-deflate")
	}
	n, msg, err := idleMessage(o, limit)
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
		urls[i] = u + "/deflate/idle"
	}
	title := fmt.Sprintf("idle-deflate: %d connections in one process over %d server addresses, each sends one %s compressible text message (JSON lines) and gets it back, then all are held idle (wsloop: one loop; others: a reader goroutine per connection)",
		n, len(urls), sizeName(o.idleMsgSize))
	fmt.Fprintf(os.Stderr, "== %s\n", title)

	samples := make(map[string][]zIdleSample)
	errs := make(map[string][]error)
	others := startOthersMeter(srv.cmd.Process.Pid)
	for r := 1; r <= o.rounds; r++ {
		for _, v := range variants {
			runtime.GC()
			time.Sleep(5 * o.pause)
			s, err := v.run(urls, n, msg)
			if err != nil {
				errs[v.name] = append(errs[v.name], err)
				fmt.Fprintf(os.Stderr, "idle-deflate round %d/%d %s FAILED: %v\n", r, o.rounds, v.name, err)
				continue
			}
			samples[v.name] = append(samples[v.name], s)
			fmt.Fprintf(os.Stderr, "idle-deflate round %d/%d %s: extension %q; opened in %v (%s handshakes/s); RSS %.2f KiB/conn open, %.2f after a message each way; live heap %.2f and %.2f KiB/conn; %.2f goroutines/conn; the messages: %v, CPU %s and %.1f allocs a round trip\n",
				r, o.rounds, v.name, s.ext, s.opening.Round(time.Millisecond), fmtRate(s.handshake), s.rssOpen/1024, s.rssAfter/1024, s.heapOpen/1024, s.heapAfter/1024, s.gorAfter,
				s.elapsed.Round(time.Millisecond), fmtDur(s.cpuPerOp()), s.allocsPerOp())
		}
	}
	printZIdleTable(title, variants, samples, errs)
	printOthers(others.stop())
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed", countErrs(errs))
	}
	return nil
}

// idleMessage is the connections of idle-deflate and server-idle (10 000
// unless -idle-conns says) and the compressible text each sends once.
func idleMessage(o options, limit uint64) (int, []byte, error) {
	if o.idleConns == 0 {
		o.idleConns = 10000
	}
	n, err := idleConns(o, limit)
	if err != nil {
		return 0, nil, err
	}
	if o.idleMsgSize < 1 {
		return 0, nil, fmt.Errorf("-idle-msg-size must be at least 1")
	}
	return n, payload.Text(o.idleMsgSize, 7), nil
}

func printZIdleTable(title string, variants []zIdleVariant, samples map[string][]zIdleSample, errs map[string][]error) {
	fmt.Printf("## %s\n\n", title)
	head := []string{"variant", "extension negotiated", "RSS/conn open", "RSS/conn after one message each way", "growth", "live heap/conn open", "live heap/conn after", "goroutines/conn", "CPU/round trip", "allocs/round trip", "handshakes/s", "runs"}
	fmt.Println("| " + strings.Join(head, " | ") + " |")
	seps := make([]string, len(head))
	for i := range seps {
		seps[i] = "---:"
	}
	seps[0], seps[1] = "---", "---"
	fmt.Println("|" + strings.Join(seps, "|") + "|")
	for _, v := range variants {
		ss := samples[v.name]
		runs := fmt.Sprintf("%d", len(ss))
		if k := len(errs[v.name]); k > 0 {
			runs += fmt.Sprintf(" (%d failed)", k)
		}
		row := make([]string, len(head))
		row[0], row[len(row)-1] = v.name, runs
		if len(ss) == 0 {
			row[1] = "failed"
			fmt.Println("| " + strings.Join(row, " | ") + " |")
			continue
		}
		med := func(f func(zIdleSample) float64) float64 {
			xs := make([]float64, len(ss))
			for i, s := range ss {
				xs[i] = f(s)
			}
			return median(xs)
		}
		plain := make([]sample, len(ss))
		for i, s := range ss {
			plain[i] = s.sample
		}
		row[1] = extOf(plain)
		row[2] = fmt.Sprintf("%.2f KiB", med(func(s zIdleSample) float64 { return s.rssOpen })/1024)
		row[3] = fmt.Sprintf("%.2f KiB", med(func(s zIdleSample) float64 { return s.rssAfter })/1024)
		row[4] = fmt.Sprintf("%+.2f KiB", med(func(s zIdleSample) float64 { return s.rssAfter - s.rssOpen })/1024)
		row[5] = fmt.Sprintf("%.2f KiB", med(func(s zIdleSample) float64 { return s.heapOpen })/1024)
		row[6] = fmt.Sprintf("%.2f KiB", med(func(s zIdleSample) float64 { return s.heapAfter })/1024)
		row[7] = fmt.Sprintf("%.2f", med(func(s zIdleSample) float64 { return s.gorAfter }))
		row[8] = fmtDur(time.Duration(med(func(s zIdleSample) float64 { return float64(s.cpuPerOp()) })))
		row[9] = fmt.Sprintf("%.1f", med(func(s zIdleSample) float64 { return s.allocsPerOp() }))
		row[10] = fmtRate(med(func(s zIdleSample) float64 { return s.handshake }))
		fmt.Println("| " + strings.Join(row, " | ") + " |")
	}
	fmt.Println()
	fmt.Println("RSS/conn: VmRSS growth per connection from before the first dial, after runtime.GC and debug.FreeOSMemory; open: every connection open; after: every echo in. growth: after − open, the median of the runs' differences. live heap/conn: the same of runtime.MemStats.HeapAlloc, read then: it counts what Go allocated, RSS only the pages touched (a 32 KiB window holding 1 KiB is 32 KiB of heap and one or two pages of RSS). CPU and allocations: the message phase (all sends and echoes), per round trip. Extension: the server's Sec-WebSocket-Extensions as the library reports it (– for none).")
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
