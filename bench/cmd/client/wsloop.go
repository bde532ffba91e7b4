package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/wsloop/websocket"
)

// The wsloop client is written as a user of the event-loop API would write
// it: one EventLoop, OnOpen/OnMessage handlers, SendText/Send, state shared
// by the handlers kept in plain variables (they all run on the loop's
// goroutine). Every run gets a fresh loop, which takes the default poller.
// Each handler gives its message back with MessageEvent.Release once done
// with it, as the gws client does with Message.Close; wsloop-keep does not.

// The wsloop variants. wsloop-ka has keepalive armed on every socket
// (PingInterval 30 s, so no ping is due within a run: what it measures is
// the timers' bookkeeping on every read): the library with its features
// on, as a long-running program runs it. wsloop-keep's handlers keep their
// messages (do not call Release), leaving every buffer to the garbage
// collector, as a program that stores what it receives would.
// wsloop-portable runs with WSLOOP_POLLER=portable set while each run
// creates its loop: the goroutine-based poller, to compare with the
// default one in the same alternation. All but wsloop run only when -libs
// names them.
var (
	wsloopLib         = wsloopVariant("wsloop", true, websocket.Config{}, nil)
	wsloopKALib       = wsloopVariant("wsloop-ka", true, websocket.Config{PingInterval: 30 * time.Second}, nil)
	wsloopKeepLib     = wsloopVariant("wsloop-keep", false, websocket.Config{}, nil)
	wsloopPortableLib = wsloopVariant("wsloop-portable", true, websocket.Config{}, portable)
)

// wsloopVariant is the wsloop client named name: release says whether its
// handlers give their messages back, cfg is each socket's Config but for
// its Loop, and setup, when not nil, runs before each run and returns what
// undoes it.
func wsloopVariant(name string, release bool, cfg websocket.Config, setup func() func()) library {
	around := func() func() {
		if setup == nil {
			return func() {}
		}
		return setup()
	}
	return library{
		name: name,
		echo: func(url string, msg []byte, binary bool, d time.Duration) (sample, error) {
			defer around()()
			return wsloopEcho(url, msg, binary, d, release, cfg)
		},
		recv: func(url string, d time.Duration) (sample, error) {
			defer around()()
			return wsloopRecv(url, d, release, cfg)
		},
		fan: func(urls []string, n, rounds int, msg []byte) (sample, error) {
			defer around()()
			return wsloopFan(urls, n, rounds, msg, release, cfg)
		},
		idle: func(urls []string, n int) (sample, error) {
			defer around()()
			return wsloopIdle(urls, n, nil, cfg)
		},
		burst: func(url string, msg []byte, k int, d time.Duration) (sample, error) {
			defer around()()
			return wsloopBurst(url, msg, k, d, release, cfg)
		},
	}
}

// portable sets WSLOOP_POLLER=portable and returns what restores it.
func portable() func() {
	old, had := os.LookupEnv("WSLOOP_POLLER")
	os.Setenv("WSLOOP_POLLER", "portable")
	return func() {
		if had {
			os.Setenv("WSLOOP_POLLER", old)
		} else {
			os.Unsetenv("WSLOOP_POLLER")
		}
	}
}

// wsloopEcho sends msg, waits for its echo and sends the next, for d;
// cfg is the socket's Config but for its Loop.
func wsloopEcho(url string, msg []byte, binary bool, d time.Duration, release bool, cfg websocket.Config) (sample, error) {
	return wsloopRounds(url, msg, binary, 1, d, release, "echo", cfg)
}

// wsloopBurst sends k text messages from one handler, waits for their k
// echoes and sends the next k from the handler of the last, for d.
func wsloopBurst(url string, msg []byte, k int, d time.Duration, release bool, cfg websocket.Config) (sample, error) {
	return wsloopRounds(url, msg, false, k, d, release, "burst", cfg)
}

