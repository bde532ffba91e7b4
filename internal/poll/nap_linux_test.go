package poll

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// Tests of the naps of a busy loop (nap.go).

func TestNapDue(t *testing.T) {
	for _, c := range []struct {
		timeout time.Duration
		lastN   int
		hot     int
		want    bool
	}{
		{-1, 1, napHot, true},
		{-1, napBelow - 1, napHot, true},
		{time.Millisecond, 3, 100, true},
		{napFor, 3, 100, true},
		{0, 3, 100, false},                  // the loop has work: it polls
		{napFor - 1, 3, 100, false},         // a timer is due sooner than a nap
		{-1, 0, 100, false},                 // nothing was ready: the loop is idle
		{-1, napBelow, 100, false},          // the last poll had its batch
		{-1, 3, napHot - 1, false},          // too few sockets busy
		{time.Second, 1, napHot - 1, false}, // the same
	} {
		e := &Native{lastN: c.lastN, hotLast: c.hot}
		if got := e.napDue(c.timeout); got != c.want {
			t.Errorf("timeout %v, last poll %d, %d sockets served: napDue %v, want %v", c.timeout, c.lastN, c.hot, got, c.want)
		}
	}
}

// TestHotEpochs: a socket counts once an epoch however often it is
// served, an epoch ends at the first tick a hotEpoch after it began, and a
// longer epoch's count is scaled to one hotEpoch.
func TestHotEpochs(t *testing.T) {
	t0 := time.Now()
	e := &Native{epoch: 1, epochAt: t0} // as after a Native's first tick
	conns := make([]nativeConn, 40)
	for range 3 {
		for i := range conns {
			e.served(&conns[i])
		}
	}
	e.tick(t0.Add(hotEpoch - time.Microsecond))
	if e.hotNow != 40 || e.hotLast != 0 {
		t.Fatalf("within the epoch: %d served, %d last; want 40, 0", e.hotNow, e.hotLast)
	}
	e.tick(t0.Add(hotEpoch))
	if e.hotNow != 0 || e.hotLast != 40 {
		t.Fatalf("after one epoch: %d served, %d last; want 0, 40", e.hotNow, e.hotLast)
	}
	for i := range conns {
		e.served(&conns[i]) // served last epoch: counted again in this one
	}
	e.tick(t0.Add(3 * hotEpoch)) // an epoch of two hotEpochs
	if e.hotLast != 20 {
		t.Fatalf("40 sockets over two hotEpochs count %d, want 20", e.hotLast)
	}
	e.tick(t0.Add(time.Hour)) // a loop parked for an hour
	if e.hotLast != 0 {
		t.Fatalf("an empty epoch counts %d", e.hotLast)
	}
}

// TestNapOnlyWhenWaitMayBlock: with the counts of a busy loop, a Wait
// that must not block never naps, and one that may does.
func TestNapOnlyWhenWaitMayBlock(t *testing.T) {
	e := testNative(t)
	e.lastN, e.hotLast, e.epochAt = 3, 100, time.Now()
	if err := e.Wait(0); err != nil {
		t.Fatal(err)
	}
	if e.naps != 0 {
		t.Fatalf("Wait(0) napped")
	}
	e.lastN = 3
	if err := e.Wait(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if e.naps != 1 {
		t.Fatalf("Wait(1ms) took %d naps, want 1", e.naps)
	}
}

// TestNapLetsGoroutinesRun: on one P, a goroutine that is ready when the
// loop naps runs during the nap, not after it.
func TestNapLetsGoroutinesRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	e := &Native{}
	var ran atomic.Bool
	go ran.Store(true)
	e.nap()
	if !ran.Load() {
		t.Fatal("the ready goroutine did not run during the nap")
	}
}

// TestNapsWhenManySocketsAreBusy: 64 sockets each making round trips with
// an echoing peer make the loop nap, and no byte is lost to a nap; 4
// sockets making as many never do.
func TestNapsWhenManySocketsAreBusy(t *testing.T) {
	for _, c := range []struct {
		socks    int
		wantNaps bool
	}{{64, true}, {4, false}} {
		t.Run(fmt.Sprint(c.socks), func(t *testing.T) {
			e := testNative(t)
			socks := addSocks(t, e, c.socks)
			const rounds = 200
			left := 0
			done := make([]int, len(socks))
			for i, s := range socks {
				go echo(s.peer)
				s.h.keep = false
				s.h.onRead = func(p []byte) {
					for _, b := range p {
						if int(b) != done[i]%256 {
							t.Errorf("socket %d, round trip %d: echo %d", i, done[i], b)
						}
						done[i]++
					}
					// Round trips go on past the count until a nap is seen,
					// for the 64 sockets; the 4 stop at the count.
					if done[i] == rounds {
						left--
					}
					if done[i] < rounds || (c.wantNaps && e.naps == 0) {
						s.c.Write([]byte{byte(done[i])})
					}
				}
				left++
				s.c.Write([]byte{0})
			}
			waitFor(t, e, "the round trips", func() bool { return left == 0 && (!c.wantNaps || e.naps > 0) })
			if c.wantNaps && e.naps == 0 {
				t.Fatal("no nap")
			}
			if !c.wantNaps && e.naps != 0 {
				t.Fatalf("%d sockets took %d naps", c.socks, e.naps)
			}
		})
	}
}
