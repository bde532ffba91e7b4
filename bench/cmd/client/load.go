package main

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/wsloop/websocket"
)

// The load of the server-side scenarios: wsloop client sockets spread
// over one event loop per P (-load-loops), each loop on a goroutine of its
// own, as a program that outgrows one core runs them (examples/multicore).
// It is the cheapest client the bench has (fan: the least CPU per round
// trip), which leaves the most of the two cores to the server under test;
// its own CPU time is reported beside the server's, to show how much of
// the machine it took. The driver's goroutine steers it with Post.

// loadLoops is how many loops the load spreads its sockets over.
var loadLoops = runtime.GOMAXPROCS(0)

// loadClient is one run's sockets. Each loopPool, and whatever state a
// scenario keeps per pool, is touched only on its loop.
type loadClient struct {
	pools   []*loopPool
	signal  chan struct{} // a pool reached the phase's goal (open, echoed)
	ended   chan error    // a pool's Run returned, with its failure
	running int           // pools whose end the driver has not seen
	fail    error
}

// startLoad dials n sockets (without compression: no server under test
// is asked for it) spread over loadLoops loops; setup, called with each
// pool before its loop runs, sets its handlers, which call reached when
// the pool has done its part of a phase (await's signal).
func startLoad(urls []string, n int, setup func(j int, p *loopPool, reached func())) *loadClient {
	k := max(1, min(loadLoops, n))
	l := &loadClient{signal: make(chan struct{}, k), ended: make(chan error, k), running: k}
	for j := range k {
		share := n / k
		if j < n%k {
			share++
		}
		// Each pool starts at another address, so that all are used.
		p := newLoopPool(append(urls[j%len(urls):], urls[:j%len(urls)]...), share)
		p.config = &websocket.Config{NoCompression: true}
		p.onAllOpen = func() {
			p.guard.Stop() // held open until the driver says
			l.signal <- struct{}{}
		}
		setup(j, p, func() { l.signal <- struct{}{} })
		l.pools = append(l.pools, p)
		go func() {
			p.start(connectTimeout(share))
			err := p.loop.Run()
			l.ended <- keepFirst(err, p.fail)
		}()
	}
	return l
}

// takeEcho gives e's buffer back and reports whether it is the echo of a
// message of want bytes; if not, the pool fails.
func (p *loopPool) takeEcho(i int, e websocket.MessageEvent, want int) bool {
	size := len(e.Data)
	e.Release()
	if size != want {
		p.failWith(fmt.Errorf("socket %d: echo of %d bytes, want %d", i, size, want))
		return false
	}
	return true
}

// await waits for a signal from every pool, within d; a pool that ends
// meanwhile fails the run with its error.
func (l *loadClient) await(phase string, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	for range l.pools {
		select {
		case <-l.signal:
		case err := <-l.ended:
			l.running--
			if err == nil {
				err = errors.New(phase + ": a loop ended early")
			}
			l.fail = keepFirst(l.fail, err)
			return l.fail
		case <-t.C:
			l.fail = keepFirst(l.fail, timeoutErr(phase, d))
			return l.fail
		}
	}
	return nil
}

// each runs fn with every pool on its loop.
func (l *loadClient) each(fn func(j int, p *loopPool)) {
	for j, p := range l.pools {
		p.loop.Post(func() { fn(j, p) })
	}
}

// close starts the closing handshake on every socket and waits for the
// loops to end; it returns the run's first failure.
func (l *loadClient) close() error {
	l.each(func(_ int, p *loopPool) { p.closeAll() })
	t := time.NewTimer(2 * phaseTimeout) // each pool's own guard comes first
	defer t.Stop()
	for l.running > 0 {
		select {
		case err := <-l.ended:
			l.running--
			l.fail = keepFirst(l.fail, err)
		case <-t.C:
			l.fail = keepFirst(l.fail, timeoutErr("close", 2*phaseTimeout))
			for _, p := range l.pools {
				p.loop.Stop()
			}
			t.Reset(time.Hour) // Stop makes every Run return
		}
	}
	return l.fail
}