// wsloopRounds sends k copies of msg from one handler, waits for their k
// echoes and sends the next k from the handler of the last, for d; what
// names the scenario in a timeout. cfg is the socket's Config but for its
// Loop.
func wsloopRounds(url string, msg []byte, binary bool, k int, d time.Duration, release bool, what string, cfg websocket.Config) (sample, error) {
	loop := websocket.NewEventLoop()
	cfg.Loop = loop
	ws, err := websocket.NewWithConfig(url, &cfg)
	if err != nil {
		return sample{}, err
	}
	text := string(msg)
	var (
		m    meter
		res  sample
		n    int64
		end  time.Time
		fail error
	)
	round := func() {
		for range k {
			var err error
			if binary {
				err = ws.Send(msg)
			} else {
				err = ws.SendText(text)
			}
			if err != nil {
				fail = err
				ws.Close()
				return
			}
		}
	}
	limit := d + phaseTimeout
	guard := loop.SetTimeout(func() {
		fail = timeoutErr(what, limit)
		closeOrStop(loop, ws)
	}, limit)
	ws.OnOpen = func(websocket.OpenEvent) {
		res.ext = ws.Extensions()
		m = startMeter()
		end = time.Now().Add(d)
		round()
	}
	ws.OnMessage = func(e websocket.MessageEvent) {
		n++
		size := len(e.Data)
		if release {
			e.Release()
		}
		if size != len(msg) {
			fail = fmt.Errorf("echo of %d bytes, want %d", size, len(msg))
			ws.Close()
			return
		}
		if n%int64(k) != 0 {
			return
		}
		if time.Now().Before(end) {
			round()
			return
		}
		res = m.stop(n).withExt(res.ext)
		ws.Close()
	}
	ws.OnError = func(e websocket.ErrorEvent) { fail = keepFirst(fail, e.Err) }
	ws.OnClose = func(websocket.CloseEvent) { guard.Stop() }

	if err := loop.Run(); err != nil {
		return res, err
	}
	if fail == nil && res.ops == 0 {
		fail = errors.New("closed before the run ended")
	}
	res.bytes = res.ops * int64(len(msg))
	return res, fail
}

// wsloopRecv counts the messages the server pushes, for d; cfg is the
// socket's Config but for its Loop.
func wsloopRecv(url string, d time.Duration, release bool, cfg websocket.Config) (sample, error) {
	loop := websocket.NewEventLoop()
	cfg.Loop = loop
	ws, err := websocket.NewWithConfig(url, &cfg)
	if err != nil {
		return sample{}, err
	}
	var (
		m     meter
		res   sample
		n     int64
		bytes int64
		end   time.Time
		fail  error
		done  bool
	)
	limit := d + phaseTimeout
	guard := loop.SetTimeout(func() {
		fail = timeoutErr("recv", limit)
		closeOrStop(loop, ws)
	}, limit)
	ws.OnOpen = func(websocket.OpenEvent) {
		res.ext = ws.Extensions()
		m = startMeter()
		end = time.Now().Add(d)
	}
	ws.OnMessage = func(e websocket.MessageEvent) {
		if done {
			return
		}
		n++
		bytes += int64(len(e.Data))
		if release {
			e.Release()
		}
		if n&63 == 0 && !time.Now().Before(end) {
			done = true
			res = m.stop(n).withExt(res.ext)
			res.bytes = bytes
			ws.Close() // messages still arriving are dropped
		}
	}
	ws.OnError = func(e websocket.ErrorEvent) { fail = keepFirst(fail, e.Err) }
	ws.OnClose = func(websocket.CloseEvent) { guard.Stop() }

	if err := loop.Run(); err != nil {
		return res, err
	}
	if fail == nil && res.ops == 0 {
		fail = errors.New("closed before the run ended")
	}
	return res, fail
}

// loopPool opens n sockets on one loop, at most dialWindow connecting at
// a time (each OnOpen starts the next dial), and closes them all on the
// first failure.
type loopPool struct {
	loop    *websocket.EventLoop
	urls    []string
	n       int
	socks   []*websocket.WebSocket
	next    int // sockets created
	opened  int
	closed  int
	fail    error
	closing bool // closeAll was called
	guard   *websocket.Timer

	onAllOpen func()
	onMessage func(i int, e websocket.MessageEvent)
	onPong    func(i int, e websocket.PongEvent)
	onFail    func() // called once, on the first failure
	// config, when set, is copied for each socket (with Loop set):
	// idle-keepalive sets PingInterval there.
	config *websocket.Config
}

func newLoopPool(urls []string, n int) *loopPool {
	return &loopPool{
		loop:  websocket.NewEventLoop(),
		urls:  urls,
		n:     n,
		socks: make([]*websocket.WebSocket, n),
	}
}

