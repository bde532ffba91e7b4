//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

import (
	"runtime"
	"time"
)

// A loop that serves many busy sockets polls too often. With a thousand
// echoes in flight, one is due every few microseconds, so each poll finds
// one or two sockets ready, and each turn pays for its poll, its reads
// and its sends (which wake the peer's thread, through the hypervisor on
// this VM) for those one or two. A short nap before the poll lets the
// echoes of more sockets come in, so one poll, one batch of reads and one
// batch of sends (batch_linux.go) serve them all. Network cards moderate
// their interrupts for the same reason.
//
// A nap yields first: the loop's P to the goroutines waiting for it
// (runtime.Gosched), then the core to the threads waiting for it
// (sched_yield). If any ran (the goroutines of a blocking API's calls
// that the last turn readied, the peer on the same core, another loop),
// the nap ends when they are done, and the loop's sockets gathered
// meanwhile: sleeping on would leave the core idle, or keep those
// goroutines waiting. Only when both yields come back at once
// (napYielded: nobody else wanted either) does the loop sleep napFor.
// The kernel adds its timer slack (50 µs by default) to the sleep: on
// the project's VM a 20 µs nap lasts 75–90 µs.
//
// A napping loop is not parked, so what would wake it (a task posted, a
// send made from another goroutine, Stop) waits for the nap's end, as a
// ready socket does: 75–90 µs here at most.
//
// A nap is taken only when it can gather. Many sockets were served in the
// last millisecond (napHot), so the echoes of others are on their way.
// The last poll found few ready (napBelow). And the loop has nothing else
// to do: its Wait may block. A loop with a few busy sockets never naps,
// however fast they are, so a round trip on one socket pays nothing.
//
// The bench's fan (1000 sockets × 100 round trips, wsloop alone, two runs
// each; docs/PERFORMANCE.md, "Naps"):
//   - server on the other core: 83 k round trips/s at 11.2 µs of client
//     CPU each, before; 85.5 k at 6.2 µs with naps;
//   - one core: 46.7 k at 8.7 µs before; 53–55 k at 5.6 µs with naps;
//     without the yield, 44 k at 8.1 µs;
//   - shared cores: 92–93 k at 7.5–8.1 µs before; 101–104 k at 6.0 µs with naps;
//   - the blocking API's fan (1000 goroutines), server on the other core:
//     75.0–75.5 k at 12.8–13.0 µs, p99 16.3–16.7 ms before; sleeping
//     without the Gosched, 74.4–76.2 k at 9.5–9.6 µs but p99 23.5–24.1 ms;
//     with it, 77.5–79.2 k at 11.7–11.8 µs, p99 16.4–17.5 ms.
const (
	// napFor is how long a nap sleeps when nobody took the P or the core.
	napFor = 20 * time.Microsecond
	// napYielded bounds the two yields when nobody wanted the P or the
	// core: about the one system call, 1.4 µs here. Longer, they ran
	// somebody else.
	napYielded = 5 * time.Microsecond
	// napHot is how many distinct sockets one hotEpoch must serve for the
	// next Waits to nap: 32 000 sockets' worth of events a second.
	napHot = 32
	// napBelow: a Wait whose poll found this many ready sockets or more
	// has its batch; the next one does not nap.
	napBelow = 8
	// hotEpoch is the span over which sockets served are counted.
	hotEpoch = time.Millisecond
)

// napDue reports whether a Wait that may block for timeout (negative:
// until an event) should nap before it polls.
func (e *Native) napDue(timeout time.Duration) bool {
	if !canNap || timeout == 0 || (timeout > 0 && timeout < napFor) {
		return false
	}
	return e.lastN > 0 && e.lastN < napBelow && e.hotLast >= napHot
}

// nap yields the P and the core, and sleeps napFor if nobody took either.
func (e *Native) nap() {
	e.naps++
	t := time.Now()
	runtime.Gosched()
	sysYield()
	if time.Since(t) < napYielded {
		sysSleep(napFor)
	}
}

// served counts c among this epoch's sockets, once.
func (e *Native) served(c *nativeConn) {
	if c.epoch != e.epoch {
		c.epoch = e.epoch
		e.hotNow++
	}
}

// tick starts a new epoch when the current one is over. An epoch ends at
// the first Wait after hotEpoch, which may come much later (the loop
// parked), so its count is scaled to one hotEpoch's worth.
func (e *Native) tick(now time.Time) {
	span := now.Sub(e.epochAt)
	if span < hotEpoch {
		return
	}
	e.hotLast = int(int64(e.hotNow) * int64(hotEpoch) / int64(span))
	e.hotNow = 0
	e.epoch++
	e.epochAt = now
}