func (p *loopPool) start(limit time.Duration) {
	p.arm("connect", limit)
	for p.next < min(dialWindow, p.n) && p.fail == nil {
		p.dial()
	}
}

// arm (re)starts the guard of the current phase. When it fires, the run
// fails with a time-out and every socket is closed; when the close phase
// itself times out, the loop is stopped with whatever is left.
func (p *loopPool) arm(phase string, limit time.Duration) {
	if p.guard != nil {
		p.guard.Stop()
	}
	p.guard = p.loop.SetTimeout(func() {
		err := timeoutErr(phase, limit)
		if p.closing {
			// The close itself is stuck: give up on the sockets.
			p.fail = keepFirst(p.fail, err)
			p.loop.Stop()
			return
		}
		p.failWith(err)
	}, limit)
}

// closeOrStop closes ws after a time-out; if the close does not end
// within phaseTimeout either, the loop is stopped with the socket left.
func closeOrStop(loop *websocket.EventLoop, ws *websocket.WebSocket) {
	stop := loop.SetTimeout(loop.Stop, phaseTimeout)
	prev := ws.OnClose
	ws.OnClose = func(e websocket.CloseEvent) {
		stop.Stop()
		if prev != nil {
			prev(e)
		}
	}
	ws.Close()
}

func (p *loopPool) dial() {
	i := p.next
	p.next++
	cfg := websocket.Config{}
	if p.config != nil {
		cfg = *p.config
	}
	cfg.Loop = p.loop
	ws, err := websocket.NewWithConfig(p.urls[i%len(p.urls)], &cfg)
	if err != nil {
		p.next--
		p.failWith(err)
		return
	}
	p.socks[i] = ws
	ws.OnOpen = func(websocket.OpenEvent) {
		p.opened++
		if p.fail != nil {
			ws.Close()
			return
		}
		if p.next < p.n {
			p.dial()
		}
		if p.opened == p.n {
			p.onAllOpen()
		}
	}
	if p.onMessage != nil {
		ws.OnMessage = func(e websocket.MessageEvent) { p.onMessage(i, e) }
	}
	if p.onPong != nil {
		ws.OnPong = func(e websocket.PongEvent) { p.onPong(i, e) }
	}
	ws.OnError = func(e websocket.ErrorEvent) {
		p.failWith(fmt.Errorf("socket %d: %w", i, e.Err))
	}
	ws.OnClose = func(c websocket.CloseEvent) {
		p.closed++
		if !p.closing {
			p.failWith(fmt.Errorf("socket %d closed by the server: code %d", i, c.Code))
		}
		p.maybeGone()
	}
}

func (p *loopPool) failWith(err error) {
	if p.fail == nil {
		p.fail = err
		if p.onFail != nil {
			p.onFail()
		}
		p.closeAll()
	}
}

// closeAll starts the closing handshake on every socket; Run returns once
// they are all closed.
func (p *loopPool) closeAll() {
	p.closing = true
	p.arm("close", phaseTimeout)
	for _, ws := range p.socks[:p.next] {
		ws.Close()
	}
	p.maybeGone()
}

func (p *loopPool) maybeGone() {
	if p.closed == p.next && (p.fail != nil || p.opened == p.n) {
		p.guard.Stop()
	}
}

// fanLoops is how many event loops the wsloop fan scenario spreads its
// connections over: one per P by default, as a program that outgrows one
// core is meant to run (examples/multicore); the peers' goroutines use
// every core too.
var fanLoops = runtime.GOMAXPROCS(0)

// wsloopFan spreads n sockets over fanLoops loops, each on its own
// goroutine, and once every socket of every loop is open and warmed up
// runs rounds sequential round trips on each, all sockets at once.
func wsloopFan(urls []string, n, rounds int, msg []byte, release bool, cfg websocket.Config) (sample, error) {
	k := max(1, min(fanLoops, n))
	var (
		open    sync.WaitGroup // every loop has all its sockets open and warmed up
		running sync.WaitGroup
		once    sync.Once
		m       meter
		mu      sync.Mutex
		lat     []time.Duration
		fail    error
	)
	open.Add(k)
	// The first loop past the barrier starts the clocks.
	start := func() {
		open.Wait()
		once.Do(func() { m = startMeter() })
	}
	for i := range k {
		share := n / k
		if i < n%k {
			share++
		}
		running.Add(1)
		go func() {
			defer running.Done()
			l, err := fanOnLoop(urls, i, share, rounds, msg, release, cfg, &open, start)
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, l...)
			fail = keepFirst(fail, err)
		}()
	}
	running.Wait()
	res := m.stop(int64(len(lat)))
	res.lat = lat
	res.bytes = res.ops * int64(len(msg))
	if fail == nil && len(lat) != n*rounds {
		fail = fmt.Errorf("%d of %d round trips done", len(lat), n*rounds)
	}
	return res, fail
}

// fanOnLoop is one loop's part of wsloopFan: it opens n sockets (the
// first one to the URL after the previous loop's), makes the warm-up
// round trip on each (why: scenario.go), reports them ready, blocks its
// loop in start until every loop is ready (a harness detail: a program
// would not block its loop), and returns the round trips' latencies.
func fanOnLoop(urls []string, first, n, rounds int, msg []byte, release bool, cfg websocket.Config, open *sync.WaitGroup, start func()) ([]time.Duration, error) {
	p := newLoopPool(append(urls[first%len(urls):], urls[:first%len(urls)]...), n)
	p.config = &cfg
	text := string(msg)
	sent := make([]time.Time, n)
	done := make([]int, n)
	lat := make([]time.Duration, 0, n*rounds)
	warmed, finished := 0, 0
	reported := false
	// sendAll sends on every socket; stamp notes the time of each send
	// for its round trip.
	sendAll := func(stamp bool) {
		for i, ws := range p.socks {
			if stamp {
				sent[i] = time.Now()
			}
			if err := ws.SendText(text); err != nil {
				p.failWith(err)
				return
			}
		}
	}
	p.onAllOpen = func() {
		p.arm("warm-up", phaseTimeout+time.Duration(n)*time.Millisecond)
		sendAll(false)
	}
	p.onMessage = func(i int, e websocket.MessageEvent) {
		// No socket sends its first round before every warm-up echo of
		// the loop is in, so until then every message is one.
		if warmed < n {
			if size := len(e.Data); size != len(msg) {
				p.failWith(fmt.Errorf("warm-up echo of %d bytes, want %d", size, len(msg)))
			}
			if release {
				e.Release()
			}
			if warmed++; warmed == n && p.fail == nil {
				open.Done()
				reported = true
				start()
				p.arm("round trips", phaseTimeout+time.Duration(n*rounds)*time.Millisecond)
				sendAll(true)
			}
			return
		}
		lat = append(lat, time.Since(sent[i]))
		if release {
			e.Release()
		}
		done[i]++
		if done[i] < rounds {
			sent[i] = time.Now()
			if err := p.socks[i].SendText(text); err != nil {
				p.failWith(err)
			}
			return
		}
		finished++
		if finished == n {
			p.closeAll()
		}
	}
	p.start(connectTimeout(n))
	err := p.loop.Run()
	if !reported {
		// Failed before all its sockets opened: the others must not wait
		// for this loop.
		open.Done()
	}
	if err != nil {
		return lat, err
	}
	if p.fail == nil && finished != n {
		p.fail = errors.New("ended before every round trip was done")
	}
	return lat, p.fail
}

// wsloopIdle opens n sockets on one loop and measures what holding them
// costs. hold, when set, is called with the sample once they are all open
// and returns a channel that is closed when they should be closed (the
// idle-100k worker waits for its driver there).
func wsloopIdle(urls []string, n int, hold func(sample) <-chan struct{}, cfg websocket.Config) (sample, error) {
	base := takeIdleSnapshot()
	p := newLoopPool(urls, n)
	p.config = &cfg
	var res sample
	m := startMeter()
	p.onAllOpen = func() {
		res = m.stop(int64(n))
		p.guard.Stop()
		base.finish(&res, n)
		if hold == nil {
			p.closeAll()
			return
		}
		release := hold(res)
		go func() {
			<-release
			p.loop.Post(p.closeAll)
		}()
	}
	p.start(connectTimeout(n))
	if err := p.loop.Run(); err != nil {
		return res, err
	}
	if p.fail == nil && res.ops == 0 {
		p.fail = errors.New("ended before every socket opened")
	}
	return res, p.fail
}

// keepFirst keeps the first error.
func keepFirst(first, next error) error {
	if first != nil {
		return first
	}
	return next
}
